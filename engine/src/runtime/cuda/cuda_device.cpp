#include <cuda_runtime.h>

#include "cuda_check.h"
#include "kernels.h"
#include "device_query.h"
#include "engine/error.h"

namespace parity::cuda::device {

int count() noexcept {
    int n = 0;
    // No driver or no device is not an error here: it means "0 devices".
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky error state
        return 0;
    }
    return n;
}

std::string name(int index) {
    if (index < 0 || index >= count()) {
        throw UsageError("CUDA device " + std::to_string(index) + " does not exist (" +
                         std::to_string(count()) + " device(s) present)");
    }
    cudaDeviceProp prop{};
    PARITY_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
    return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
}

}  // namespace parity::cuda::device

namespace parity::cuda::device {

void dequantize_q8_0(std::span<const std::byte> blocks, std::span<float> out) {
    constexpr std::size_t kBlockValues = 32, kBlockBytes = 34;
    if (out.size() % kBlockValues != 0 || blocks.size() != out.size() / kBlockValues * kBlockBytes) {
        throw UsageError("dequantize_q8_0: " + std::to_string(blocks.size()) + " bytes do not hold " +
                         std::to_string(out.size()) + " Q8_0 values");
    }
    if (count() == 0) throw UsageError("dequantize_q8_0: no CUDA device present");
    kernels::dequantize_q8_0(reinterpret_cast<const std::uint8_t*>(blocks.data()), out.data(),
                             static_cast<std::int64_t>(out.size()));
}

}  // namespace parity::cuda::device
