#pragma once
// Private to the tokenizer: UTF-8 <-> code points exactly as llama.cpp's unicode.cpp converts
// them, and the code point classes its pre-tokenizers test (\p{L}, \p{N}, \s).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace parity::tok {

enum class UnicodeClass : std::uint8_t { Other, Letter, Number };

/// Code points first..last (inclusive) all have class `cls`.
struct CategoryRange {
    char32_t first;
    char32_t last;
    UnicodeClass cls;
};

/// Sorted, disjoint ranges of letters (general category L*) and numbers (N*); every code point
/// outside them is Other. Generated table (tokenizer_unicode_table.cpp, Unicode 14.0).
std::span<const CategoryRange> category_ranges() noexcept;

UnicodeClass unicode_class(char32_t cp) noexcept;
inline bool is_letter(char32_t cp) noexcept { return unicode_class(cp) == UnicodeClass::Letter; }
inline bool is_number(char32_t cp) noexcept { return unicode_class(cp) == UnicodeClass::Number; }

/// Unicode White_Space, the set llama.cpp uses for \s: U+0009..U+000D, U+0020, U+0085, U+00A0,
/// U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool is_whitespace(char32_t cp) noexcept;

/// Code points of `text`, decoded as llama.cpp's unicode_cpts_from_utf8: lenient about overlong
/// forms and surrogates, and every byte that does not start a complete sequence becomes one
/// U+FFFD. Code points above U+10FFFF (lead bytes F4..F7) are returned as decoded.
std::u32string decode_utf8(std::string_view text);

/// Appends `cp` as UTF-8. Throws UsageError for a code point above U+10FFFF (llama.cpp cannot
/// encode those either).
void append_utf8(std::string& out, char32_t cp);

}  // namespace parity::tok
