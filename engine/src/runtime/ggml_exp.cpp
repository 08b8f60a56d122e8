// ggml_v_expf as ggml's SSE2 code computes it without FMA (engine/runtime/ggml_exp.h).

#include "engine/runtime/ggml_exp.h"

#include <bit>
#include <cmath>

namespace parity {

namespace {

/// ggml's MADD128 without FMA: x * y rounded, then + z rounded.
float madd(float x, float y, float z) noexcept { return x * y + z; }

}  // namespace

float ggml_v_expf(float x) noexcept {
    // Constants of ggml's adaptation of Arm's optimized-routines expf.
    constexpr float kR = 0x1.8p23f;
    const float z = madd(x, 0x1.715476p+0f, kR);
    const float n = z - kR;
    const float b = (x - n * 0x1.62e4p-1f) - n * 0x1.7f7d1cp-20f;
    const std::uint32_t e = std::bit_cast<std::uint32_t>(z) << 23;
    const float k = std::bit_cast<float>(e + std::bit_cast<std::uint32_t>(1.0f));
    const float u = b * b;
    const float j = madd(madd(madd(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, madd(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                         0x1.ffffecp-1f * b);
    const float an = std::fabs(n);
    if (!(an > 126.0f)) return madd(k, j, k);
    // Large |n|: the scale 2^n is split in two factors so that it neither overflows early nor
    // turns subnormal; past |n| > 192 the result is s1 * s1 (0 or inf).
    const std::uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    const float s1 = std::bit_cast<float>(g + 0x7f000000u);
    if (an > 192.0f) return s1 * s1;
    const float s2 = std::bit_cast<float>(e - g);
    return madd(s2, j, s2) * s1;
}

float ggml_v_silu(float x) noexcept { return x / (1.0f + ggml_v_expf(0.0f - x)); }

void ggml_silu_row(const float* x, float* y, std::int64_t n) noexcept {
    const std::int64_t groups_end = n - n % 4;
    std::int64_t i = 0;
    for (; i < groups_end; ++i) y[i] = ggml_v_silu(x[i]);
    for (; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

double ggml_soft_max_exp(const float* x, float* y, std::int64_t n, float max) noexcept {
    double sum = 0.0;
    std::int64_t i = 0;
    for (; i + 3 < n; i += 4) {
        float v[4];
        for (int l = 0; l < 4; ++l) v[l] = ggml_v_expf(x[i + l] - max);
        for (int l = 0; l < 4; ++l) y[i + l] = v[l];
        sum += static_cast<double>((v[0] + v[1]) + (v[2] + v[3]));
    }
    for (; i < n; ++i) {
        const float val = std::exp(x[i] - max);
        sum += static_cast<double>(val);
        y[i] = val;
    }
    return sum;
}

}  // namespace parity
