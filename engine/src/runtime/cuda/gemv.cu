// Matrix-vector products with the weights decoded on the fly (incremental decode, one token):
// y [n_tok, n_out] = x [n_tok, n_in] . w^T, w in its stored type.
//
// Layout: a block of kWarps warps; each warp owns kRowsPerWarp consecutive output rows. Lane l
// takes the 32-value units l, l + 32, l + 64, ... of the row: it loads the unit's 32 inputs once
// (8 float4 loads), decodes the unit of each of its rows with dm::decode_unit (the same values
// as the CPU's dequantize_row) and accumulates w * x with fmaf in float. The 32 lane sums are
// added by a butterfly; lane 0 writes the row. gridDim.y runs over tokens.

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 2;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;

template <int Type>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(const std::uint8_t* w, std::int64_t n_in,
                                                           std::int64_t row_bytes, std::int64_t n_out,
                                                           const float* x, float* y) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const std::int64_t row0 = (static_cast<std::int64_t>(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
    const std::int64_t t = blockIdx.y;
    const float* xt = x + t * n_in;
    const std::int64_t units = n_in / dm::kUnit;

    float acc[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) acc[r] = 0.0f;

    for (std::int64_t u = lane; u < units; u += 32) {
        float xv[dm::kUnit];
        const auto* x4 = reinterpret_cast<const float4*>(xt + u * dm::kUnit);
#pragma unroll
        for (int k = 0; k < dm::kUnit / 4; ++k) {
            const float4 f = __ldg(x4 + k);
            xv[4 * k] = f.x;
            xv[4 * k + 1] = f.y;
            xv[4 * k + 2] = f.z;
            xv[4 * k + 3] = f.w;
        }
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
            const std::int64_t row = row0 + r;
            if (row >= n_out) break;  // the same for every lane of the warp
            float wv[dm::kUnit];
            dm::decode_unit<Type>(w + row * row_bytes, u, wv);
#pragma unroll
            for (int j = 0; j < dm::kUnit; ++j) acc[r] = fmaf(wv[j], xv[j], acc[r]);
        }
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
        const float sum = detail::warp_sum(acc[r]);
        const std::int64_t row = row0 + r;
        if (lane == 0 && row < n_out) y[t * n_out + row] = sum;
    }
}

template <int Type>
void launch(const std::uint8_t* w, std::int64_t n_in, std::int64_t n_out, const float* x, std::int64_t n_tok, float* y,
            cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>((n_out + kRowsPerBlock - 1) / kRowsPerBlock), static_cast<unsigned>(n_tok));
    gemv_kernel<Type><<<grid, kWarps * 32, 0, stream>>>(w, n_in, dm::row_bytes(Type, n_in), n_out, x, y);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace

void gemv(int type, const std::uint8_t* w, std::int64_t n_in, std::int64_t n_out, const float* x,
          std::int64_t n_tok, float* y, cudaStream_t stream) {
    if (n_out <= 0 || n_tok <= 0) return;
    if (n_tok > 65535) throw std::runtime_error("gemv: more than 65535 tokens in one call");
    if (n_in % dm::kUnit != 0) throw std::runtime_error("gemv: n_in " + std::to_string(n_in) + " is not a multiple of 32");
    if (reinterpret_cast<std::uintptr_t>(x) % 16 != 0) throw std::runtime_error("gemv: input not 16-byte aligned");
    switch (type) {
        case dm::kF32: return launch<dm::kF32>(w, n_in, n_out, x, n_tok, y, stream);
        case dm::kF16: return launch<dm::kF16>(w, n_in, n_out, x, n_tok, y, stream);
        case dm::kQ4_0: return launch<dm::kQ4_0>(w, n_in, n_out, x, n_tok, y, stream);
        case dm::kQ8_0: return launch<dm::kQ8_0>(w, n_in, n_out, x, n_tok, y, stream);
        case dm::kQ4_K: return launch<dm::kQ4_K>(w, n_in, n_out, x, n_tok, y, stream);
        case dm::kQ6_K: return launch<dm::kQ6_K>(w, n_in, n_out, x, n_tok, y, stream);
        default: throw std::runtime_error("gemv: no device kernel for ggml type " + std::to_string(type));
    }
}

}  // namespace parity::cuda::kernels
