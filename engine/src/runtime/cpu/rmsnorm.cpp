// RMSNorm as ggml computes it (ggml_compute_forward_rms_norm_f32, then MUL by the weight).

#include <cmath>

#include "kernels.h"

namespace parity::cpu {

void rms_norm(const float* x, const float* w, float* y, std::int64_t n, float eps) noexcept {
    // Products in float, summed in double (4 lanes; the order of a double sum of floats does
    // not change the float result in practice).
    double acc[4] = {};
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int l = 0; l < 4; ++l) acc[l] += static_cast<double>(x[i + l] * x[i + l]);
    }
    double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (std::int64_t j = 0; j < n; ++j) y[j] = (x[j] * scale) * w[j];
}

}  // namespace parity::cpu
