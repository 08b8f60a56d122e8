// TraceRecorder: running statistics per layer and slot, finished into a ForwardTrace.

#include <string>

#include "engine/error.h"
#include "engine/trace/trace.h"

namespace parity {

namespace {

constexpr std::array<TraceSlot, kTraceSlotCount> kSlots = {
    TraceSlot::AttnNorm, TraceSlot::Qkv,         TraceSlot::AttnOut,        TraceSlot::FfnNorm, TraceSlot::FfnGate,
    TraceSlot::FfnUp,    TraceSlot::FfnSiluGate, TraceSlot::FfnSwigluInner, TraceSlot::FfnOut,  TraceSlot::Output,
};

constexpr std::array<std::string_view, kTraceSlotCount> kNames = {
    "attn_norm", "qkv",           "attn_out",         "ffn_norm", "ffn_gate",
    "ffn_up",    "ffn_silu_gate", "ffn_swiglu_inner", "ffn_out",  "output",
};

}  // namespace

std::string_view slot_name(TraceSlot slot) noexcept { return kNames[static_cast<std::size_t>(slot)]; }

const std::array<TraceSlot, kTraceSlotCount>& all_trace_slots() noexcept { return kSlots; }

TraceRecorder::TraceRecorder(int n_layers, bool keep_values)
    : keep_values_(keep_values), slots_(static_cast<std::size_t>(n_layers < 0 ? 0 : n_layers)) {}

void TraceRecorder::begin() {
    auto reset = [](SlotAcc& a) {
        a.whole.clear();
        a.last.clear();
        a.values.clear();
    };
    for (auto& layer : slots_) {
        for (auto& a : layer) reset(a);
    }
    reset(embed_);
    reset(final_norm_);
}

void TraceRecorder::add_rows(SlotAcc& acc, const float* data, std::int64_t n_rows, std::int64_t width,
                             std::int64_t stride) {
    if (n_rows <= 0 || width <= 0) return;
    const auto w = static_cast<std::size_t>(width);
    if (stride == width) {
        acc.whole.add({data, static_cast<std::size_t>(n_rows - 1) * w});
    } else {
        for (std::int64_t r = 0; r + 1 < n_rows; ++r) acc.whole.add({data + r * stride, w});
    }
    const float* last = data + (n_rows - 1) * stride;
    StatsAccumulator last_acc;
    last_acc.add({last, w});
    acc.whole.merge(last_acc);
    acc.last.merge(last_acc);
    if (keep_values_) acc.values.insert(acc.values.end(), last, last + width);
}

void TraceRecorder::add(int layer, TraceSlot slot, const float* data, std::int64_t n_rows, std::int64_t width,
                        std::int64_t stride) {
    if (layer < 0 || layer >= n_layers()) {
        throw UsageError("trace: layer " + std::to_string(layer) + " out of range [0, " + std::to_string(n_layers()) +
                         ")");
    }
    add_rows(slots_[static_cast<std::size_t>(layer)][static_cast<std::size_t>(slot)], data, n_rows, width, stride);
}

void TraceRecorder::add_embed(const float* data, std::int64_t n_rows, std::int64_t width) {
    add_rows(embed_, data, n_rows, width, width);
}

void TraceRecorder::add_final_norm(const float* data, std::int64_t n_rows, std::int64_t width) {
    add_rows(final_norm_, data, n_rows, width, width);
}

void TraceRecorder::add_stats(int layer, TraceSlot slot, const StatsAccumulator& rows, const StatsAccumulator& last_row,
                              std::span<const float> last_values) {
    if (layer < 0 || layer >= n_layers()) {
        throw UsageError("trace: layer " + std::to_string(layer) + " out of range [0, " + std::to_string(n_layers()) +
                         ")");
    }
    SlotAcc& acc = slots_[static_cast<std::size_t>(layer)][static_cast<std::size_t>(slot)];
    acc.whole.merge(rows);
    acc.last.merge(last_row);
    if (keep_values_) acc.values.insert(acc.values.end(), last_values.begin(), last_values.end());
}

void TraceRecorder::add_embed_stats(const StatsAccumulator& rows, const StatsAccumulator& last_row) {
    embed_.whole.merge(rows);
    embed_.last.merge(last_row);
}

void TraceRecorder::add_final_norm_stats(const StatsAccumulator& rows, const StatsAccumulator& last_row) {
    final_norm_.whole.merge(rows);
    final_norm_.last.merge(last_row);
}

ForwardTrace TraceRecorder::finish(std::span<const std::int32_t> tokens, std::span<const float> logits) const {
    ForwardTrace t;
    t.input_tokens.assign(tokens.begin(), tokens.end());
    t.embed = embed_.whole.finish();
    t.layers.resize(slots_.size());
    for (std::size_t l = 0; l < slots_.size(); ++l) {
        LayerActivation& la = t.layers[l];
        la.layer_idx = static_cast<int>(l);
        for (std::size_t s = 0; s < kTraceSlotCount; ++s) {
            la.slots[s] = slots_[l][s].whole.finish();
            la.last_token[s] = slots_[l][s].last.finish();
            if (keep_values_) la.last_token_values[s] = slots_[l][s].values;
        }
    }
    t.final_norm = final_norm_.whole.finish();
    t.logits_stats = compute_stats(logits);
    t.logits.assign(logits.begin(), logits.end());
    return t;
}

}  // namespace parity
