#pragma once
// Per-layer activation traces of a forward pass (DESIGN.md "Traces").
//
// A trace holds, for every layer, the statistics of ten activation slots, in this order:
//
//   attn_norm         RMSNorm(x) * attn_norm.weight                      [n_embd per token]
//   qkv               q | k | v after the bias add, before RoPE           [q_dim + 2 kv_dim]
//   attn_out          attention output after the o-projection             [n_embd]
//   ffn_norm          RMSNorm(x + attn_out) * ffn_norm.weight             [n_embd]
//   ffn_gate          gate projection, before SiLU                        [n_ff]
//   ffn_up            up projection                                       [n_ff]
//   ffn_silu_gate     silu(gate)                                          [n_ff]
//   ffn_swiglu_inner  silu(gate) * up                                     [n_ff]
//   ffn_out           down projection                                     [n_embd]
//   output            layer output, residual added                        [n_embd]
//
// Sampling: each slot holds the statistics of the whole sample the path saw, `last_token` those
// of the last position only. A full_sequence pass traces every position (count = n_tokens * dim)
// and an incremental pass only the last token (its whole sample is the last token, count = dim,
// and last_token equals the slot statistics). `count` proves which one a trace holds.
// `embed` and `final_norm` follow the same rule; `logits_stats` and `logits` always describe the
// last position (count = n_vocab), the only logits a traced pass computes.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/trace/activation_stats.h"

namespace parity {

enum class TraceSlot : int {
    AttnNorm = 0,
    Qkv,
    AttnOut,
    FfnNorm,
    FfnGate,
    FfnUp,
    FfnSiluGate,
    FfnSwigluInner,
    FfnOut,
    Output,
};
inline constexpr int kTraceSlotCount = 10;

/// "attn_norm", "qkv", ... (the JSON keys).
std::string_view slot_name(TraceSlot slot) noexcept;
/// All ten slots in order.
const std::array<TraceSlot, kTraceSlotCount>& all_trace_slots() noexcept;

using SlotStats = std::array<ActivationStats, kTraceSlotCount>;

struct LayerActivation {
    int layer_idx = 0;
    SlotStats slots{};       ///< whole sample, indexed by TraceSlot
    SlotStats last_token{};  ///< last position only
    /// The raw last-token vector of each slot (qkv: q|k|v), only when requested; else empty.
    std::array<std::vector<float>, kTraceSlotCount> last_token_values{};

    const ActivationStats& operator[](TraceSlot s) const noexcept { return slots[static_cast<int>(s)]; }
    const ActivationStats& last(TraceSlot s) const noexcept { return last_token[static_cast<int>(s)]; }
    std::span<const float> values(TraceSlot s) const noexcept { return last_token_values[static_cast<int>(s)]; }
};

struct ForwardTrace {
    std::vector<std::int32_t> input_tokens;
    ActivationStats embed{};
    std::vector<LayerActivation> layers;
    ActivationStats final_norm{};
    ActivationStats logits_stats{};
    std::vector<float> logits;  ///< the last position's logits [n_vocab]
};

/// Collects a trace while a backend runs. A backend calls add() right after it computes a slot,
/// while the buffer is still in cache; the recorder keeps running statistics only (and, when
/// asked, copies of last rows), so recording costs one pass over each buffer. A recorder can be
/// reused across passes (begin()); it allocates only while keeping values on its first pass.
class TraceRecorder {
public:
    /// n_layers layers; keep_values: also keep each slot's last-token vector.
    explicit TraceRecorder(int n_layers, bool keep_values = false);

    /// Starts a new pass: forgets everything recorded so far (keeps the storage).
    void begin();

    /// Adds rows of one slot: n_rows rows of `width` floats, row r at data + r * stride.
    /// Rows go into the slot's whole-sample statistics and the last row into last_token.
    /// A slot may be fed by several calls per pass (qkv: q, then k, then v), each covering
    /// the same positions; their last rows are then concatenated for last_token.
    void add(int layer, TraceSlot slot, const float* data, std::int64_t n_rows, std::int64_t width,
             std::int64_t stride);
    void add_embed(const float* data, std::int64_t n_rows, std::int64_t width);
    void add_final_norm(const float* data, std::int64_t n_rows, std::int64_t width);

    /// As add(), add_embed() and add_final_norm(), for statistics reduced elsewhere (the CUDA
    /// backend reduces on the GPU and hands over only these): `rows` covers every row of the
    /// call, `last_row` its last row, and `last_values` that row's values (kept only when
    /// keeps_values(); may be empty otherwise).
    void add_stats(int layer, TraceSlot slot, const StatsAccumulator& rows, const StatsAccumulator& last_row,
                   std::span<const float> last_values);
    void add_embed_stats(const StatsAccumulator& rows, const StatsAccumulator& last_row);
    void add_final_norm_stats(const StatsAccumulator& rows, const StatsAccumulator& last_row);

    int n_layers() const noexcept { return static_cast<int>(slots_.size()); }
    bool keeps_values() const noexcept { return keep_values_; }

    /// The trace of the pass; `logits` are the last position's logits.
    ForwardTrace finish(std::span<const std::int32_t> tokens, std::span<const float> logits) const;

private:
    struct SlotAcc {
        StatsAccumulator whole;
        StatsAccumulator last;
        std::vector<float> values;
    };
    void add_rows(SlotAcc& acc, const float* data, std::int64_t n_rows, std::int64_t width, std::int64_t stride);

    bool keep_values_ = false;
    std::vector<std::array<SlotAcc, kTraceSlotCount>> slots_;
    SlotAcc embed_;
    SlotAcc final_norm_;
};

}  // namespace parity
