#include "engine/tokenizer/gpt2_bytes.h"

#include "unicode.h"

namespace parity::gpt2 {

namespace {

// Bytes that map to themselves: the printable ranges of Latin-1 except space.
constexpr bool maps_to_itself(unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
    std::array<char32_t, 256> to_cp{};
    std::array<std::uint8_t, 256> order{};
};

const Tables& tables() {
    static const Tables t = [] {
        Tables x;
        int n = 0;
        int k = 0;
        for (unsigned b = 0; b < 256; ++b) {
            if (maps_to_itself(b)) {
                x.to_cp[b] = b;
                x.order[static_cast<std::size_t>(k++)] = static_cast<std::uint8_t>(b);
            }
        }
        for (unsigned b = 0; b < 256; ++b) {
            if (!maps_to_itself(b)) {
                x.to_cp[b] = static_cast<char32_t>(256 + n++);
                x.order[static_cast<std::size_t>(k++)] = static_cast<std::uint8_t>(b);
            }
        }
        return x;
    }();
    return t;
}

}  // namespace

char32_t byte_to_codepoint(std::uint8_t b) noexcept { return tables().to_cp[b]; }

std::string byte_to_utf8(std::uint8_t b) {
    std::string s;
    tok::append_utf8(s, byte_to_codepoint(b));
    return s;
}

std::optional<std::uint8_t> codepoint_to_byte(char32_t cp) noexcept {
    if (cp < 256 && maps_to_itself(static_cast<unsigned>(cp))) return static_cast<std::uint8_t>(cp);
    if (cp >= 256 && cp < 256 + 68) {
        for (unsigned b = 0; b < 256; ++b) {
            if (tables().to_cp[b] == cp) return static_cast<std::uint8_t>(b);
        }
    }
    return std::nullopt;
}

std::string encode_bytes(std::string_view bytes) {
    std::string out;
    for (char c : bytes) tok::append_utf8(out, byte_to_codepoint(static_cast<std::uint8_t>(c)));
    return out;
}

const std::array<std::uint8_t, 256>& vocabulary_byte_order() noexcept { return tables().order; }

}  // namespace parity::gpt2
