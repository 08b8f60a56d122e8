#pragma once
// Text helpers shared by the report writers: how a number is printed, how arbitrary bytes become
// valid UTF-8, and how text is made safe for XML/HTML. Every writer goes through these, so a
// hostile test id or message (control characters, invalid UTF-8, "]]>", quotes) cannot break a
// report.

#include <string>
#include <string_view>

namespace parity::reports {

/// A number for people: the shortest text that reads back as exactly `v`, unless that needs more
/// than `max_digits` significant digits, in which case `v` rounded to `max_digits` (like %.8g).
/// Non-finite values are "nan", "inf" and "-inf". Never depends on the locale.
std::string format_number(double v, int max_digits = 8);

/// `text` as valid UTF-8: every maximal ill-formed subsequence (stray continuation byte,
/// truncated or overlong sequence, encoded surrogate, code point above U+10FFFF) becomes one
/// U+FFFD, as the Unicode standard recommends. Valid text is returned unchanged.
std::string to_valid_utf8(std::string_view text);

/// True for the code points XML 1.0 allows in a document: #x9 #xA #xD [#x20-#xD7FF]
/// [#xE000-#xFFFD] [#x10000-#x10FFFF].
constexpr bool is_xml_char(char32_t c) noexcept {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

/// `text` made valid UTF-8 (to_valid_utf8), with every code point XML 1.0 does not allow
/// (C0 controls other than tab, LF and CR; U+FFFE; U+FFFF) dropped.
std::string to_xml_chars(std::string_view text);

/// Escapes text for XML and HTML element content or a double-quoted attribute value: the text
/// goes through to_xml_chars, then & < > " ' become entities and CR becomes &#13; (a parser
/// would read a raw CR back as LF). With `attribute` true, tab and LF become character
/// references too, so attribute-value normalization keeps them.
std::string escape_xml(std::string_view text, bool attribute = false);

}  // namespace parity::reports
