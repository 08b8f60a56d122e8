// Backend selection: the one place that knows every backend (CUDA's is loaded as a module).

#include "engine/runtime/cuda_module.h"
#include "engine/runtime/f64_session.h"
#include "engine/runtime/forward.h"
#include "runtime/cpu/cpu_session.h"

namespace parity {

std::unique_ptr<Session> create_session(const Model& model, const SessionOptions& options) {
    if (options.backend == BackendKind::Cuda) return cuda::create_module_session(model, options);
    if (options.backend == BackendKind::F64) return create_f64_session(model, options);
    return cpu::make_cpu_session(model, options);
}

}  // namespace parity
