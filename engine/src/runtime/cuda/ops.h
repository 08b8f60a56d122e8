#pragma once
// Host entry points to each CUDA kernel of the backend, for the kernel tests
// (engine/tests/cuda_kernels_test.cpp): the inputs are uploaded, the kernel (or the matmul
// dispatch) the session uses runs on them, and the outputs come back; each call waits for the
// device before it returns. Plain C++20, no CUDA header: a build without CUDA links
// ops_unavailable.cpp, where every function throws UsageError "... not built with CUDA ...".
// Private to engine/src (and its tests).
//
// Sizes are checked (UsageError); a CUDA failure is a std::runtime_error. Output spans are
// written in full, so a test that poisons them first sees any element a kernel skipped.

#include <cstdint>
#include <span>

#include "engine/trace/activation_stats.h"
#include "engine/runtime/forward.h"
#include "engine/model/model.h"

namespace parity::cuda::ops {

/// out [rows.size(), n_in] = the rows `rows` of w [*, n_in] (stored as `type`), decoded on the
/// device (F32, F16, Q4_0, Q8_0, Q4_K, Q6_K).
void dequantize_rows(GgmlType type, std::span<const std::byte> w, std::int64_t n_in,
                     std::span<const std::int32_t> rows, std::span<float> out);

/// y [n_tok, w.n_out] = x [n_tok, w.n_in] . W^T through the session's matmul path for `policy`
/// (upload_matrix + Matmul): one token runs the GEMV kernel on the stored type, more run cuBLAS.
void matmul(const WeightMatrix& w, MatmulPolicy policy, std::span<const float> x, std::int64_t n_tok,
            std::span<float> y);

/// y = x rounded through `dot_type` (Q8_0, Q8_1, Q8_K, F16, BF16) on the device.
void quantize_roundtrip(GgmlType dot_type, std::span<const float> x, std::span<float> y);

/// y [n_rows, n] = rms_norm(x [n_rows, n]) * w [n].
void rms_norm(std::span<const float> x, std::span<const float> w, std::int64_t n_rows, float eps, std::span<float> y);

/// Rotates x [n_tok, n_heads, head_dim] in place for positions pos0 .. pos0 + n_tok - 1, with
/// the cos/sin table of rope_cache (as the session builds it).
void rope(std::span<float> x, std::int64_t n_tok, int n_heads, int head_dim, int pos0, float base, RopeType type);

/// out [n_tok, n_head * head_dim]: attention of q [n_tok, n_head * head_dim] at positions
/// pos0 .. pos0 + n_tok - 1 over k, v [pos0 + n_tok, n_head_kv * head_dim], which are first
/// written into a device cache of `kv_type` by the session's store kernel. Scores times `scale`;
/// window > 0: each query sees only the last `window` positions.
void attention(std::span<const float> q, std::span<const float> k, std::span<const float> v, std::int64_t n_tok,
               int pos0, int n_head, int n_head_kv, int head_dim, KvType kv_type, float scale, int window,
               std::span<float> out);

/// x = GELU(x): through ggml's fp16 table (table = true) or in float.
void gelu(std::span<float> x, bool table);

/// The MoE row kernels: dst = src rows `rows`; dst rows `rows` = src rows * weights; dst row t =
/// the sum of src rows t*k .. t*k+k-1 in order. width: floats per row.
void gather_rows(std::span<const float> src, std::span<const std::int32_t> rows, std::int64_t width,
                 std::span<float> dst);
void scatter_rows_scaled(std::span<const float> src, std::span<const std::int32_t> rows,
                         std::span<const float> weights, std::int64_t width, std::span<float> dst);
void sum_groups(std::span<const float> src, int k, std::int64_t width, std::span<float> dst);

/// silu_out = silu(gate); product = silu(gate) * up (the SwiGLU kernels, in the session's order).
void swiglu(std::span<const float> gate, std::span<const float> up, std::span<float> silu_out,
            std::span<float> product);

/// y = (y + x) * s (the residual add, then the fault-injection scale).
void add_scale(std::span<float> y, std::span<const float> x, float s);

/// y [n_rows, width] += b [width] (the bias add).
void add_rows(std::span<float> y, std::span<const float> b);

/// Statistics of x [n_rows, width] reduced on the device: all rows, and the last row.
struct StatsPair {
    ActivationStats rows;
    ActivationStats last_row;
};
StatsPair stats(std::span<const float> x, std::int64_t n_rows, std::int64_t width);

}  // namespace parity::cuda::ops
