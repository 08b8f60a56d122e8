// Q8_0 dequantization on the GPU: one thread per value.
// Block layout (34 bytes): fp16 d, then 32 int8 quants; value j = float(d) * q[j].

#include <cuda_fp16.h>

#include "cuda_check.h"
#include "kernels.h"

namespace parity::cuda::kernels {

namespace {

constexpr int kBlockValues = 32;
constexpr int kBlockBytes = 34;

// blocks: (n/32) x 34 bytes; out: n floats.
__global__ void dequantize_q8_0_kernel(const std::uint8_t* blocks, float* out, std::int64_t n) {
    const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const std::uint8_t* b = blocks + (i / kBlockValues) * kBlockBytes;
    __half_raw raw;
    raw.x = static_cast<unsigned short>(b[0] | (b[1] << 8));
    const float d = __half2float(__half(raw));
    const auto q = static_cast<std::int8_t>(b[2 + i % kBlockValues]);
    out[i] = d * static_cast<float>(q);
}

}  // namespace

void dequantize_q8_0(const std::uint8_t* blocks, float* out, std::int64_t n) {
    if (n == 0) return;
    const auto bytes = static_cast<std::size_t>(n / kBlockValues * kBlockBytes);
    DeviceBuffer<std::uint8_t> d_blocks(bytes);
    DeviceBuffer<float> d_out(static_cast<std::size_t>(n));
    PARITY_CUDA_CHECK(cudaMemcpy(d_blocks.get(), blocks, bytes, cudaMemcpyHostToDevice));
    const int threads = 256;
    const auto grid = static_cast<unsigned>((n + threads - 1) / threads);
    dequantize_q8_0_kernel<<<grid, threads>>>(d_blocks.get(), d_out.get(), n);
    PARITY_CUDA_CHECK(cudaGetLastError());
    PARITY_CUDA_CHECK(cudaMemcpy(out, d_out.get(), static_cast<std::size_t>(n) * sizeof(float), cudaMemcpyDeviceToHost));
}

}  // namespace parity::cuda::kernels
