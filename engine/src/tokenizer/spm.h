#pragma once
// Private to the tokenizer: SentencePiece-style merging by score, as llama.cpp's
// llm_tokenizer_spm_session does it, and the ▁ escaping around it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parity::tok {

/// Spaces become U+2581 (▁), as llama_escape_whitespace does.
std::string escape_spaces(std::string_view text);
/// U+2581 becomes a space again.
std::string unescape_spaces(std::string_view text);
/// The byte a "<0xNN>" token stands for (either hex case), or -1 when `text` is not of that form.
int parse_byte_token(std::string_view text) noexcept;

class SpmMerger {
public:
    /// `tokens` are the vocabulary texts (ids are indices, the last of duplicates wins);
    /// `scores` one per token, or empty for all 0; `unk` the unknown token or -1.
    /// Throws UsageError when scores does not cover every token.
    SpmMerger(const std::vector<std::string>& tokens, const std::vector<float>& scores, std::int32_t unk);

    /// Appends the tokens of `text` (already escaped). The text is cut into UTF-8 characters
    /// (by lead byte, invalid bytes alone); then the adjacent pair whose concatenation is a token
    /// with the highest score is merged (leftmost first among equal scores) until no pair is a
    /// token. A final piece that is not a token is emitted as its bytes' "<0xNN>" tokens (else
    /// the one-byte text as a token, else unk). Throws UsageError when a byte has none of these.
    void encode(std::string_view text, std::vector<std::int32_t>& out) const;

private:
    std::int32_t find(std::string_view text) const;

    std::unordered_map<std::string, std::int32_t> ids_;
    std::vector<float> scores_;
    std::array<std::int32_t, 256> byte_token_{};  ///< -1 when the byte has no token
    std::int32_t unk_ = -1;
};

}  // namespace parity::tok
