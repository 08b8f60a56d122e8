// SiLU and the element-wise products and sums of the SwiGLU FFN and the residual stream.

#include "engine/runtime/ggml_exp.h"
#include "kernels.h"

namespace parity::cpu {

void silu(const float* x, float* y, std::int64_t n) noexcept { ggml_silu_row(x, y, n); }

void mul_inplace(float* y, const float* x, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; ++i) y[i] *= x[i];
}

void add_inplace(float* y, const float* x, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace parity::cpu
