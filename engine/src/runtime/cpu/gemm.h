#pragma once
// Matrix-matrix kernels for the `ggml` policy: a block of weight rows times a block of activation
// rows, each weight block decoded once and reused across the block's tokens. Private to
// engine/src.
//
// Each output has the bits of one fixed per-(row, token) computation, whatever the tile it was
// computed in:
//   Q8_0, Q4_0  ggml's scalar reference (vec_dot_ref): integer block sums (exact), then the float
//               accumulation block by block in the reference's order, one SIMD lane per output.
//   Q4_K, Q5_K, Q6_K
//               the reference's bits too: integer sums per class e mod 8 (its 8 lanes, exact),
//               then its float steps; the activation comes in ActLayout::ClassOrder.
// For these a prompt evaluated as one batch or token by token gives the same values.
//   F16         one token: vec_dot_simd(F16) itself (four accumulators per output), a row at a
//               time. Two or more: one accumulator per output in tiles of 4 rows x 3 tokens (four
//               per output do not fit the registers).
//               Both differ from ggml's double-precision sum, and from each other, by float
//               rounding (~1e-7 relative).

#include <cstddef>
#include <cstdint>

#include "engine/quant/ggml_type.h"

namespace parity::cpu {

/// How a kernel wants the activation rows (in dot_type(weight)) laid out.
enum class ActLayout {
    Plain,       ///< as quantize_row writes them
    ClassOrder,  ///< Q8_K rows with each 32-value group of qs permuted by to_class_order
};

/// y[t * ldy + r] = dot(row r of w, row t of a) for r < n_rows, t < n_tok. Rows of `w` are
/// w_stride bytes apart, rows of `a` (in dot_type(weight) and gemm_act_layout(weight)) a_stride
/// bytes apart; n values per row, a multiple of the weight's block size.
using GemmFn = void (*)(std::int64_t n, const std::byte* w, std::size_t w_stride, std::int64_t n_rows,
                        const std::byte* a, std::size_t a_stride, std::int64_t n_tok, float* y, std::int64_t ldy);

/// The matrix-matrix kernel for `weight`, or nullptr when this build has none (then matmul calls
/// vec_dot once per output).
GemmFn gemm_simd(GgmlType weight) noexcept;

/// The activation layout gemm_simd(weight) expects.
ActLayout gemm_act_layout(GgmlType weight) noexcept;

/// Permutes each 32-value group of a Q8_K row of n values in place (Plain -> ClassOrder): the 4
/// values of each class e mod 8 become adjacent, classes 0-3 in the group's first 16 bytes.
void to_class_order(std::byte* row, std::int64_t n) noexcept;

}  // namespace parity::cpu
