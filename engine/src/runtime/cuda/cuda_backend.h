#pragma once
// The CUDA backend's Session factory (engine/src/runtime/cuda/cuda_session.cpp; in a build without CUDA,
// engine/src/runtime/cuda/cuda_unavailable.cpp, which throws UsageError "... not built with CUDA ...").
// Private to engine/src; create_session() dispatches here for BackendKind::Cuda.

#include <memory>

#include "engine/runtime/forward.h"

namespace parity::cuda {

/// A session on CUDA device 0. Throws UsageError when the build has no CUDA, no device is
/// visible, or the model does not fit the device; std::runtime_error on a CUDA failure.
std::unique_ptr<Session> create_cuda_session(const Model& model, const SessionOptions& options);

}  // namespace parity::cuda
