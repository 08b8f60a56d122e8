#pragma once
// Private: parsing the APR metadata JSON and reading typed values out of it.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/format/apr.h"

namespace parity::apr::detail {

/// Nesting deeper than this is rejected (real files use 2 levels).
inline constexpr int kMaxJsonDepth = 64;

/// Parses the metadata text found at file offset `base`. The result is a JSON object without
/// duplicate keys at any level; anything else throws FormatError (a syntax error at the byte
/// where the parser stopped).
Json parse_metadata(std::string_view text, const std::string& file, std::uint64_t base);

/// True when the metadata carries a tokenizer: a non-null `tokenizer` value or a
/// `tokenizer.vocabulary` key (what the writer's HAS_VOCAB flag means).
bool has_tokenizer(const Json& metadata) noexcept;

}  // namespace parity::apr::detail
