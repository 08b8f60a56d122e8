// The CUDA entry points of a CPU-only build: no device, and a clear error on use.

#include "cuda_backend.h"
#include "engine/runtime/cuda_device.h"
#include "engine/error.h"

namespace parity::cuda {

namespace {
[[noreturn]] void not_built() {
    throw UsageError("CUDA backend requested, but this build was not built with CUDA (nvcc was not found "
                     "at configure time, or PARITY_CUDA=OFF)");
}
}  // namespace

bool built_with_cuda() noexcept { return false; }
int device_count() noexcept { return 0; }
std::string device_name(int) { not_built(); }
void dequantize_q8_0(std::span<const std::byte>, std::span<float>) { not_built(); }
std::unique_ptr<Session> create_cuda_session(const Model&, const SessionOptions&) {
    throw UsageError("backend cuda: this build was not built with CUDA (configure with -DPARITY_CUDA=ON on a "
                     "machine with nvcc)");
}

}  // namespace parity::cuda
