#pragma once
// The model's tokenizer, built from the file's metadata (TokenizerData), reproducing llama.cpp's
// llama_tokenize (commit d32676d) for two vocabulary types:
//   tokenizer.ggml.model = gpt2   byte-level BPE with a pre-tokenizer (qwen2, llama3, ...);
//   tokenizer.ggml.model = llama  SentencePiece pieces merged by score, with byte fallback.
//
// What encode() does, in llama.cpp's order:
//  1. Special tokens. Tokens of type control (3), user-defined (4) and unknown (2) are cut out of
//     the text where they occur verbatim, longest token text first, leftmost occurrence first
//     (llama.cpp's tokenizer_st_partition with parse_special = true, what `llama-tokenize` does).
//     With parse_special = false only user-defined tokens are cut out. As in llama.cpp, tokens
//     whose text is an end-of-generation marker ("<|im_end|>", "<|eot_id|>", "</s>", ..., see
//     is_eog) count as control tokens whatever their stored type. When general.name contains
//     "phi3" or "phi-3" (any case), every special token except <unk>, <s> and <|endoftext|>
//     right-strips: whitespace (C isspace) after it is dropped, as llama.cpp's RSTRIP attribute.
//  2. gpt2 models. Each remaining text fragment is pre-tokenized into words by the `pre` rule:
//       qwen2      (also "deepseek-r1-qwen", "stablelm2", "megrez"): Qwen2's regex, one digit per word;
//       llama-bpe  (also "llama3", "llama-v3", "falcon3", "pixtral", "dbrx", "smaug-bpe"): the
//                  Llama-3 regex, up to three digits per word.
//     Text is decoded as llama.cpp decodes UTF-8: each byte that does not start a complete
//     sequence becomes U+FFFD (so invalid UTF-8 is tokenized as U+FFFD, not as its bytes).
//     Each word's bytes become GPT-2 alphabet symbols, merged lowest merge rank first (leftmost
//     first among equal ranks) until no merge applies; each symbol is a token. For the llama3
//     family (not dbrx/smaug-bpe) a word that is itself a token is taken whole first (llama.cpp's
//     ignore_merges).
//  3. llama models (llm_tokenizer_spm). A text fragment that is the first of the text or follows
//     a special token gets a leading space when add_space_prefix is set (tokenizer.ggml.
//     add_space_prefix, default true); spaces become U+2581 (▁); no other normalization. The
//     fragment is cut into UTF-8 characters (by lead byte; stray bytes alone), then the adjacent
//     pair whose concatenation is a token with the highest score (tokenizer.ggml.scores, all 0
//     when absent) is merged, leftmost first among equal scores, until no pair is a token. A
//     piece left that is not a token becomes one token per byte: "<0xNN>", else the byte's
//     one-character token, else <unk>.
//  4. With add_special, BOS is prepended when the model's add_bos flag says so and EOS appended
//     when add_eos does (tokenizer.ggml.add_eos_token). SentencePiece files without bos, eos or
//     unknown token ids get llama.cpp's defaults 1, 2 and 0.
//
// decode()/piece() follow llama_token_to_piece: normal tokens are mapped back from the GPT-2
// alphabet to bytes (gpt2) or have ▁ turned back into spaces (llama); byte tokens of llama models
// are their byte; control, unknown and user-defined tokens are their text verbatim (control and
// unknown ones only with special = true); other types (unused, undefined, byte tokens of gpt2
// models) render as nothing. decode() is llama_detokenize without removing BOS/EOS: the pieces
// concatenated, and with add_space_prefix one leading space of the first token's piece dropped
// (nothing dropped when the first token is BOS or another special token, as in llama.cpp). So
// decode(encode(s, false)) == s for valid UTF-8 s without special token texts; with BOS, decode
// gives "<s> " + s for an SPM model that adds the space prefix.
//
// Known differences from llama.cpp:
//  - \p{L} / \p{N} come from a Unicode 14.0 table (engine/src/tokenizer/unicode_table.cpp);
//    llama.cpp's table is from a later Unicode version, so text with code points assigned after
//    14.0 may be split differently.
//  - A BPE piece that is not in the vocabulary (possible only with an incomplete byte-level
//    vocabulary) throws UsageError; llama.cpp silently emits the single-byte tokens it finds.
//    An SPM byte without any token falls back to <unk> (llama.cpp throws); with no <unk> either
//    encode() throws UsageError.
//  - TokenizerData cannot tell an absent add_bos_token key from `false`; llama.cpp then defaults
//    to true for the llama3 family and for SentencePiece models. Absent or out-of-range bos/eos
//    ids of gpt2 models are -1 here (llama.cpp falls back to id 11 for BPE vocabularies).
//  - No add_sep, and only the Phi-3 RSTRIP rule of llama.cpp's per-model attributes (not the
//    LSTRIP of jina-v2 / modern-bert <mask> tokens). Fill-in-the-middle pad/repo/separator texts
//    all end generation here; llama.cpp takes one token of each kind.
//  - Special tokens of equal text length are tried in id order (llama.cpp's std::sort leaves
//    their order unspecified; it matters only when two such texts overlap in the input).
//  - decode() does not apply llama.cpp's clean_spaces post-processing (" ," -> "," etc., which
//    llama_detokenize does for llama-bpe); a normal token holding characters outside the GPT-2
//    alphabet decodes them verbatim where llama.cpp writes "[UNK_BYTE_0x..]". A byte-type token
//    of a llama model whose text is not "<0xNN>" is rejected (UsageError) at construction.
//  - Empty token texts are renamed "[EMPTY_<id>]" as llama.cpp does; for duplicate token texts
//    the last id wins in text lookups (llama.cpp d32676d refuses such vocabularies).

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
    /// Builds the tokenizer. Throws UsageError when the model is not "gpt2" or "llama", a gpt2
    /// model's pre-tokenizer is missing or not one of those listed above, token_types or scores
    /// do not cover every token, or add_bos / add_eos is set without a valid bos / eos id.
    explicit Tokenizer(const TokenizerData& data);

    /// Token ids of `text`. add_special: prepend BOS / append EOS when the model adds them. parse_special:
    /// match control tokens written in the text (see above).
    std::vector<std::int32_t> encode(std::string_view text, bool add_special = true, bool parse_special = true) const;

    /// The bytes the ids stand for (concatenated pieces, see above for the first token's space).
    /// special = false drops control and unknown tokens. Throws UsageError for an id outside [0, n_vocab()).
    std::string decode(std::span<const std::int32_t> ids, bool special = true) const;

    /// The bytes of one token (special = true rendering); may be part of a UTF-8 sequence.
    /// Throws UsageError for an id outside [0, n_vocab()).
    std::string piece(std::int32_t id) const;

    /// The token's text as the vocabulary stores it (GPT-2 alphabet or ▁ for spaces).
    const std::string& token_text(std::int32_t id) const;

    std::int32_t n_vocab() const noexcept;
    std::int32_t bos() const noexcept;  ///< -1 when the model has none
    std::int32_t eos() const noexcept;  ///< -1 when the model has none
    bool add_bos() const noexcept;
    bool add_eos() const noexcept;
    /// SentencePiece's leading space before the text (and after each special token).
    bool add_space_prefix() const noexcept;
    /// The pre-tokenizer name as the file gives it ("qwen2", "llama-bpe", ...; unused by llama models).
    const std::string& pre() const noexcept;

    /// End of generation: eos, and tokens whose text is one of llama.cpp's end markers
    /// ("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    /// "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    /// "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "[e~[",
    /// "<｜end▁of▁sentence｜>") or fill-in-the-middle pad/repo/file-separator tokens
    /// ("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>",
    /// "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>"). As in llama.cpp, <|end|> is not EOG
    /// next to <|return|>/<|call|> or <|calls|>/<|flush|> (it is user-defined then), nor </s>
    /// next to <|tool_response> (it is normal then); <|channel|>, <|message|>, <|start|> and
    /// <|constrain|> are user-defined.
    bool is_eog(std::int32_t id) const noexcept;
    /// Control or unknown type (rendered only with special = true), after the EOG override.
    bool is_control(std::int32_t id) const noexcept;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;  // immutable after construction; copies share it
};

}  // namespace parity
