#pragma once
// Private to the tokenizer: cutting text at special tokens before pre-tokenization.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parity::tok {

/// Either a special token or a stretch of text [offset, offset + length) still to be tokenized.
struct Fragment {
    std::int32_t token = -1;  ///< -1 for text
    std::size_t offset = 0;
    std::size_t length = 0;
    bool is_text() const noexcept { return token < 0; }
};

/// A special token's id, its text as it appears in input, and llama.cpp's LSTRIP/RSTRIP
/// attributes (whitespace before / after a match is dropped).
struct SpecialToken {
    std::int32_t id;
    std::string text;
    bool lstrip = false;
    bool rstrip = false;
};

/// llama.cpp's tokenizer_st_partition: for each special token in the given order (longest text
/// first), every remaining text fragment is cut at each leftmost non-overlapping occurrence of
/// its text. Whitespace is C isspace (space, \t, \n, \v, \f, \r), stripped only within the
/// fragment being cut.
std::vector<Fragment> partition_special(std::string_view text, const std::vector<SpecialToken>& specials);

}  // namespace parity::tok
