#pragma once
// The model's tokenizer: GPT-2 byte-level BPE built from the file's metadata (TokenizerData),
// reproducing llama.cpp's llama_tokenize (commit c392e50) for `tokenizer.ggml.model = gpt2`.
//
// What encode() does, in llama.cpp's order:
//  1. Special tokens. Tokens of type control (3), user-defined (4) and unknown (2) are cut out of
//     the text where they occur verbatim, longest token text first, leftmost occurrence first
//     (llama.cpp's tokenizer_st_partition with parse_special = true, what `llama-tokenize` does).
//     With parse_special = false only user-defined tokens are cut out. As in llama.cpp, tokens
//     whose text is an end-of-generation marker ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", ...,
//     see is_eog) count as control tokens whatever their stored type.
//  2. Pre-tokenization of each remaining text fragment into words by the `pre` rule:
//       qwen2      (also "deepseek-r1-qwen", "stablelm2", "megrez"): Qwen2's regex, one digit per word;
//       llama-bpe  (also "llama3", "llama-v3", "falcon3", "pixtral", "dbrx", "smaug-bpe"): the
//                  Llama-3 regex, up to three digits per word.
//     Text is decoded as llama.cpp decodes UTF-8: each byte that does not start a complete
//     sequence becomes U+FFFD (so invalid UTF-8 is tokenized as U+FFFD, not as its bytes).
//  3. BPE: each word's bytes become GPT-2 alphabet symbols, merged lowest merge rank first
//     (leftmost first among equal ranks) until no merge applies; each symbol is a token. For the
//     llama3 family (not dbrx/smaug-bpe) a word that is itself a token is taken whole first
//     (llama.cpp's ignore_merges).
//  4. With add_special, BOS is prepended when the model's add_bos flag says so.
//
// decode()/piece() follow llama_token_to_piece: normal tokens are mapped back from the GPT-2
// alphabet to bytes; control, unknown and user-defined tokens are their text verbatim (control
// and unknown ones only with special = true); other types (unused, byte) render as nothing.
// decode() is plain concatenation, so decode(encode(s, false)) == s for valid UTF-8 s.
//
// Known differences from llama.cpp:
//  - \p{L} / \p{N} come from a Unicode 14.0 table (engine/src/tokenizer/unicode_table.cpp);
//    llama.cpp's table is from a later Unicode version, so text with code points assigned after
//    14.0 may be split differently.
//  - A BPE piece that is not in the vocabulary (possible only with an incomplete byte-level
//    vocabulary) throws UsageError; llama.cpp silently emits the single-byte tokens it finds.
//  - TokenizerData cannot tell an absent add_bos_token key from `false`; llama.cpp then defaults
//    to true for the llama3 family. Absent or out-of-range bos/eos ids are -1 here (llama.cpp
//    falls back to id 11 for BPE vocabularies).
//  - No add_eos / add_sep (TokenizerData does not carry them) and no LSTRIP/RSTRIP attributes.
//  - Special tokens of equal text length are tried in id order (llama.cpp's std::sort leaves
//    their order unspecified; it matters only when two such texts overlap in the input).
//  - decode() does not apply llama.cpp's clean_spaces post-processing (" ," -> "," etc., which
//    llama_detokenize does for llama-bpe); a normal token holding characters outside the GPT-2
//    alphabet decodes them verbatim where llama.cpp writes "[UNK_BYTE_0x..]".
//  - Empty token texts are renamed "[EMPTY_<id>]" as llama.cpp does; for duplicate token texts
//    the last id wins in text lookups.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model_file.h"

namespace parity {

class Tokenizer {
public:
    /// Builds the tokenizer. Throws UsageError when the model is not "gpt2", the pre-tokenizer is
    /// missing or not one of those listed above, token_types does not cover every token, or
    /// add_bos is set without a valid bos id.
    explicit Tokenizer(const TokenizerData& data);

    /// Token ids of `text`. add_special: prepend BOS when the model adds it. parse_special:
    /// match control tokens written in the text (see above).
    std::vector<std::int32_t> encode(std::string_view text, bool add_special = true, bool parse_special = true) const;

    /// The bytes the ids stand for (concatenated pieces). special = false drops control and
    /// unknown tokens. Throws UsageError for an id outside [0, n_vocab()).
    std::string decode(std::span<const std::int32_t> ids, bool special = true) const;

    /// The bytes of one token (special = true rendering); may be part of a UTF-8 sequence.
    /// Throws UsageError for an id outside [0, n_vocab()).
    std::string piece(std::int32_t id) const;

    /// The token's text as the vocabulary stores it (GPT-2 alphabet for normal tokens).
    const std::string& token_text(std::int32_t id) const;

    std::int32_t n_vocab() const noexcept;
    std::int32_t bos() const noexcept;  ///< -1 when the model has none
    std::int32_t eos() const noexcept;  ///< -1 when the model has none
    bool add_bos() const noexcept;
    /// The pre-tokenizer name as the file gives it ("qwen2", "llama-bpe", ...).
    const std::string& pre() const noexcept;

    /// End of generation: eos, and tokens whose text is one of llama.cpp's end markers
    /// ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    /// "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>") or fill-in-the-middle pad/repo/file-separator
    /// tokens ("<|fim_pad|>", "<fim-pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
    /// "<REPO>", "<|file_sep|>").
    bool is_eog(std::int32_t id) const noexcept;
    /// Control or unknown type (rendered only with special = true), after the EOG override.
    bool is_control(std::int32_t id) const noexcept;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;  // immutable after construction; copies share it
};

}  // namespace parity
