#pragma once
// The exponential ggml's CPU backend uses in SOFT_MAX, SILU and SWIGLU on x86-64: SSE2 is part of
// the x86-64 baseline, so even a build without any optional SIMD takes the __SSE2__ branches of
// ggml_vec_soft_max_f32 / ggml_vec_silu_f32 / ggml_vec_swiglu_f32, which evaluate ggml_v_expf
// (a polynomial within ~2 ulp of expf, not expf) on groups of 4 values and fall back to expf
// only for the last n % 4 values of a row. Shared by the backends' host code.

#include <cstdint>

namespace parity {

/// One lane of ggml's SSE2 ggml_v_expf without FMA (the lanes are independent). 0 for -inf.
float ggml_v_expf(float x) noexcept;

/// One lane of ggml's SSE2 ggml_v_silu: x / (1 + ggml_v_expf(0 - x)).
float ggml_v_silu(float x) noexcept;

/// ggml_vec_silu_f32 over one row of n values: ggml_v_silu on each full group of 4, then
/// x / (1 + expf(-x)) on the rest. y may alias x.
void ggml_silu_row(const float* x, float* y, std::int64_t n) noexcept;

/// ggml_vec_soft_max_f32 over one row of n values: y = exp(x - max), returning their sum in
/// double, to which each full group of 4 adds its float sum (y0 + y1) + (y2 + y3); the last
/// n % 4 values take expf and are added one by one. y may alias x.
double ggml_soft_max_exp(const float* x, float* y, std::int64_t n, float max) noexcept;

}  // namespace parity
