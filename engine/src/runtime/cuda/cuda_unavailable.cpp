// The CUDA backend of a build without CUDA: no table, so the loader reports "not built with CUDA".

#include "cuda_backend.h"

namespace parity::cuda {

const ParityCudaModuleV1* linked_module() noexcept { return nullptr; }

}  // namespace parity::cuda
