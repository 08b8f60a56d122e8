#pragma once
// Private to the tokenizer: rank-based byte-level BPE merging of one pre-tokenized word, as
// llama.cpp's llm_tokenizer_bpe_session does it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parity::tok {

class BpeMerger {
public:
    /// `merges` are "left right" in priority order (rank = index); `token_ids` maps vocabulary
    /// text to id. Like llama.cpp, a merge is split at its first space after the first byte, a
    /// merge without such a space is ignored, and the first of duplicate merges wins.
    BpeMerger(const std::vector<std::string>& merges, const std::unordered_map<std::string, std::int32_t>& token_ids);

    /// Appends the tokens of `word` (raw bytes; each byte starts as its GPT-2 alphabet symbol).
    /// Repeatedly merges the adjacent pair with the lowest rank (leftmost first among equal
    /// ranks). Throws UsageError when a resulting piece is not in the vocabulary.
    void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

private:
    struct Merge {
        std::int32_t rank;
        std::int32_t result;  ///< symbol id of left+right
    };

    std::int32_t intern(const std::string& text);
    static std::uint64_t pair_key(std::int32_t left, std::int32_t right) noexcept {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
    }

    std::unordered_map<std::string, std::int32_t> symbol_ids_;  ///< symbol text -> symbol id
    std::vector<std::string> symbol_text_;                      ///< symbol id -> text (alphabet-encoded)
    std::vector<std::int32_t> symbol_token_;                    ///< symbol id -> token id, -1 when none
    std::array<std::int32_t, 256> byte_symbol_{};               ///< byte -> symbol id of its alphabet character
    std::unordered_map<std::uint64_t, Merge> merges_;           ///< (left, right) symbol ids -> merge
};

}  // namespace parity::tok
