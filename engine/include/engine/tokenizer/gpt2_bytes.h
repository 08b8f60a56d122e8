#pragma once
// GPT-2's byte-level BPE alphabet: each of the 256 byte values is written as one printable
// Unicode character (bytes_to_unicode in OpenAI's encoder.py), so that vocabularies and
// merges hold only visible text — a space is "Ġ" (U+0120), a newline "Ċ" (U+010A).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parity::gpt2 {

/// The code point that stands for byte `b`.
char32_t byte_to_codepoint(std::uint8_t b) noexcept;

/// That code point as UTF-8.
std::string byte_to_utf8(std::uint8_t b);

/// The byte a code point stands for, or nullopt when it is not in the alphabet.
std::optional<std::uint8_t> codepoint_to_byte(char32_t cp) noexcept;

/// `bytes` written in the alphabet ("hi there" -> "hiĠthere").
std::string encode_bytes(std::string_view bytes);

/// The 256 byte values in GPT-2's vocabulary order: '!'..'~', '¡'..'¬', '®'..'ÿ', then the
/// remaining bytes ascending. GPT-2-style vocabularies list their byte tokens in this order.
const std::array<std::uint8_t, 256>& vocabulary_byte_order() noexcept;

}  // namespace parity::gpt2
