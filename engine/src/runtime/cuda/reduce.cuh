#pragma once
// Warp and block reductions of the CUDA kernels (device code only). Every thread of the block
// gets the same result, summed in the same order, so a reduction is deterministic.

#include <cuda_runtime.h>

namespace parity::cuda::detail {

constexpr unsigned kFullMask = 0xffffffffu;

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
    return v;
}

/// Max that ignores NaN as the CPU's `v > m ? v : m` does.
__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset /= 2) {
        const float o = __shfl_xor_sync(kFullMask, v, offset);
        v = o > v ? o : v;
    }
    return v;
}

/// Sum over the block (blockDim.x a multiple of 32, at most 1024); `red` is shared scratch of
/// 32 values. Every thread must call it.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* red) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const int n_warps = static_cast<int>(blockDim.x) / 32;
    v = warp_sum(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    T total = 0;
    for (int w = 0; w < n_warps; ++w) total += red[w];
    __syncthreads();  // red may be reused right away
    return total;
}

__device__ __forceinline__ float block_max(float v, float* red) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int warp = static_cast<int>(threadIdx.x) / 32;
    const int n_warps = static_cast<int>(blockDim.x) / 32;
    v = warp_max(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float m = red[0];
    for (int w = 1; w < n_warps; ++w) m = red[w] > m ? red[w] : m;
    __syncthreads();
    return m;
}

/// Blocks of `threads` covering n items, capped (kernels loop grid-stride beyond the cap).
inline unsigned grid_for(long long n, int threads, long long cap = 65535LL * 16) {
    long long g = (n + threads - 1) / threads;
    if (g < 1) g = 1;
    if (g > cap) g = cap;
    return static_cast<unsigned>(g);
}

}  // namespace parity::cuda::detail
