// Element-wise kernels of the forward pass: residual adds, bias adds, the fault-injection scale,
// SiLU and the SwiGLU product (engine/src/runtime/cpu/silu.cpp; -fmad=false, expf as the CPU's std::exp
// up to its last-ulp differences).

#include "cuda_check.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kThreads = 256;

#define PARITY_GRID_STRIDE(i, n)                                                                     \
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

__global__ void add_kernel(float* y, const float* x, std::int64_t n) {
    PARITY_GRID_STRIDE(i, n) y[i] += x[i];
}

__global__ void add_rows_kernel(float* y, const float* b, std::int64_t n, std::int64_t width) {
    PARITY_GRID_STRIDE(i, n) y[i] += b[i % width];
}

__global__ void scale_kernel(float* y, float s, std::int64_t n) {
    PARITY_GRID_STRIDE(i, n) y[i] *= s;
}

__global__ void silu_kernel(float* x, std::int64_t n) {
    PARITY_GRID_STRIDE(i, n) {
        const float v = x[i];
        x[i] = v / (1.0f + expf(-v));
    }
}

__global__ void mul_kernel(float* y, const float* x, std::int64_t n) {
    PARITY_GRID_STRIDE(i, n) y[i] *= x[i];
}

#undef PARITY_GRID_STRIDE

}  // namespace

void add(float* y, const float* x, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return;
    add_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(y, x, n);
    PARITY_CUDA_CHECK_LAUNCH();
}

void add_rows(float* y, const float* b, std::int64_t n_rows, std::int64_t width, cudaStream_t stream) {
    const std::int64_t n = n_rows * width;
    if (n <= 0) return;
    add_rows_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(y, b, n, width);
    PARITY_CUDA_CHECK_LAUNCH();
}

void scale(float* y, float s, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return;
    scale_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(y, s, n);
    PARITY_CUDA_CHECK_LAUNCH();
}

void silu(float* x, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return;
    silu_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(x, n);
    PARITY_CUDA_CHECK_LAUNCH();
}

void mul(float* y, const float* x, std::int64_t n, cudaStream_t stream) {
    if (n <= 0) return;
    mul_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(y, x, n);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace parity::cuda::kernels
