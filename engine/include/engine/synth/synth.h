#pragma once
// Deterministic synthetic models (`pv synth`): transformers of every family the engine runs
// (engine/model/family.h: qwen2, llama, qwen3, qwen3moe, gemma3, phi3) with seeded weights and a
// real byte-level BPE vocabulary, written as GGUF in any file type, or as APR.
//
// Determinism: every value is a function of (seed, tensor name, row, column) only, so the same
// arguments give the same bytes on every run and machine, rows can be made in parallel, and a
// tensor can be streamed in chunks without holding the model in memory.
//
// Scale: weights are N(0,1)/sqrt(fan_in) (fan_in = ne[0]); attn_output, ffn_down and
// ffn_down_exps are scaled by a further 1/sqrt(n_layers) so the residual stream's variance grows
// by about 2 over the whole depth whatever the depth; the MoE router ffn_gate_inp by 3 (clear
// top-k choices); norms are 1 + N(0,0.05²); biases N(0,0.05²); an untied
// token_embd is N(0,1), a tied one 2/sqrt(n_embd) so that logits have std ≈ 2.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/quant/file_type.h"
#include "engine/model/model_file.h"
#include "engine/progress.h"

namespace parity::synth {

/// Hyper-parameters of a synthetic model (GGUF names in comments). The tensors each family
/// has follow engine/model/model.h: fused attn_qkv and ffn_up of 2·n_ff (phi3), q/k norms
/// (qwen3, qwen3moe, gemma3), post norms (gemma3), a router and 3-D expert stacks
/// [n_in, n_out, n_expert] (qwen3moe), q/k/v biases (qwen2).
struct ModelShape {
    std::string arch = "qwen2";  ///< general.architecture: one of the families
    std::string name;            ///< general.name
    int n_layers = 4;            ///< {arch}.block_count
    int n_embd = 256;            ///< {arch}.embedding_length
    int n_ff = 768;              ///< {arch}.feed_forward_length
    int n_head = 4;              ///< {arch}.attention.head_count
    int n_head_kv = 2;           ///< {arch}.attention.head_count_kv
    int n_head_dim = 0;          ///< {arch}.attention.key_length; 0: n_embd / n_head
    int n_vocab = 1024;          ///< tokens in the vocabulary
    int n_ctx = 256;             ///< {arch}.context_length
    bool tied = false;           ///< no output.weight: logits use token_embd
    float rope_base = 1e6f;      ///< {arch}.rope.freq_base
    float rms_eps = 1e-6f;       ///< {arch}.attention.layer_norm_rms_epsilon
    int n_expert = 0;            ///< {arch}.expert_count (qwen3moe)
    int n_expert_used = 0;       ///< {arch}.expert_used_count
    int n_ff_expert = 0;         ///< {arch}.expert_feed_forward_length
    int sliding_window = 0;      ///< {arch}.attention.sliding_window (gemma3)
    int sliding_window_pattern = 0;  ///< {arch}.attention.sliding_window_pattern
    float rope_base_local = 0.0f;    ///< {arch}.rope.freq_base_swa
    float rope_scale = 1.0f;     ///< {arch}.rope.scaling.factor of linear scaling; 1: none

    int head_dim() const { return n_head_dim > 0 ? n_head_dim : n_embd / n_head; }
    bool has_qkv_bias() const { return arch == "qwen2"; }
};

/// Names of the presets: "tiny" (every family), "bench-1024", "bench-0.5b" (Qwen2.5-0.5B's
/// shapes), "bench-7b" (Qwen2.5-7B's) for qwen2 or llama, and the real shapes of one family
/// each: "llama3-8b" (llama), "qwen3-8b" (qwen3), "qwen3-30b-a3b" (qwen3moe), "gemma3-4b"
/// (gemma3), "phi3-mini" (phi3).
const std::vector<std::string>& preset_names();

/// The architecture a preset is made for ("" for the presets of qwen2 and llama alike).
/// Throws UsageError for unknown names.
std::string_view preset_arch(std::string_view name);

/// A preset for an architecture. Throws UsageError for an unknown architecture or name, or a
/// real-shape preset of another architecture. tiny mirrors the llama.cpp fixtures of each
/// family (tiny-<arch>-ref, with vocab 1024); the bench presets have vocab 32000.
ModelShape preset(std::string_view arch, std::string_view name);

/// Checks a shape (heads divide n_embd, kv heads divide heads, vocab large enough for the
/// byte tokens, ...). Throws UsageError naming the bad field.
void validate(const ModelShape& shape);

/// The model's hyper-parameters as the engine sees them (rope type from the architecture).
ModelConfig to_config(const ModelShape& shape);

/// A GPT-2 byte-level BPE vocabulary of n_vocab tokens: the 256 byte tokens, one token per
/// merge, then three control tokens (the qwen families: <|endoftext|> <|im_start|> <|im_end|>,
/// bos = eos = padding = <|endoftext|>, no BOS added; the others: <|begin_of_text|> = bos,
/// <|end_of_text|> = eos, <|eot_id|>, BOS added). Merges are learned from a built-in English
/// text first, then extended deterministically until the vocabulary is full.
TokenizerData make_vocabulary(const ModelShape& shape);

struct TensorSpec {
    std::string name;
    std::vector<std::int64_t> ne;  ///< ne[0] fastest
};

/// Every tensor of the model, in llama.cpp's order (see llama_tensor_order).
std::vector<TensorSpec> tensor_plan(const ModelShape& shape);

/// Values of rows [row_begin, row_begin + out.size() / ne[0]) of a tensor.
void generate_rows(const ModelShape& shape, std::uint64_t seed, const TensorSpec& tensor, std::int64_t row_begin,
                   std::span<float> out);

/// Writes the model as GGUF, tensor by tensor in row chunks (memory stays bounded by a chunk).
/// Tensor types follow llama-quantize's choice for `file_type` (TensorTypeChooser).
void write_gguf(const ModelShape& shape, std::uint64_t seed, FileType file_type, const std::string& path,
                const Progress& progress = {});

/// Writes the model's F32 weights as APR (the full-precision twin of the GGUF files: the
/// same values as write_gguf with ALL_F32), one tensor in memory at a time.
void write_apr_f32(const ModelShape& shape, std::uint64_t seed, const std::string& path,
                   const Progress& progress = {});

}  // namespace parity::synth
