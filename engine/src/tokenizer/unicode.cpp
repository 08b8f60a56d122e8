#include "unicode.h"

#include <algorithm>

#include "engine/error.h"

namespace parity::tok {

UnicodeClass unicode_class(char32_t cp) noexcept {
    if (cp < 0x80) {
        if (cp >= '0' && cp <= '9') return UnicodeClass::Number;
        if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) return UnicodeClass::Letter;
        return UnicodeClass::Other;
    }
    const auto ranges = category_ranges();
    // First range whose last code point is >= cp.
    const auto it = std::lower_bound(ranges.begin(), ranges.end(), cp,
                                     [](const CategoryRange& r, char32_t c) { return r.last < c; });
    return (it != ranges.end() && it->first <= cp) ? it->cls : UnicodeClass::Other;
}

bool is_whitespace(char32_t cp) noexcept {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    switch (cp) {
        case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

std::u32string decode_utf8(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    const std::size_t n = text.size();
    auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i])); };
    auto cont = [&](std::size_t i) { return i < n && (byte(i) & 0xC0) == 0x80; };
    std::size_t i = 0;
    while (i < n) {
        const std::uint32_t b0 = byte(i);
        if ((b0 & 0x80) == 0) {
            out.push_back(b0);
            i += 1;
        } else if ((b0 & 0x40) == 0) {  // a continuation byte cannot start a sequence
            out.push_back(0xFFFD);
            i += 1;
        } else if ((b0 & 0x20) == 0) {
            if (cont(i + 1)) {
                out.push_back(((b0 & 0x1F) << 6) | (byte(i + 1) & 0x3F));
                i += 2;
            } else {
                out.push_back(0xFFFD);
                i += 1;
            }
        } else if ((b0 & 0x10) == 0) {
            if (cont(i + 1) && cont(i + 2)) {
                out.push_back(((b0 & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F));
                i += 3;
            } else {
                out.push_back(0xFFFD);
                i += 1;
            }
        } else if ((b0 & 0x08) == 0) {
            if (cont(i + 1) && cont(i + 2) && cont(i + 3)) {
                out.push_back(((b0 & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) | ((byte(i + 2) & 0x3F) << 6) |
                              (byte(i + 3) & 0x3F));
                i += 4;
            } else {
                out.push_back(0xFFFD);
                i += 1;
            }
        } else {
            out.push_back(0xFFFD);
            i += 1;
        }
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp <= 0x10FFFF) {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        throw UsageError("tokenizer: text holds a UTF-8 sequence for code point U+" + [cp] {
            static const char* hex = "0123456789ABCDEF";
            std::string s;
            for (int shift = 20; shift >= 0; shift -= 4) s += hex[(cp >> shift) & 0xF];
            return s;
        }() + ", above U+10FFFF");
    }
}

}  // namespace parity::tok
