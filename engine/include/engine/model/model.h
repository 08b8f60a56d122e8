#pragma once
// A decoder-only LLaMA-family transformer (architectures `qwen2` and `llama`) read from a GGUF or
// APR file: hyper-parameters from the metadata (ModelFile::config) and views of the weights.
//
// Graph (llama.cpp's build_llama / build_qwen2), per layer i, x the residual stream [n_embd]:
//   h   = RMSNorm(x, eps) * blk.i.attn_norm.weight
//   q,k,v = h · attn_{q,k,v}.weight^T (+ attn_{q,k,v}.bias when present), RoPE on q and k
//   x   = x + attn_output.weight · Attention(q, k, v)     (GQA: query head h reads kv head
//                                                          h / (n_head / n_head_kv))
//   h   = RMSNorm(x, eps) * ffn_norm.weight
//   x   = x + ffn_down · (silu(ffn_gate · h) * (ffn_up · h))
// then logits = output · (RMSNorm(x) * output_norm.weight), where `output` is token_embd when
// the model is tied (no output.weight). llama: an optional rope_freqs.weight [head_dim/2]
// (Llama 3.1's rope scaling) divides each pair's rope frequency (engine/model/rope.h).
//
// Nothing that would change the math goes unnoticed: load() refuses, naming it, any tensor the
// graph does not read and any {arch}.* metadata key it does not understand (understood.h).
//
// Weights stay in their stored type and in the file's memory mapping; a backend decides how to
// use them (the CPU backend's `dequant` policy converts them to f32 once per session). Tensors in
// an encoding without a ggml dot product (APR's AprQ4/AprQ8, or ggml types the CPU cannot
// multiply) are dequantized to f32 at load. Norm weights and biases are always held as f32.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/quant/ggml_type.h"
#include "engine/model/model_file.h"

namespace parity {

/// A 2-D weight as ggml lays it out: n_out rows of n_in values (ne = [n_in, n_out]), row r at
/// data + r * row_bytes. y = W · x means y[r] = dot(row r, x).
struct WeightMatrix {
    std::string name;
    GgmlType type = GgmlType::F32;
    std::int64_t n_in = 0;   ///< ne[0]
    std::int64_t n_out = 0;  ///< ne[1]
    std::span<const std::byte> data;

    std::size_t row_bytes() const noexcept { return row_size(type, n_in); }
    std::span<const std::byte> row(std::int64_t r) const noexcept {
        return data.subspan(static_cast<std::size_t>(r) * row_bytes(), row_bytes());
    }
};

struct LayerWeights {
    std::vector<float> attn_norm;  ///< [n_embd]
    WeightMatrix wq;               ///< [n_embd -> n_head * head_dim]
    WeightMatrix wk;               ///< [n_embd -> n_head_kv * head_dim]
    WeightMatrix wv;               ///< [n_embd -> n_head_kv * head_dim]
    std::vector<float> bq, bk, bv;  ///< biases; empty when the file has none
    WeightMatrix wo;               ///< [n_head * head_dim -> n_embd]
    std::vector<float> ffn_norm;   ///< [n_embd]
    WeightMatrix ffn_gate;         ///< [n_embd -> n_ff]
    WeightMatrix ffn_up;           ///< [n_embd -> n_ff]
    WeightMatrix ffn_down;         ///< [n_ff -> n_embd]
};

class Model {
public:
    /// Opens `path` (GGUF or APR) and checks that it is a supported architecture with every
    /// tensor of the right shape. Throws IoError / FormatError (the file), or UsageError naming
    /// the file and the unsupported architecture, missing tensor or bad shape.
    static Model load(const std::string& path);

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    const ModelConfig& config() const noexcept { return config_; }
    const ModelFile& file() const noexcept { return *file_; }
    const std::string& path() const noexcept { return file_->path(); }

    /// [n_embd -> n_vocab] rows are the token embeddings.
    const WeightMatrix& token_embd() const noexcept { return token_embd_; }
    const std::vector<float>& output_norm() const noexcept { return output_norm_; }
    /// The output projection: output.weight, or token_embd when tied.
    const WeightMatrix& output() const noexcept { return config_.tied ? token_embd_ : output_; }
    const std::vector<LayerWeights>& layers() const noexcept { return layers_; }
    /// rope_freqs.weight: head_dim/2 per-pair frequency divisors, empty when the file has none.
    const std::vector<float>& rope_freqs() const noexcept { return rope_freqs_; }

    int q_dim() const noexcept { return config_.n_head * config_.head_dim; }
    int kv_dim() const noexcept { return config_.n_head_kv * config_.head_dim; }

    /// The architectures load() accepts.
    static const std::vector<std::string>& supported_architectures();

private:
    Model() = default;
    WeightMatrix matrix(const std::string& name, std::int64_t n_in, std::int64_t n_out);
    std::vector<float> vector(const std::string& name, std::int64_t n, bool required);

    std::unique_ptr<ModelFile> file_;
    ModelConfig config_;
    WeightMatrix token_embd_;
    WeightMatrix output_;
    std::vector<float> output_norm_;
    std::vector<LayerWeights> layers_;
    std::vector<float> rope_freqs_;
    std::vector<std::string> read_;  ///< names of the tensors the graph reads
    std::vector<std::vector<float>> converted_;  ///< f32 copies of tensors dequantized at load
};

}  // namespace parity
