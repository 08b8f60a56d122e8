// The rotary embedding's cos/sin table as ggml computes it (ggml_rope_cache_init without scaling).

#include "engine/model/rope.h"

#include <cmath>

namespace parity {

void rope_cache(float* cs, std::int64_t pos, int n_dims, float base) noexcept {
    const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_dims));
    float theta = static_cast<float>(pos);
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        cs[i0 + 0] = std::cos(theta);
        cs[i0 + 1] = std::sin(theta);
        theta *= theta_scale;
    }
}

}  // namespace parity
