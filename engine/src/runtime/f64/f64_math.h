#pragma once
// The element-wise math of the f64 backend, in double. Private to engine/src/runtime/f64.

#include <cstdint>
#include <span>

#include "engine/model/model.h"

namespace parity::f64 {

/// y = x / sqrt(mean(x^2) + eps) * w over one row of n values (y may be x).
void rms_norm(const double* x, const float* w, double* y, std::int64_t n, double eps) noexcept;

/// cos/sin pairs [head_dim] of position `pos`: theta_i = pos * base^(-2i/head_dim) / ff_i * freq_scale.
void rope_table(double* cs, std::int64_t pos, int head_dim, double base, std::span<const float> freq_factors,
                double freq_scale) noexcept;

/// Rotates n_heads heads of head_dim values by the pairs in cs (NORM: adjacent pairs; NEOX:
/// i and i + head_dim/2).
void rope(double* x, int n_heads, int head_dim, const double* cs, RopeType type) noexcept;

/// s = softmax(s) over n values (exp in double, max subtracted).
void softmax(double* s, std::int64_t n) noexcept;

double silu(double x) noexcept;
/// tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
double gelu(double x) noexcept;

}  // namespace parity::f64
