#pragma once
// Dot products of one weight row and one activation row, as ggml's CPU backend computes them
// for mul_mat (vec_dot_<weight>_<dot type>). Private to engine/src.
//
// ggml converts the activation to the weight type's "dot type" first (dot_type below), then
// multiplies block by block: integer sums inside a block, scaled and accumulated in float
// (quantized types), or products accumulated in double (F32, F16, BF16 — ggml_float).
//
// Two implementations per weight type:
//   vec_dot_ref   ggml's scalar reference formulas (ggml-cpu-quants.c / vec.c, llama.cpp c392e50,
//                 the build the fixtures were made with), float operations in ggml's order and
//                 without FMA contraction; the ground truth for the SIMD kernels.
//   vec_dot_simd  AVX2/FMA/F16C kernels (vec_dot_avx2*.cpp) for F32, F16, BF16, Q4_0, Q4_1,
//                 Q5_0, Q5_1, Q8_0, IQ4_NL, Q2_K, Q3_K and IQ4_XS (Q4_K, Q5_K and Q6_K run their
//                 matrix-matrix kernels, gemm.h, for one token too). Integer block sums are exact
//                 and the quantized kernels keep the reference's float order, so they return its
//                 bits; F32 and BF16 sum their products in double in another order (a few ulp of
//                 the result), F16 in float (~1e-7 relative). engine_forward_tests checks the
//                 agreement.
//
// Row layout: `w` holds row_size(weight, n) bytes, `a` row_size(dot_type(weight), n) bytes; n is
// a multiple of the block size. Neither needs alignment.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "engine/quant/dot_type.h"
#include "engine/quant/ggml_type.h"

namespace parity::cpu {

using VecDotFn = float (*)(std::int64_t n, const std::byte* w, const std::byte* a);

/// ggml's scalar reference for `weight`, or nullptr when dot_type(weight) is nullopt.
VecDotFn vec_dot_ref(GgmlType weight) noexcept;

/// The SIMD kernel for `weight`, or nullptr when this build has none for it.
VecDotFn vec_dot_simd(GgmlType weight) noexcept;

/// The kernel a forward pass uses: vec_dot_simd when available, else vec_dot_ref.
VecDotFn vec_dot(GgmlType weight) noexcept;

/// Plain f32 dot product (the `dequant` policy): float accumulation in 8 lanes, FMA.
float dot_f32(std::int64_t n, const float* x, const float* y) noexcept;

}  // namespace parity::cpu
