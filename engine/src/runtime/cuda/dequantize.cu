// Weight rows to f32 on the device: the f32 copies cuBLAS multiplies with, and the embedding
// lookup (rows picked by token id). One thread decodes one 32-value unit (device_math.h).

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

// w [*, n_in] stored as Type; out [n_rows, n_in] f32; rows: n_rows row ids or nullptr.
template <int Type>
__global__ void dequantize_rows_kernel(const std::uint8_t* w, std::int64_t n_in, std::int64_t row_bytes,
                                       const std::int32_t* rows, std::int64_t n_rows, float* out) {
    const std::int64_t units = n_in / dm::kUnit;
    const std::int64_t total = units * n_rows;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / units;
        const std::int64_t u = i % units;
        const std::int64_t src = rows != nullptr ? rows[r] : r;
        float v[dm::kUnit];
        dm::decode_unit<Type>(w + src * row_bytes, u, v);
        // out is 16-byte aligned (cudaMalloc base, n_in a multiple of 32): 8 vector stores.
        auto* o = reinterpret_cast<float4*>(out + r * n_in + u * dm::kUnit);
#pragma unroll
        for (int k = 0; k < dm::kUnit / 4; ++k) o[k] = make_float4(v[4 * k], v[4 * k + 1], v[4 * k + 2], v[4 * k + 3]);
    }
}

template <int Type>
void launch(const std::uint8_t* w, std::int64_t n_in, const std::int32_t* rows, std::int64_t n_rows, float* out,
            cudaStream_t stream) {
    const int threads = 256;
    const std::int64_t total = n_in / dm::kUnit * n_rows;
    dequantize_rows_kernel<Type><<<detail::grid_for(total, threads), threads, 0, stream>>>(
        w, n_in, dm::row_bytes(Type, n_in), rows, n_rows, out);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace

void dequantize_rows(int type, const std::uint8_t* w, std::int64_t n_in, const std::int32_t* rows,
                     std::int64_t n_rows, float* out, cudaStream_t stream) {
    if (n_rows <= 0 || n_in <= 0) return;
    if (reinterpret_cast<std::uintptr_t>(out) % 16 != 0) throw std::runtime_error("dequantize_rows: output not 16-byte aligned");
    switch (type) {
        case dm::kF32: return launch<dm::kF32>(w, n_in, rows, n_rows, out, stream);
        case dm::kF16: return launch<dm::kF16>(w, n_in, rows, n_rows, out, stream);
        case dm::kQ4_0: return launch<dm::kQ4_0>(w, n_in, rows, n_rows, out, stream);
        case dm::kQ8_0: return launch<dm::kQ8_0>(w, n_in, rows, n_rows, out, stream);
        case dm::kQ4_K: return launch<dm::kQ4_K>(w, n_in, rows, n_rows, out, stream);
        case dm::kQ6_K: return launch<dm::kQ6_K>(w, n_in, rows, n_rows, out, stream);
        default: throw std::runtime_error("dequantize_rows: no device decoder for ggml type " + std::to_string(type));
    }
}

}  // namespace parity::cuda::kernels
