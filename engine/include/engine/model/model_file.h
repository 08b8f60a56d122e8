#pragma once
// A model file of either format (GGUF or APR, chosen by magic, never by extension) behind one
// interface: tensors with ggml shapes, their bytes and f32 values, the transformer's
// hyper-parameters and the tokenizer. Tensor names are llama.cpp's (token_embd.weight,
// blk.N.attn_q.weight, ...) in both formats.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/format/apr.h"
#include "engine/quant/ggml_type.h"
#include "engine/format/gguf.h"

namespace parity {

enum class ModelFormat { Gguf, Apr };

/// "gguf" or "apr".
std::string_view format_name(ModelFormat f) noexcept;

/// The format of the file at `path`, from its first four bytes. Throws IoError, or
/// FormatError when the magic is neither "GGUF" nor "APR\0".
ModelFormat detect_format(const std::string& path);

/// Rotary embedding layout: NORM rotates adjacent pairs (2i, 2i+1) of each head (llama);
/// NEOX rotates (i, i + head_dim/2) (qwen2). Values are APR's rope_type numbers.
enum class RopeType { Norm = 0, Neox = 2 };

/// A LLaMA-family transformer's hyper-parameters.
struct ModelConfig {
    std::string arch;    ///< "qwen2", "llama", ...
    int n_layers = 0;
    int n_embd = 0;      ///< hidden size
    int n_ff = 0;        ///< feed-forward (intermediate) size
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;    ///< n_embd / n_head
    int n_vocab = 0;
    int n_ctx = 0;       ///< trained context length (0 when the file does not say)
    float rope_base = 10000.0f;
    float rms_eps = 1e-5f;
    RopeType rope = RopeType::Norm;
    bool tied = false;   ///< no output.weight: the output projection is token_embd
    // Family-specific (engine/model/family.h); 0 where the family has no such thing.
    int n_expert = 0;       ///< experts per mixture-of-experts layer
    int n_expert_used = 0;  ///< experts each token is routed to
    int n_ff_expert = 0;    ///< one expert's feed-forward size
    int sliding_window = 0;          ///< keys a local layer's query sees, itself included
    int sliding_window_pattern = 0;  ///< layer il is local unless (il + 1) % pattern == 0
    float rope_base_local = 0.0f;    ///< rope base of the local layers
    float rope_freq_scale = 1.0f;    ///< 1 / rope.scaling.factor of linear rope scaling
};

/// The tokenizer as the file stores it (GGUF tokenizer.ggml.* keys, APR tokenizer object).
struct TokenizerData {
    std::string model;                      ///< "gpt2" (byte-level BPE), ...
    std::string pre;                        ///< pre-tokenizer: "qwen2", "llama-bpe", ...
    std::vector<std::string> tokens;
    std::vector<std::string> merges;        ///< "left right"
    std::vector<std::int32_t> token_types;  ///< 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    std::int64_t bos = -1;                  ///< -1 when absent
    std::int64_t eos = -1;
    std::int64_t padding = -1;
    bool add_bos = false;
    // For SentencePiece ("llama") vocabularies and llama.cpp's per-model token attributes:
    std::vector<float> scores;              ///< tokenizer.ggml.scores, one per token; empty when absent
    std::int64_t unk = -1;                  ///< tokenizer.ggml.unknown_token_id, -1 when absent
    bool add_eos = false;                   ///< tokenizer.ggml.add_eos_token
    std::optional<bool> add_space_prefix;   ///< tokenizer.ggml.add_space_prefix, nullopt when absent
    std::string name;                       ///< general.name ("" when absent)
};

/// A tensor of either format, in ggml terms.
struct ModelTensor {
    std::string name;
    std::optional<GgmlType> type;  ///< nullopt for APR-only encodings (AprQ4, AprQ8, U8)
    std::string type_name;         ///< "Q4_K", "AprQ8", ...
    std::vector<std::int64_t> ne;  ///< ne[0] fastest
    std::uint64_t offset = 0;      ///< from the start of the data section
    std::uint64_t bytes = 0;

    std::int64_t n_elements() const noexcept;
};

class ModelFile {
public:
    /// Opens and validates `path` as GGUF or APR. Throws IoError or FormatError.
    static ModelFile open(const std::string& path);

    ModelFormat format() const noexcept;
    const std::string& path() const noexcept;
    const std::vector<ModelTensor>& tensors() const noexcept { return tensors_; }
    const ModelTensor* find_tensor(std::string_view name) const noexcept;
    /// Throws UsageError naming the file when absent.
    const ModelTensor& tensor(std::string_view name) const;
    std::span<const std::byte> tensor_data(const ModelTensor& t) const;
    /// f32 values, ne[0] fastest. Throws UsageError for a type the engine cannot decode.
    std::vector<float> dequantize(const ModelTensor& t) const;

    /// Hyper-parameters from the metadata. Throws FormatError naming a missing or
    /// ill-typed key.
    ModelConfig config() const;
    /// Tokenizer from the metadata. Throws FormatError when the file has none.
    TokenizerData tokenizer() const;

    /// The underlying file (nullptr when the format is the other one).
    const gguf::File* gguf() const noexcept { return std::get_if<gguf::File>(&file_); }
    const apr::File* apr() const noexcept { return std::get_if<apr::File>(&file_); }

private:
    explicit ModelFile(std::variant<gguf::File, apr::File> file);

    std::variant<gguf::File, apr::File> file_;
    std::vector<ModelTensor> tensors_;
};

}  // namespace parity
