// ops.h in a build without CUDA: every entry point says so (the kernel tests exit 77 before
// they call one, because cuda::device_count() is 0).

#include "engine/error.h"
#include "ops.h"

namespace parity::cuda::ops {

namespace {
[[noreturn]] void not_built() {
    throw UsageError("CUDA kernels requested, but this build was not built with CUDA (nvcc was not found at "
                     "configure time, or PARITY_CUDA=OFF)");
}
}  // namespace

void dequantize_rows(GgmlType, std::span<const std::byte>, std::int64_t, std::span<const std::int32_t>,
                     std::span<float>) {
    not_built();
}
void matmul(const WeightMatrix&, MatmulPolicy, std::span<const float>, std::int64_t, std::span<float>) { not_built(); }
void quantize_roundtrip(GgmlType, std::span<const float>, std::span<float>) { not_built(); }
void rms_norm(std::span<const float>, std::span<const float>, std::int64_t, float, std::span<float>) { not_built(); }
void rope(std::span<float>, std::int64_t, int, int, int, float, RopeType) { not_built(); }
void attention(std::span<const float>, std::span<const float>, std::span<const float>, std::int64_t, int, int, int,
               int, KvType, float, int, std::span<float>) {
    not_built();
}
void gelu(std::span<float>, bool) { not_built(); }
void gather_rows(std::span<const float>, std::span<const std::int32_t>, std::int64_t, std::span<float>) { not_built(); }
void scatter_rows_scaled(std::span<const float>, std::span<const std::int32_t>, std::span<const float>, std::int64_t,
                         std::span<float>) {
    not_built();
}
void sum_groups(std::span<const float>, int, std::int64_t, std::span<float>) { not_built(); }
void swiglu(std::span<const float>, std::span<const float>, std::span<float>, std::span<float>) { not_built(); }
void add_scale(std::span<float>, std::span<const float>, float) { not_built(); }
void add_rows(std::span<float>, std::span<const float>) { not_built(); }
StatsPair stats(std::span<const float>, std::int64_t, std::int64_t) { not_built(); }

}  // namespace parity::cuda::ops
