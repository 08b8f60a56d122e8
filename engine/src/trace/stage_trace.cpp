// The trace a stage dump implies (engine/trace/stage_trace.h).

#include "engine/trace/stage_trace.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"

namespace parity {

namespace {

/// Every position's row of a series, contiguous; nullopt when the dump lacks the series.
struct Rows {
    std::vector<float> values;
    std::int64_t n_rows = 0;
    std::int64_t width = 0;
};

std::optional<Rows> rows_of(const StageDump& dump, const std::string& stage, std::uint32_t layer, std::size_t positions) {
    const StageDump::Series* s = dump.find({stage, layer});
    if (s == nullptr) return std::nullopt;
    const std::string where = stage + (layer == aprt::kWholeModelLayer ? "" : " layer " + std::to_string(layer));
    Rows r;
    for (std::size_t p = 0; p < positions; ++p) {
        if (p >= s->size() || (*s)[p].empty()) {
            throw UsageError("stage dump: " + where + " has no values at position " + std::to_string(p) + " of " +
                             std::to_string(positions));
        }
        const auto& row = (*s)[p];
        if (p == 0) r.width = static_cast<std::int64_t>(row.size());
        if (static_cast<std::int64_t>(row.size()) != r.width) {
            throw UsageError("stage dump: " + where + " has " + std::to_string(row.size()) + " values at position " +
                             std::to_string(p) + ", " + std::to_string(r.width) + " at position 0");
        }
        r.values.insert(r.values.end(), row.begin(), row.end());
    }
    r.n_rows = static_cast<std::int64_t>(positions);
    return r;
}

/// The first of `stages` the dump holds for `layer`.
std::optional<Rows> first_of(const StageDump& dump, std::initializer_list<const char*> stages, std::uint32_t layer,
                             std::size_t positions) {
    for (const char* s : stages) {
        if (auto r = rows_of(dump, s, layer, positions)) return r;
    }
    return std::nullopt;
}

struct SlotStages {
    TraceSlot slot;
    std::initializer_list<const char*> stages;
};

const SlotStages kSlotStages[] = {
    {TraceSlot::AttnNorm, {"attn_norm"}},
    {TraceSlot::Qkv, {"qkv_bias", "qkv_matmul"}},
    {TraceSlot::AttnOut, {"attn_out"}},
    {TraceSlot::FfnNorm, {"ffn_norm"}},
    {TraceSlot::FfnGate, {"ffn_gate"}},
    {TraceSlot::FfnUp, {"ffn_up"}},
    {TraceSlot::FfnSiluGate, {"ffn_silu"}},
    {TraceSlot::FfnSwigluInner, {"ffn_swigl"}},
    {TraceSlot::FfnOut, {"ffn_out"}},
    {TraceSlot::Output, {"layer_output", "post_ffn_residual"}},
};

}  // namespace

int dump_layer_count(const StageDump& dump) noexcept {
    int n = 0;
    for (const auto& [key, series] : dump.series()) {
        if (key.layer != aprt::kWholeModelLayer) n = std::max(n, static_cast<int>(key.layer) + 1);
    }
    return n;
}

ForwardTrace trace_from_stages(const StageDump& dump, std::span<const std::int32_t> tokens, int n_layers) {
    const std::size_t positions = tokens.size();
    TraceRecorder rec(n_layers, /*keep_values=*/true);
    rec.begin();
    if (const auto r = rows_of(dump, "embedding", aprt::kWholeModelLayer, positions)) {
        rec.add_embed(r->values.data(), r->n_rows, r->width);
    }
    for (int il = 0; il < n_layers; ++il) {
        for (const SlotStages& s : kSlotStages) {
            if (const auto r = first_of(dump, s.stages, static_cast<std::uint32_t>(il), positions)) {
                rec.add(il, s.slot, r->values.data(), r->n_rows, r->width, r->width);
            }
        }
    }
    if (const auto r = rows_of(dump, "final_norm", aprt::kWholeModelLayer, positions)) {
        rec.add_final_norm(r->values.data(), r->n_rows, r->width);
    }
    std::vector<float> logits;
    if (const StageDump::Series* s = dump.find({"lm_head", aprt::kWholeModelLayer}); s != nullptr && positions > 0 &&
                                                                                     s->size() >= positions) {
        logits = (*s)[positions - 1];
    }
    return rec.finish(tokens, logits);
}

}  // namespace parity
