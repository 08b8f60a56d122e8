// Causal GQA attention over the device KV cache, as llama.cpp's CPU graph computes it without
// flash attention (engine/src/runtime/cpu/attention.cpp attend()):
//   s_j = float(sum_d float(k_jd * q_d) in double) * scale    j = first .. pos (first > 0: a
//                                                             sliding window)
//   p_j = expf(s_j - max) * float(1 / sum_j expf(..) in double)
//   o_d = float(sum_j float(v_jd * p_j) in double)
// f16 cache: q_d and p_j are rounded to fp16 before their products (ggml's f16 mul_mat).
//
// One block (kThreads) per (head, token). Shared memory: the query [head_dim] and the scores
// [n_kv]. Scores: warp w takes keys w, w + kWarps, ...; its lanes split head_dim. Softmax: block
// reductions. Output: thread d sums dimension d over all keys.

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;

// q, out [n_tok, n_head, head_dim]; caches [capacity, kv_dim] (f32 or fp16 bits).
template <bool kF16>
__global__ void __launch_bounds__(kThreads) attention_kernel(const float* q, const void* k_cache,
                                                             const void* v_cache, int pos0, int n_head, int group,
                                                             int head_dim, int kv_dim, float scale, int window,
                                                             float* out) {
    extern __shared__ float smem[];
    __shared__ double red_d[32];
    __shared__ float red_f[32];
    float* qs = smem;            // [head_dim]
    float* p = smem + head_dim;  // [n_kv]
    const int h = static_cast<int>(blockIdx.x);
    const std::int64_t t = blockIdx.y;
    const int g = h / group;
    const int pos = pos0 + static_cast<int>(t);
    const int first = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
    const int n_kv = pos + 1 - first;  // p[j] is position first + j
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const float* qh = q + (t * n_head + h) * head_dim;

    for (int d = static_cast<int>(threadIdx.x); d < head_dim; d += kThreads) qs[d] = kF16 ? dm::round_f16(qh[d]) : qh[d];
    __syncthreads();

    // Scores.
    for (int j = warp; j < n_kv; j += kWarps) {
        const std::int64_t off = static_cast<std::int64_t>(first + j) * kv_dim + static_cast<std::int64_t>(g) * head_dim;
        double acc = 0.0;
        for (int d = lane; d < head_dim; d += 32) {
            const float k = kF16 ? dm::fp16_to_fp32(static_cast<const std::uint16_t*>(k_cache)[off + d])
                                 : static_cast<const float*>(k_cache)[off + d];
            acc += static_cast<double>(k * qs[d]);
        }
        acc = detail::warp_sum(acc);
        if (lane == 0) p[j] = static_cast<float>(acc) * scale;
    }
    __syncthreads();

    // Softmax: max, exp and the double sum, then the float normalisation.
    float mx = dm::bits_float(0xFF800000u);  // -inf
    for (int j = static_cast<int>(threadIdx.x); j < n_kv; j += kThreads) mx = p[j] > mx ? p[j] : mx;
    mx = detail::block_max(mx, red_f);
    double sum = 0.0;
    for (int j = static_cast<int>(threadIdx.x); j < n_kv; j += kThreads) {
        const float e = expf(p[j] - mx);
        p[j] = e;
        sum += static_cast<double>(e);
    }
    sum = detail::block_sum(sum, red_d);
    const auto inv = static_cast<float>(1.0 / sum);
    for (int j = static_cast<int>(threadIdx.x); j < n_kv; j += kThreads) p[j] *= inv;
    __syncthreads();

    // Output.
    for (int d = static_cast<int>(threadIdx.x); d < head_dim; d += kThreads) {
        const std::int64_t col = static_cast<std::int64_t>(g) * head_dim + d;
        double acc = 0.0;
        for (int j = 0; j < n_kv; ++j) {
            const std::int64_t off = static_cast<std::int64_t>(first + j) * kv_dim + col;
            if (kF16) {
                const float v = dm::fp16_to_fp32(static_cast<const std::uint16_t*>(v_cache)[off]);
                acc += static_cast<double>(v * dm::round_f16(p[j]));
            } else {
                acc += static_cast<double>(static_cast<const float*>(v_cache)[off] * p[j]);
            }
        }
        out[(t * n_head + h) * head_dim + d] = static_cast<float>(acc);
    }
}

int max_dynamic_smem() {
    int device = 0;
    PARITY_CUDA_CHECK(cudaGetDevice(&device));
    int optin = 0;
    PARITY_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    // Leave room for the kernel's static shared memory (red_d, red_f).
    return optin - static_cast<int>(32 * sizeof(double) + 32 * sizeof(float));
}

}  // namespace

std::size_t attention_smem_bytes(int n_kv, int head_dim) {
    return (static_cast<std::size_t>(n_kv) + static_cast<std::size_t>(head_dim)) * sizeof(float);
}

int attention_max_kv(int head_dim) { return max_dynamic_smem() / static_cast<int>(sizeof(float)) - head_dim; }

void attention(const float* q, const void* k_cache, const void* v_cache, bool f16, std::int64_t n_tok, int pos0,
               int n_head, int n_head_kv, int head_dim, float scale, int window, float* out, cudaStream_t stream) {
    if (n_tok <= 0) return;
    if (n_tok > 65535) throw std::runtime_error("attention: more than 65535 tokens in one call");
    const int n_kv_max = pos0 + static_cast<int>(n_tok);
    const std::size_t smem = attention_smem_bytes(n_kv_max, head_dim);
    const dim3 grid(static_cast<unsigned>(n_head), static_cast<unsigned>(n_tok));
    const int group = n_head / n_head_kv;
    const int kv_dim = n_head_kv * head_dim;
    auto run = [&](auto kernel) {
        if (smem > 48 * 1024) {
            if (static_cast<long long>(smem) > max_dynamic_smem()) {
                throw std::runtime_error("attention: " + std::to_string(n_kv_max) +
                                         " cached positions exceed the kernel's shared-memory limit");
            }
            PARITY_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
        }
        kernel<<<grid, kThreads, smem, stream>>>(q, k_cache, v_cache, pos0, n_head, group, head_dim, kv_dim, scale, window,
                                                 out);
        PARITY_CUDA_CHECK_LAUNCH();
    };
    if (f16) {
        run(attention_kernel<true>);
    } else {
        run(attention_kernel<false>);
    }
}

}  // namespace parity::cuda::kernels
