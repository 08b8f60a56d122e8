// The rotary embedding's cos/sin table as ggml computes it (ggml_rope_cache_init with optional
// frequency factors, rope_yarn with linear interpolation only, no extrapolation).

#include "engine/model/rope.h"

#include <cmath>

namespace parity {

void rope_cache(float* cs, std::int64_t pos, int n_dims, float base, std::span<const float> freq_factors,
                float freq_scale) noexcept {
    const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_dims));
    float theta = static_cast<float>(pos);
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        const float ff = freq_factors.empty() ? 1.0f : freq_factors[static_cast<std::size_t>(i0 / 2)];
        const float t = freq_scale * (theta / ff);
        cs[i0 + 0] = std::cos(t);
        cs[i0 + 1] = std::sin(t);
        theta *= theta_scale;
    }
}

}  // namespace parity
