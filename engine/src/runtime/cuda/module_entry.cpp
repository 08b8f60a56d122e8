// The one exported symbol of libparity_cuda.so (engine/runtime/cuda_module_abi.h). Everything
// else in the module is hidden (linked with --exclude-libs,ALL), so the module's copies of the
// engine libraries never clash with the program's.

#include "cuda_backend.h"

extern "C" __attribute__((visibility("default"))) const ParityCudaModuleV1* parity_cuda_module_v1() noexcept {
    return parity::cuda::linked_module();
}
