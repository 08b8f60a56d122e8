#pragma once
// Host-callable launchers of the device kernels. Plain pointers and C++17 only: this header is
// shared between the nvcc-compiled .cu files and the C++20 host code (cuda_session.cpp, ops.cpp).
// Every pointer is a device pointer unless the comment says "host"; every launcher enqueues on
// `stream`, checks the launch and throws std::runtime_error on a CUDA failure. Shapes are
// row-major, written as [rows, columns]. Type ids are ggml's (device_math.h: dm::kQ4_K ...).

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace parity::cuda::kernels {

/// Dequantizes n Q8_0 values (n % 32 == 0) from host `blocks` (n/32 x 34 bytes) into host
/// `out` (n floats) through device buffers (the smoke test's kernel).
void dequantize_q8_0(const std::uint8_t* blocks, float* out, std::int64_t n);

// ---- weights (dequantize.cu, gemv.cu) ----

/// out [n_rows, n_in] = rows of w [*, n_in] (stored type `type`, dm::decodable), decoded
/// exactly as the CPU's dequantize_row. rows (device, n_rows ids) picks the rows (embedding
/// lookup); rows == nullptr takes rows 0 .. n_rows-1 (a whole matrix). n_in % 256 == 0 for K-quants, % 32 otherwise.
void dequantize_rows(int type, const std::uint8_t* w, std::int64_t n_in, const std::int32_t* rows,
                     std::int64_t n_rows, float* out, cudaStream_t stream);

/// y [n_tok, n_out] = x [n_tok, n_in] . w^T with w [n_out, n_in] in its stored type, decoded on
/// the fly (the same values as dequantize_rows), f32 products accumulated with FMA in float.
/// One warp per kGemvRowsPerWarp rows; meant for n_tok == 1 (decode) but correct for any n_tok.
void gemv(int type, const std::uint8_t* w, std::int64_t n_in, std::int64_t n_out, const float* x,
          std::int64_t n_tok, float* y, cudaStream_t stream);

// ---- activations (activation_quant.cu) ----

/// y [n] = x [n] after the round trip through `dot_type` (dm::kQ8_0, kQ8_1, kQ8_K, kF16, kBF16):
/// the values ggml's CPU multiplies with. n % 32 == 0 (Q8_0/Q8_1) or % 256 (Q8_K), blocks
/// never straddle rows because every row length is a multiple of the block. y may equal x.
void quantize_roundtrip(int dot_type, const float* x, std::int64_t n, float* y, cudaStream_t stream);

/// y [n] = fp16 bits of x [n] (round to nearest even, as ggml's fp32 -> fp16), for cublasGemmEx.
void to_f16(const float* x, std::int64_t n, std::uint16_t* y, cudaStream_t stream);

// ---- norm, rope, KV cache (norm_rope.cu) ----

/// y [n_rows, n] = rms_norm(x) * w: sum of float squares in double, scale 1/sqrtf(mean + eps)
/// in float, then (x * scale) * w. y may equal x.
void rms_norm(const float* x, const float* w, std::int64_t n_rows, std::int64_t n, float eps, float* y,
              cudaStream_t stream);

/// Rotates x [n_tok, n_heads, head_dim] in place; token t is at position pos0 + t and uses row
/// pos0 + t of cs [positions, head_dim] (cos, sin pairs from rope_cache). NEOX pairs
/// (i, i + head_dim/2), NORM pairs (2i, 2i+1).
void rope(float* x, std::int64_t n_tok, int n_heads, int head_dim, const float* cs, int pos0, bool neox,
          cudaStream_t stream);

/// Writes k, v [n_tok, kv_dim] into rows pos0 .. pos0 + n_tok - 1 of the caches
/// [capacity, kv_dim] (f32, or fp16 bits rounded to nearest even when f16).
void kv_store(const float* k, const float* v, std::int64_t n_tok, int kv_dim, int pos0, bool f16, void* k_cache,
              void* v_cache, cudaStream_t stream);

// ---- attention (attention.cu) ----

/// Dynamic shared memory the attention kernel needs for n_kv cached positions.
std::size_t attention_smem_bytes(int n_kv, int head_dim);
/// Largest n_kv the attention kernel supports on the current device (shared-memory bound).
int attention_max_kv(int head_dim);

/// out [n_tok, n_head * head_dim]: causal attention of q [n_tok, n_head * head_dim] (after
/// rope) over cache positions first .. pos0 + t for token t, first = 0, or with window > 0
/// max(0, pos0 + t - window + 1) (ggml's CPU graph without flash
/// attention): scores K.q with float products summed in double, times scale; softmax with
/// expf, the sum in double; V.p summed in double. f16 cache: q and p rounded to fp16 first.
/// Query head h reads kv head h / (n_head / n_head_kv).
void attention(const float* q, const void* k_cache, const void* v_cache, bool f16, std::int64_t n_tok, int pos0,
               int n_head, int n_head_kv, int head_dim, float scale, int window, float* out, cudaStream_t stream);

// ---- element-wise (elementwise.cu) ----

void add(float* y, const float* x, std::int64_t n, cudaStream_t stream);                 ///< y += x
void add_rows(float* y, const float* b, std::int64_t n_rows, std::int64_t width,
              cudaStream_t stream);                                                       ///< y[r] += b
void scale(float* y, float s, std::int64_t n, cudaStream_t stream);                     ///< y *= s
void silu(float* x, std::int64_t n, cudaStream_t stream);                               ///< x = x / (1 + expf(-x))
void mul(float* y, const float* x, std::int64_t n, cudaStream_t stream);                 ///< y *= x

// ---- rows and GELU (rows.cu) ----

/// dst [m, width] row i = src row rows[i] (rows: m device ids).
void gather_rows(const float* src, const std::int32_t* rows, std::int64_t m, std::int64_t width, float* dst,
                 cudaStream_t stream);
/// dst row rows[i] = src row i * weights[i], i < m (rows, weights: device).
void scatter_rows_scaled(const float* src, const std::int32_t* rows, const float* weights, std::int64_t m,
                         std::int64_t width, float* dst, cudaStream_t stream);
/// dst [n, width] row t = src row t*k + src row t*k+1 + ... (float, added in that order).
void sum_groups(const float* src, std::int64_t n, int k, std::int64_t width, float* dst, cudaStream_t stream);
/// x = tanh GELU of x: through ggml's fp16 table (device, 65536 entries; 0 below -10, x above
/// 10) when table is not null, else in float.
void gelu(float* x, std::int64_t n, const std::uint16_t* table, cudaStream_t stream);

// ---- activation statistics (stats.cu) ----

/// Statistics of one float array, reduced on the device: counts, min/max over finite values,
/// sum and sum of squares of the finite values in double.
struct StatsRecord {
    unsigned long long count;
    unsigned long long nan;
    unsigned long long inf;
    unsigned long long zero;
    float min;  ///< +inf when no finite value
    float max;  ///< -inf when no finite value
    double sum;
    double sum_sq;
};

/// Partial records stats() needs as scratch (device array of this many StatsRecord).
constexpr int kStatsPartials = 128;

/// *out = statistics of x [n] (two deterministic passes: kStatsPartials blocks, then one).
void stats(const float* x, std::int64_t n, StatsRecord* out, StatsRecord* partials, cudaStream_t stream);

}  // namespace parity::cuda::kernels
