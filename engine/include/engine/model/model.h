#pragma once
// A decoder-only transformer of one of the families in engine/model/family.h, read from a GGUF
// or APR file: hyper-parameters from the metadata (ModelFile::config) and views of the weights.
//
// Graph (llama.cpp's builders of the same names), per layer i, x the residual stream [n_embd]:
//   h   = RMSNorm(x, eps) * blk.i.attn_norm.weight
//   q,k,v = h · attn_{q,k,v}.weight^T (+ attn_{q,k,v}.bias when present; phi3: rows of attn_qkv)
//   q,k = RMSNorm per head * attn_{q,k}_norm (qwen3, qwen3moe, gemma3), then RoPE
//   a   = attn_output.weight · Attention(q, k, v)   (GQA: query head h reads kv head
//                                                    h / (n_head / n_head_kv); gemma3's local
//                                                    layers see the last sliding_window keys)
//   x   = x + a                 (gemma3: x + RMSNorm(a) * post_attention_norm)
//   h   = RMSNorm(x, eps) * ffn_norm.weight
//   f   = ffn_down · (act(ffn_gate · h) * (ffn_up · h))   act = silu, or gelu for gemma3;
//         phi3: gate and up are the two halves of ffn_up; qwen3moe: the weighted sum of the
//         top-k routed experts (ffn_gate_inp router, ffn_{gate,up,down}_exps)
//   x   = x + f                 (gemma3: x + RMSNorm(f) * post_ffw_norm)
// then logits = output · (RMSNorm(x) * output_norm.weight), where `output` is token_embd when
// the model is tied (no output.weight). llama: an optional rope_freqs.weight [head_dim/2]
// (Llama 3.1's rope scaling) divides each pair's rope frequency (engine/model/rope.h).
//
// Nothing that would change the math goes unnoticed: load() refuses, naming it, any tensor the
// graph does not read and any {arch}.* metadata key it does not understand (understood.h).
//
// Weights stay in their stored type and in the file's memory mapping; a backend decides how to
// use them (the CPU backend's `dequant` policy converts them to f32 once per session). Fused
// tensors (phi3's attn_qkv and ffn_up, qwen3moe's expert stacks) are split into views of their
// rows, without copying. Tensors in an encoding without a ggml dot product (APR's AprQ4/AprQ8, or
// ggml types the CPU cannot multiply) are dequantized to f32 at load. Norm weights and biases
// are always held as f32.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/quant/ggml_type.h"
#include "engine/model/family.h"
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
    std::vector<float> q_norm, k_norm;  ///< [head_dim]; empty unless the family has q/k norms
    std::vector<float> post_attn_norm;  ///< [n_embd]; empty unless the family has post-norms
    std::vector<float> post_ffn_norm;   ///< [n_embd]
    WeightMatrix router;                ///< MoE: [n_embd -> n_expert]; empty otherwise
    std::vector<WeightMatrix> exp_gate, exp_up;  ///< MoE: per expert [n_embd -> n_ff_expert]
    std::vector<WeightMatrix> exp_down;          ///< MoE: per expert [n_ff_expert -> n_embd]
};

/// One rope cos/sin table (engine/model/rope.h): base and linear frequency scale.
struct RopeSpec {
    float base = 10000.0f;
    float freq_scale = 1.0f;
};

/// How layer i attends, from the family and the hyper-parameters.
struct LayerPlan {
    int window = 0;      ///< keys a query sees, itself included; 0: every earlier position
    int rope_table = 0;  ///< index into Model::rope_tables()
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
    const Family& family() const noexcept { return *family_; }
    const LayerPlan& plan(int layer) const noexcept { return plans_[static_cast<std::size_t>(layer)]; }
    /// The distinct rope tables the layers use (LayerPlan::rope_table indexes it).
    const std::vector<RopeSpec>& rope_tables() const noexcept { return rope_tables_; }
    /// The softmax scale of the attention scores (the family may apply it to q instead).
    float attention_scale() const noexcept { return attention_scale_; }

    int q_dim() const noexcept { return config_.n_head * config_.head_dim; }
    int kv_dim() const noexcept { return config_.n_head_kv * config_.head_dim; }

    /// The architectures load() accepts.
    static const std::vector<std::string>& supported_architectures();

private:
    Model() = default;
    WeightMatrix matrix(const std::string& name, std::int64_t n_in, std::int64_t n_out);
    /// Rows [row0, row0 + n_out) of a matrix, or expert e's slice of a 3-D stack, as a view.
    WeightMatrix matrix_of(const ModelTensor& t, std::int64_t n_in, std::int64_t n_out);
    void plan_layers();
    static WeightMatrix rows_of(const WeightMatrix& w, std::int64_t row0, std::int64_t n_out, const std::string& name);
    std::vector<WeightMatrix> experts(const std::string& name, std::int64_t n_in, std::int64_t n_out, int n_expert);
    std::vector<float> vector(const std::string& name, std::int64_t n, bool required);

    std::unique_ptr<ModelFile> file_;
    ModelConfig config_;
    WeightMatrix token_embd_;
    WeightMatrix output_;
    std::vector<float> output_norm_;
    std::vector<LayerWeights> layers_;
    std::vector<float> rope_freqs_;
    const Family* family_ = nullptr;
    std::vector<LayerPlan> plans_;
    std::vector<RopeSpec> rope_tables_;
    float attention_scale_ = 1.0f;
    std::vector<std::string> read_;  ///< names of the tensors the graph reads
    std::vector<std::vector<float>> converted_;  ///< f32 copies of tensors dequantized at load
};

}  // namespace parity
