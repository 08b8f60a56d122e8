#pragma once
// The KV cache and causal attention of one query row, as llama.cpp's CPU graph computes it
// without flash attention: KQ = K·q (mul_mat), softmax(KQ * 1/sqrt(head_dim)) with the causal
// mask, KQV = V·softmax (mul_mat). Private to engine/src.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/runtime/forward.h"

namespace parity::cpu {

/// Keys and values of every layer: [capacity, kv_dim] per layer, f32 or f16 elements.
class KvCache {
public:
    KvCache(KvType type, int n_layers, int capacity, int kv_dim);

    KvType type() const noexcept { return type_; }
    int capacity() const noexcept { return capacity_; }
    int kv_dim() const noexcept { return kv_dim_; }

    /// Stores the key and value rows (kv_dim floats each) of position `pos` of `layer`
    /// (f16: rounded to nearest even, as ggml's f32 -> f16 copy).
    void store(int layer, int pos, const float* k, const float* v) noexcept;

    const std::byte* k(int layer) const noexcept { return k_[static_cast<std::size_t>(layer)].get(); }
    const std::byte* v(int layer) const noexcept { return v_[static_cast<std::size_t>(layer)].get(); }

private:
    KvType type_;
    int capacity_;
    int kv_dim_;
    std::size_t elem_;
    // Uninitialised on purpose: pages are touched only as positions are written.
    std::vector<std::unique_ptr<std::byte[]>> k_;
    std::vector<std::unique_ptr<std::byte[]>> v_;
};

struct AttentionShape {
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    float scale = 1.0f;  ///< multiplies the scores (1 / sqrt(head_dim), or 1 when q is prescaled)
};

/// Floats of scratch attend() needs per thread for a cache of `capacity` positions.
std::size_t attention_scratch_floats(int capacity, int head_dim) noexcept;

/// Attention output of heads [h0, h1) of one query row q ([n_head, head_dim], after RoPE) at
/// position pos, over cache positions [first, pos] of `layer` (first > 0: a sliding window; the
/// positions before it are masked, which adds nothing to ggml's sums either); writes
/// out[h * head_dim + d].
/// Query head h reads kv head h / (n_head / n_head_kv). f32 cache: products in float summed in
/// double (ggml_vec_dot_f32); f16 cache: q and the attention weights rounded to f16 first
/// (ggml_vec_dot_f16).
void attend(const KvCache& kv, int layer, const AttentionShape& s, const float* q, int first, int pos, int h0,
            int h1, float* scratch, float* out) noexcept;

}  // namespace parity::cpu
