#pragma once
// Each architecture family the engine runs, described once as data. The layer graph
// (engine/runtime/layer_graph.h) reads these flags and every backend executes the result
// through its own ops, so no backend has a copy of any family's layer.
//
// Common to all: pre-norm decoder layers with RMS norms, rotary embeddings, causal GQA
// attention, a gated feed-forward block, RMS-normed output and an output projection
// (token_embd when tied). What differs is listed below; llama.cpp's graph builder of the same
// architecture name is the reference for each flag.

#include <span>
#include <string>
#include <string_view>

#include "engine/model/model_file.h"

namespace parity {

enum class FfnKind {
    SwiGlu,     ///< down(silu(gate(h)) * up(h))
    GeGlu,      ///< down(gelu_tanh(gate(h)) * up(h))
    MoeSwiGlu,  ///< routed experts: softmax router, top-k, weights renormalised, SwiGLU experts
};

struct Family {
    std::string_view arch;      ///< general.architecture
    RopeType rope = RopeType::Norm;
    bool qkv_bias = false;      ///< optional attn_{q,k,v}.bias (qwen2)
    bool qk_norm = false;       ///< attn_q_norm / attn_k_norm: RMS norm of each head before rope
    bool fused_qkv = false;     ///< attn_qkv.weight holds q, k and v rows, in that order (phi3)
    bool fused_gate_up = false; ///< ffn_up.weight holds the gate rows then the up rows (phi3)
    bool post_norms = false;    ///< post_attention_norm / post_ffw_norm on each block's output (gemma3)
    bool embed_scale = false;   ///< embeddings multiplied by sqrt(n_embd) (gemma3)
    bool q_prescale = false;    ///< q multiplied by the attention scale after rope; softmax at scale 1
    bool rope_freqs = false;    ///< optional rope_freqs.weight (Llama 3.1's per-pair divisors)
    bool local_layers = false;  ///< interleaved sliding-window layers with their own rope base (gemma3)
    /// The file may give attention.sliding_window, which llama.cpp does not apply (phi3): the
    /// engine then refuses positions at or past the window rather than differ silently.
    bool window_not_applied = false;
    FfnKind ffn = FfnKind::SwiGlu;
    /// `<arch>.` metadata keys this family reads beyond the ones every family reads.
    std::span<const std::string_view> extra_keys;
};

/// The family of `arch`, or nullptr when the engine does not run it.
const Family* find_family(std::string_view arch) noexcept;

/// Every family, in a fixed order.
std::span<const Family> families() noexcept;

/// "qwen2, llama, ..." for messages.
std::string family_names();

}  // namespace parity
