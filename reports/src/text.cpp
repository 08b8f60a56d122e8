#include "reports/text.h"

#include <charconv>
#include <cmath>
#include <cstddef>

namespace parity::reports {

namespace {

/// Significant digits in a number printed by to_chars ("0.00123" -> 3, "1.5e+20" -> 2).
int significant_digits(std::string_view printed) {
    int digits = 0;
    bool leading = true;
    for (char c : printed) {
        if (c == 'e') break;
        if (c < '0' || c > '9') continue;
        if (leading && c == '0') continue;
        leading = false;
        ++digits;
    }
    return digits;
}

/// One step of UTF-8 decoding at `text[i]`: the code point and its length, or (ok = false) the
/// length of the maximal ill-formed subpart starting there (at least 1).
struct Decoded {
    char32_t code_point = 0;
    std::size_t length = 1;
    bool ok = false;
};

Decoded decode_utf8(std::string_view text, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) return {b0, 1, true};
    std::size_t trail = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (RFC 3629 table)
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        trail = 1;
        cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        trail = 2;
        cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;  // no overlongs
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        trail = 3;
        cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;  // no overlongs
        if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return {0, 1, false};  // continuation byte, C0/C1 overlong lead, F5..FF
    }
    for (std::size_t j = 1; j <= trail; ++j) {
        if (i + j >= text.size()) return {0, j, false};
        const auto b = static_cast<unsigned char>(text[i + j]);
        if (b < lo || b > hi) return {0, j, false};
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    return {cp, trail + 1, true};
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// Walks `text` as UTF-8, appending valid code points accepted by `keep` and U+FFFD for
/// ill-formed bytes.
template <typename Keep>
std::string clean(std::string_view text, Keep keep) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const Decoded d = decode_utf8(text, i);
        if (!d.ok) {
            out += kReplacement;
        } else if (keep(d.code_point)) {
            out.append(text.substr(i, d.length));
        }
        i += d.length;
    }
    return out;
}

}  // namespace

std::string format_number(double v, int max_digits) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    std::string shortest(buf, res.ptr);
    if (max_digits <= 0 || significant_digits(shortest) <= max_digits) return shortest;
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, max_digits);
    return std::string(buf, res.ptr);
}

std::string to_valid_utf8(std::string_view text) {
    return clean(text, [](char32_t) { return true; });
}

std::string to_xml_chars(std::string_view text) {
    return clean(text, [](char32_t c) { return is_xml_char(c); });
}

std::string escape_xml(std::string_view text, bool attribute) {
    const std::string chars = to_xml_chars(text);
    std::string out;
    out.reserve(chars.size() + chars.size() / 8);
    for (char c : chars) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            case '\t': out += attribute ? "&#9;" : "\t"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            case '\r': out += "&#13;"; break;  // a raw CR would be read back as LF
            default: out += c; break;
        }
    }
    return out;
}

}  // namespace parity::reports
