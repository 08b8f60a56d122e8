// The activation side of the `ggml` matmul policy: each activation row takes the values it has
// after ggml's CPU converts it to the weight type's dot type (Q8_0 / Q8_1 / Q8_K / F16 / BF16),
// computed by device_math.h's round trips (bit-identical with quantize_row + dequantize_row).
// And the f32 -> fp16 conversion of the activations cublasGemmEx multiplies with F16 weights.

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

// x, y [n_blocks * 32]: one thread per 32-value block.
__global__ void roundtrip_q8_0_kernel(const float* x, std::int64_t n_blocks, float* y) {
    for (std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < n_blocks;
         b += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        dm::roundtrip_q8_0(x + b * 32, y + b * 32);
    }
}

// x, y [n_blocks * 256]: one thread per 256-value block.
__global__ void roundtrip_q8_k_kernel(const float* x, std::int64_t n_blocks, float* y) {
    for (std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < n_blocks;
         b += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        dm::roundtrip_q8_k(x + b * dm::kSuper, y + b * dm::kSuper);
    }
}

// x, y [n]: element-wise half-precision round trips.
template <bool kBf16>
__global__ void roundtrip_half_kernel(const float* x, std::int64_t n, float* y) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        y[i] = kBf16 ? dm::bf16_to_fp32(dm::fp32_to_bf16(x[i])) : dm::round_f16(x[i]);
    }
}

__global__ void to_f16_kernel(const float* x, std::int64_t n, std::uint16_t* y) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        y[i] = dm::fp32_to_fp16(x[i]);
    }
}

}  // namespace

void quantize_roundtrip(int dot_type, const float* x, std::int64_t n, float* y, cudaStream_t stream) {
    if (n <= 0) return;
    const int threads = 128;
    switch (dot_type) {
        case dm::kQ8_0:
        case dm::kQ8_1: {
            if (n % 32 != 0) throw std::runtime_error("quantize_roundtrip: Q8_0 needs a multiple of 32 values");
            roundtrip_q8_0_kernel<<<detail::grid_for(n / 32, threads), threads, 0, stream>>>(x, n / 32, y);
            break;
        }
        case dm::kQ8_K: {
            if (n % dm::kSuper != 0) throw std::runtime_error("quantize_roundtrip: Q8_K needs a multiple of 256 values");
            roundtrip_q8_k_kernel<<<detail::grid_for(n / dm::kSuper, threads), threads, 0, stream>>>(x, n / dm::kSuper, y);
            break;
        }
        case dm::kF16:
            roundtrip_half_kernel<false><<<detail::grid_for(n, 256), 256, 0, stream>>>(x, n, y);
            break;
        case dm::kBF16:
            roundtrip_half_kernel<true><<<detail::grid_for(n, 256), 256, 0, stream>>>(x, n, y);
            break;
        default:
            throw std::runtime_error("quantize_roundtrip: no round trip for ggml type " + std::to_string(dot_type));
    }
    PARITY_CUDA_CHECK_LAUNCH();
}

void to_f16(const float* x, std::int64_t n, std::uint16_t* y, cudaStream_t stream) {
    if (n <= 0) return;
    to_f16_kernel<<<detail::grid_for(n, 256), 256, 0, stream>>>(x, n, y);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace parity::cuda::kernels
