#pragma once
// GGUF metadata values as JSON (numbers stay numbers, arrays nest; NaN/Inf become null
// because JSON has no spelling for them).

#include <nlohmann/json.hpp>

#include "engine/format/gguf.h"

namespace parity::cli {

nlohmann::json to_json(const gguf::Value& v);

/// Text rendering for `pv inspect`: strings quoted, arrays abbreviated to their first
/// `max_items` items (all of them when max_items == 0).
std::string to_text(const gguf::Value& v, std::size_t max_items);

/// The same rendering for a JSON value (APR metadata).
std::string to_text(const nlohmann::ordered_json& v, std::size_t max_items);

}  // namespace parity::cli
