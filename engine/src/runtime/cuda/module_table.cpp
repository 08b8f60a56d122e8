// The table of the CUDA backend (engine/runtime/cuda_module_abi.h), returned by the module's
// entry point (module_entry.cpp) and by linked_module().

#include "cuda_backend.h"
#include "device_query.h"

#ifndef PARITY_CUDA_MODULE_BUILD_ID
#error "PARITY_CUDA_MODULE_BUILD_ID must be defined by the build (engine/CMakeLists.txt)"
#endif

namespace parity::cuda {

namespace {
int table_device_count() noexcept { return device::count(); }
}  // namespace

const ParityCudaModuleV1* linked_module() noexcept {
    static const ParityCudaModuleV1 table{
        PARITY_CUDA_MODULE_ABI_VERSION,
        static_cast<std::uint32_t>(sizeof(ParityCudaModuleV1)),
        PARITY_CUDA_MODULE_BUILD_ID,
        static_cast<std::uint32_t>(sizeof(Model)),
        static_cast<std::uint32_t>(sizeof(SessionOptions)),
        &table_device_count,
        &device::name,
        &create_cuda_session,
        &device::dequantize_q8_0,
    };
    return &table;
}

}  // namespace parity::cuda
