// The GPU tests link the CUDA backend statically: this makes it the program's backend, so
// create_session and the device queries use it instead of looking for libparity_cuda.so.

#include "engine/runtime/cuda_module.h"
#include "runtime/cuda/cuda_backend.h"

namespace {
const bool registered = (parity::cuda::use_linked_module(parity::cuda::linked_module()), true);
}  // namespace
