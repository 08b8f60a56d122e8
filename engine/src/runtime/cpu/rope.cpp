// Rotary position embedding as ggml computes it (ggml_rope_cache_init / rope_yarn without
// scaling or extrapolation, then ggml_compute_forward_rope_f32 for NORM and NEOX).

#include <cmath>

#include "kernels.h"

namespace parity::cpu {

void rope(float* x, int n_heads, int head_dim, int n_dims, const float* cs, RopeType type) noexcept {
    for (int h = 0; h < n_heads; ++h) {
        float* v = x + static_cast<std::int64_t>(h) * head_dim;
        if (type == RopeType::Neox) {
            const int half = n_dims / 2;
            for (int i = 0; i < half; ++i) {
                const float c = cs[2 * i];
                const float s = cs[2 * i + 1];
                const float x0 = v[i];
                const float x1 = v[i + half];
                v[i] = x0 * c - x1 * s;
                v[i + half] = x0 * s + x1 * c;
            }
        } else {
            for (int i0 = 0; i0 < n_dims; i0 += 2) {
                const float c = cs[i0];
                const float s = cs[i0 + 1];
                const float x0 = v[i0];
                const float x1 = v[i0 + 1];
                v[i0] = x0 * c - x1 * s;
                v[i0 + 1] = x0 * s + x1 * c;
            }
        }
    }
}

}  // namespace parity::cpu
