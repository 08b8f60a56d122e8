#pragma once
// The CUDA backend's entry points: its Session factory (cuda_session.cpp) and the table the
// module hands to the loader (module_table.cpp; engine/runtime/cuda_module_abi.h). In a build
// without CUDA only linked_module() exists (cuda_unavailable.cpp), and it returns null.
// Private to engine/src and the GPU tests.

#include <memory>

#include "engine/runtime/cuda_module_abi.h"
#include "engine/runtime/forward.h"

namespace parity::cuda {

/// A session on CUDA device 0. Throws UsageError when no device is visible or the model does not
/// fit the device; std::runtime_error on a CUDA failure.
std::unique_ptr<Session> create_cuda_session(const Model& model, const SessionOptions& options);

/// The backend's table (what libparity_cuda.so's entry point returns), for programs that link the
/// backend statically and hand it to use_linked_module(); null in a build without CUDA.
const ParityCudaModuleV1* linked_module() noexcept;

}  // namespace parity::cuda
