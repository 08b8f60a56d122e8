#pragma once
// JSON report: the whole RunReport, schema "parity-report/1" (documented in docs/reports.md).

#include <ostream>
#include <string_view>

#include "reports/result.h"

namespace parity::reports {

/// The value of the top-level "schema" key. A change that renames or removes a key, or changes
/// a value's meaning, bumps the number; adding keys does not.
inline constexpr std::string_view kJsonSchema = "parity-report/1";

/// Writes `report` as one JSON document (UTF-8, indented, trailing newline). Numbers are exact
/// (they read back bit for bit); NaN and ±infinity, which JSON cannot spell, are the strings
/// "NaN", "Infinity" and "-Infinity" (the protobuf JSON convention); bounds that do not apply
/// are null. Invalid UTF-8 in any text becomes U+FFFD.
void write_json(const RunReport& report, std::ostream& out);

}  // namespace parity::reports
