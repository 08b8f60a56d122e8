#pragma once
// The facts about this build of pv that `pv --version` prints and every report records:
// version, git commit, build type, compiler, the CPU instruction sets compiled in, and CUDA
// (whether the build made the CUDA module, where it is, and which devices it sees).

#include <string>
#include <vector>

#include "reports/build_info.h"

namespace parity::run {

/// The CPU instruction sets this binary was compiled to use, from the compiler's predefined
/// macros ("SSE4.2", "AVX", "AVX2", "FMA", "F16C", "AVX512F", "NEON", ...), in that order.
std::vector<std::string> compiled_cpu_features();

/// How build_info() learns about CUDA devices.
enum class CudaProbe {
    IfLoaded,  ///< only from a module this process already loaded (a run's report: a CPU run loads nothing)
    Load,      ///< load the module when it is found, to list its devices (pv --version)
};

/// Every fact; the CUDA devices as `probe` allows (the module file is looked for either way).
reports::BuildInfo build_info(CudaProbe probe = CudaProbe::IfLoaded);

/// The facts as `pv --version` prints them: "pv VERSION (commit COMMIT)", then one
/// "key: value" line each. Ends with a newline.
std::string format_build_info(const reports::BuildInfo& info);

}  // namespace parity::run
