// Activation statistics reduced on the device (what a trace records per slot): counts of all,
// NaN, +-Inf and zero elements, min / max of the finite ones, and their sum and sum of squares
// in double. Two deterministic passes: kStatsPartials blocks reduce grid-stride slices into
// partial records, then one thread folds the partials in order. Only the 56-byte record
// leaves the device.

#include "cuda_check.h"
#include "device_math.h"
#include "kernels.h"
#include "reduce.cuh"

namespace parity::cuda::kernels {

namespace {

constexpr int kThreads = 256;

__device__ StatsRecord empty_record() {
    StatsRecord r;
    r.count = r.nan = r.inf = r.zero = 0;
    r.min = dm::bits_float(0x7F800000u);   // +inf
    r.max = dm::bits_float(0xFF800000u);   // -inf
    r.sum = 0.0;
    r.sum_sq = 0.0;
    return r;
}

__device__ void merge(StatsRecord& a, const StatsRecord& b) {
    a.count += b.count;
    a.nan += b.nan;
    a.inf += b.inf;
    a.zero += b.zero;
    a.min = b.min < a.min ? b.min : a.min;
    a.max = b.max > a.max ? b.max : a.max;
    a.sum += b.sum;
    a.sum_sq += b.sum_sq;
}

// x [n] -> partials[blockIdx.x].
__global__ void __launch_bounds__(kThreads) stats_partial_kernel(const float* x, std::int64_t n, StatsRecord* partials) {
    __shared__ StatsRecord sh[kThreads];
    StatsRecord r = empty_record();
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float v = x[i];
        r.count += 1;
        if (v == 0.0f) r.zero += 1;
        if (v != v) {
            r.nan += 1;
        } else if (!dm::is_finite(v)) {
            r.inf += 1;
        } else {
            r.min = v < r.min ? v : r.min;
            r.max = v > r.max ? v : r.max;
            const auto d = static_cast<double>(v);
            r.sum += d;
            r.sum_sq += d * d;
        }
    }
    sh[threadIdx.x] = r;
    __syncthreads();
    for (int stride = kThreads / 2; stride > 0; stride /= 2) {
        if (static_cast<int>(threadIdx.x) < stride) merge(sh[threadIdx.x], sh[threadIdx.x + stride]);
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = sh[0];
}

__global__ void stats_final_kernel(const StatsRecord* partials, int n_partials, StatsRecord* out) {
    StatsRecord r = empty_record();
    for (int i = 0; i < n_partials; ++i) merge(r, partials[i]);
    *out = r;
}

}  // namespace

void stats(const float* x, std::int64_t n, StatsRecord* out, StatsRecord* partials, cudaStream_t stream) {
    const unsigned blocks = n <= 0 ? 1u : detail::grid_for(n, kThreads, kStatsPartials);
    stats_partial_kernel<<<blocks, kThreads, 0, stream>>>(x, n < 0 ? 0 : n, partials);
    PARITY_CUDA_CHECK_LAUNCH();
    stats_final_kernel<<<1, 1, 0, stream>>>(partials, static_cast<int>(blocks), out);
    PARITY_CUDA_CHECK_LAUNCH();
}

}  // namespace parity::cuda::kernels
