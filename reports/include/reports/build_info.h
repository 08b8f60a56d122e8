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
    bool cuda_built = false;            ///< the CUDA backend is part of this build
    std::vector<std::string> cuda_devices;  ///< the CUDA devices it sees, "NVIDIA H100 ... (sm_90)"
};

}  // namespace parity::reports
