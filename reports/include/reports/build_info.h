#pragma once
// Which build of pv produced a result: `pv --version` prints it and every report records it
// (report.json's "build" object), so a nightly result can be traced to the binary that made it.

#include <string>
#include <vector>

namespace parity::reports {

struct BuildInfo {
    std::string version;                ///< project version, "0.1.0"
    std::string commit;                 ///< short git commit of the source tree; "unknown" outside git
    std::string build_type;             ///< CMAKE_BUILD_TYPE: "Release", "Debug", ...
    std::string compiler;               ///< "GNU 12.2.0"
    std::vector<std::string> cpu_features;  ///< instruction sets compiled in: "AVX2", "FMA", "F16C", ...
    bool cuda_built = false;            ///< the build made the CUDA module (libparity_cuda.so)
    std::vector<std::string> cuda_devices;  ///< the CUDA devices it sees, "NVIDIA H100 ... (sm_90)"
    std::string cuda_module;            ///< the module's file where found; empty when not found
    /// The module was loaded (pv --version, or a run with a cuda path), so cuda_devices is what it
    /// sees; a run that used no cuda path does not load it and lists no device.
    bool cuda_loaded = false;
    std::string cuda_problem;           ///< why backend cuda cannot run here (when known); empty if it can
};

}  // namespace parity::reports
