// RMSNorm, rotary position embedding and the KV-cache store, each reproducing the CPU kernel's
// float operations in order (engine/src/runtime/cpu/rmsnorm.cpp, rope.cpp, attention.cpp KvCache::store;
// -fmad=false keeps every product and sum rounded on its own).

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kNormThreads = 256;

// One block per row. x, y [n_rows, n]; w [n].
__global__ void __launch_bounds__(kNormThreads) rms_norm_kernel(const float* x, const float* w, std::int64_t n,
                                                                float eps, float* y) {
    __shared__ double red[32];
    const float* xr = x + static_cast<std::int64_t>(blockIdx.x) * n;
    float* yr = y + static_cast<std::int64_t>(blockIdx.x) * n;
    double sum = 0.0;
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = xr[i];
        sum += static_cast<double>(v * v);  // the square rounded to float, as on the CPU
    }
    sum = detail::block_sum(sum, red);
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / sqrtf(mean + eps);
    for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] * scale) * w[i];
}

// One thread per rotated pair. x [n_tok, n_heads, head_dim]; cs [positions, head_dim].
__global__ void rope_kernel(float* x, std::int64_t n_tok, int n_heads, int head_dim, const float* cs, int pos0,
                            bool neox) {
    const int half = head_dim / 2;
    const std::int64_t total = n_tok * n_heads * half;
    for (std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
         idx += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const int i = static_cast<int>(idx % half);
        const std::int64_t th = idx / half;  // token * n_heads + head
        const std::int64_t t = th / n_heads;
        float* v = x + th * head_dim;
        const float* c = cs + (pos0 + t) * head_dim;
        const float cos_t = c[2 * i];
        const float sin_t = c[2 * i + 1];
        const int a = neox ? i : 2 * i;
        const int b = neox ? i + half : 2 * i + 1;
        const float x0 = v[a];
        const float x1 = v[b];
        v[a] = x0 * cos_t - x1 * sin_t;
        v[b] = x0 * sin_t + x1 * cos_t;
    }
}

// k, v [n_tok, kv_dim] -> cache rows pos0 + t.
__global__ void kv_store_kernel(const float* k, const float* v, std::int64_t n_tok, int kv_dim, int pos0, bool f16,
                                void* k_cache, void* v_cache) {
    const std::int64_t total = n_tok * kv_dim;
    const std::int64_t base = static_cast<std::int64_t>(pos0) * kv_dim;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        if (f16) {
            static_cast<std::uint16_t*>(k_cache)[base + i] = dm::fp32_to_fp16(k[i]);
            static_cast<std::uint16_t*>(v_cache)[base + i] = dm::fp32_to_fp16(v[i]);
        } else {
            static_cast<float*>(k_cache)[base + i] = k[i];
            static_cast<float*>(v_cache)[base + i] = v[i];
        }
    }
}

}  // namespace

void rms_norm(const float* x, const float* w, std::int64_t n_rows, std::int64_t n, float eps, float* y,
              cudaStream_t stream) {
    if (n_rows <= 0 || n <= 0) return;
    rms_norm_kernel<<<static_cast<unsigned>(n_rows), kNormThreads, 0, stream>>>(x, w, n, eps, y);
    PARITY_CUDA_CHECK_LAUNCH();
}

void rope(float* x, std::int64_t n_tok, int n_heads, int head_dim, const float* cs, int pos0, bool neox,
          cudaStream_t stream) {
    const std::int64_t total = n_tok * n_heads * (head_dim / 2);
    if (total <= 0) return;
    rope_kernel<<<detail::grid_for(total, 256), 256, 0, stream>>>(x, n_tok, n_heads, head_dim, cs, pos0, neox);
    PARITY_CUDA_CHECK_LAUNCH();
}

void kv_store(const float* k, const float* v, std::int64_t n_tok, int kv_dim, int pos0, bool f16, void* k_cache,
              void* v_cache, cudaStream_t stream) {
    const std::int64_t total = n_tok * kv_dim;
    if (total <= 0) return;
    kv_store_kernel<<<detail::grid_for(total, 256), 256, 0, stream>>>(k, v, n_tok, kv_dim, pos0, f16, k_cache, v_cache);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace parity::cuda::kernels
