// SiLU and the element-wise products and sums of the SwiGLU FFN and the residual stream.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>

#include "kernels.h"

namespace parity::cpu {

void silu(const float* x, float* y, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void mul_inplace(float* y, const float* x, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; ++i) y[i] *= x[i];
}

void add_inplace(float* y, const float* x, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace parity::cpu
