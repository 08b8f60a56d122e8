#pragma once
// Element-wise and per-row CPU kernels of the forward pass, each reproducing the ggml CPU op
// llama.cpp's graph uses (order of float operations included, FMA contraction off where ggml's
// reference build has none). Private to engine/src. All arrays are row-major float32.

#include <cstdint>

#include "engine/model/model_file.h"
#include "engine/model/rope.h"

namespace parity::cpu {

// ---- rmsnorm.cpp ----

/// y = (x * (1 / sqrtf(mean(x^2) + eps))) * w over one row of n values (ggml RMS_NORM then MUL:
/// the sum of squares in double, the scale in float, two float products per value).
/// y may alias x.
void rms_norm(const float* x, const float* w, float* y, std::int64_t n, float eps) noexcept;

// ---- rope.cpp ----

/// Rotates each of n_heads heads of head_dim values in place (x: [n_heads, head_dim]).
/// NORM: pairs (2i, 2i+1); NEOX: pairs (i, i + n_dims/2). Dimensions >= n_dims are unchanged.
void rope(float* x, int n_heads, int head_dim, int n_dims, const float* cs, RopeType type) noexcept;

// ---- silu.cpp ----

/// SiLU of one row of n values as ggml_vec_silu_f32 (ggml_silu_row). y may alias x.
void silu(const float* x, float* y, std::int64_t n) noexcept;
/// y[i] *= x[i].
void mul_inplace(float* y, const float* x, std::int64_t n) noexcept;
/// y[i] += x[i].
void add_inplace(float* y, const float* x, std::int64_t n) noexcept;

// ---- softmax (attention.cpp) ----

/// In place over one row of n scores: p = exp(s - max) * float(1 / sum), the exponentials and
/// the double sum as ggml_vec_soft_max_f32 (ggml_soft_max_exp).
void softmax(float* s, std::int64_t n) noexcept;

}  // namespace parity::cpu
