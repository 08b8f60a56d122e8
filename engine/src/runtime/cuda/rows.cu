// Row movement of the mixture-of-experts block (gather the rows routed to one expert, scatter
// its weighted outputs to the tokens' slots, sum each token's slots in rank order) and GELU.

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void gather_kernel(const float* src, const std::int32_t* rows, std::int64_t m, std::int64_t width,
                              float* dst) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m * width;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / width;
        dst[i] = src[static_cast<std::int64_t>(rows[r]) * width + i % width];
    }
}

__global__ void scatter_scaled_kernel(const float* src, const std::int32_t* rows, const float* weights,
                                      std::int64_t m, std::int64_t width, float* dst) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m * width;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / width;
        dst[static_cast<std::int64_t>(rows[r]) * width + i % width] = src[i] * weights[r];
    }
}

__global__ void sum_groups_kernel(const float* src, std::int64_t n, int k, std::int64_t width, float* dst) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n * width;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t t = i / width;
        const std::int64_t c = i % width;
        float acc = src[(t * k) * width + c];
        for (int j = 1; j < k; ++j) acc += src[(t * k + j) * width + c];
        dst[i] = acc;
    }
}

__global__ void gelu_kernel(float* x, std::int64_t n, const std::uint16_t* table) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float v = x[i];
        if (table != nullptr) {
            x[i] = v <= -10.0f ? 0.0f : v >= 10.0f ? v : dm::fp16_to_fp32(table[dm::fp32_to_fp16(v)]);
        } else {
            x[i] = 0.5f * v * (1.0f + tanhf(0.79788456080286535587989211986876f * v * (1.0f + 0.044715f * v * v)));
        }
    }
}

}  // namespace

void gather_rows(const float* src, const std::int32_t* rows, std::int64_t m, std::int64_t width, float* dst,
                 cudaStream_t stream) {
    if (m * width <= 0) return;
    gather_kernel<<<detail::grid_for(m * width, kThreads), kThreads, 0, stream>>>(src, rows, m, width, dst);
    PARITY_CUDA_CHECK_LAUNCH();
}

void scatter_rows_scaled(const float* src, const std::int32_t* rows, const float* weights, std::int64_t m,
                         std::int64_t width, float* dst, cudaStream_t stream) {
    if (m * width <= 0) return;
    scatter_scaled_kernel<<<detail::grid_for(m * width, kThreads), kThreads, 0, stream>>>(src, rows, weights, m,
                                                                                          width, dst);
    PARITY_CUDA_CHECK_LAUNCH();
}

void sum_groups(const float* src, std::int64_t n, int k, std::int64_t width, float* dst, cudaStream_t stream) {
    if (n * width <= 0) return;
    sum_groups_kernel<<<detail::grid_for(n * width, kThreads), kThreads, 0, stream>>>(src, n, k, width, dst);
    PARITY_CUDA_CHECK_LAUNCH();
}

void gelu(float* x, std::int64_t n, const std::uint16_t* table, cudaStream_t stream) {
    if (n <= 0) return;
    gelu_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(x, n, table);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace parity::cuda::kernels
