// Seeded weight values of synthetic models (scales documented in engine/synth/synth.h).

#include <cmath>

#include "engine/error.h"
#include "engine/synth/synth.h"
#include "random.h"

namespace parity::synth {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Distribution {
    float mean;
    float std;
};

Distribution distribution(const ModelShape& shape, const TensorSpec& t) {
    if (ends_with(t.name, "_norm.weight")) return {1.0f, 0.05f};
    if (ends_with(t.name, ".bias")) return {0.0f, 0.05f};
    if (t.name == "token_embd.weight") {
        return {0.0f, shape.tied ? 2.0f / std::sqrt(static_cast<float>(shape.n_embd)) : 1.0f};
    }
    const float fan_in = static_cast<float>(t.ne[0]);
    float std = 1.0f / std::sqrt(fan_in);
    // The MoE router: wide logits, so that the top-k choice is clear of rounding.
    if (ends_with(t.name, "ffn_gate_inp.weight")) std *= 3.0f;
    // The projections that write into the residual stream: keep its growth depth-independent.
    if (ends_with(t.name, "attn_output.weight") || ends_with(t.name, "ffn_down.weight") ||
        ends_with(t.name, "ffn_down_exps.weight")) {
        std /= std::sqrt(static_cast<float>(shape.n_layers));
    }
    return {0.0f, std};
}

}  // namespace

void generate_rows(const ModelShape& shape, std::uint64_t seed, const TensorSpec& t, std::int64_t row_begin,
                   std::span<float> out) {
    const std::int64_t cols = t.ne[0];
    if (cols <= 0 || static_cast<std::int64_t>(out.size()) % cols != 0) {
        throw UsageError("generate_rows: output size " + std::to_string(out.size()) + " is not a whole number of rows of " +
                         std::to_string(cols));
    }
    const Distribution d = distribution(shape, t);
    const std::uint64_t tensor_seed = mix_seed(seed, t.name);
    const std::int64_t rows = static_cast<std::int64_t>(out.size()) / cols;
    for (std::int64_t r = 0; r < rows; ++r) {
        SplitMix64 rng(tensor_seed ^ (static_cast<std::uint64_t>(row_begin + r) * 0xD1B54A32D192ED03ULL));
        float* row = out.data() + r * cols;
        for (std::int64_t c = 0; c < cols; ++c) row[c] = d.mean + d.std * rng.normal();
    }
}

}  // namespace parity::synth
