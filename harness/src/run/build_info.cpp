#include "harness/run/build_info.h"


#include "engine/runtime/cuda_device.h"
#include "engine/runtime/cuda_module.h"
#include "git_commit.h"

#ifndef PARITY_VERSION
#error "PARITY_VERSION must be defined by the build (harness/CMakeLists.txt)"
#endif
#ifndef PARITY_BUILD_TYPE
#define PARITY_BUILD_TYPE "unknown"
#endif
#ifndef PARITY_COMPILER
#define PARITY_COMPILER "unknown"
#endif

namespace parity::run {

std::vector<std::string> compiled_cpu_features() {
    std::vector<std::string> out;
#if defined(__SSE4_2__)
    out.emplace_back("SSE4.2");
#endif
#if defined(__AVX__)
    out.emplace_back("AVX");
#endif
#if defined(__AVX2__)
    out.emplace_back("AVX2");
#endif
#if defined(__FMA__)
    out.emplace_back("FMA");
#endif
#if defined(__F16C__)
    out.emplace_back("F16C");
#endif
#if defined(__BMI2__)
    out.emplace_back("BMI2");
#endif
#if defined(__AVX512F__)
    out.emplace_back("AVX512F");
#endif
#if defined(__AVX512BW__)
    out.emplace_back("AVX512BW");
#endif
#if defined(__AVX512VNNI__)
    out.emplace_back("AVX512VNNI");
#endif
#if defined(__ARM_NEON)
    out.emplace_back("NEON");
#endif
#if defined(__ARM_FEATURE_FMA)
    out.emplace_back("ARM_FMA");
#endif
#if defined(__ARM_FEATURE_SVE)
    out.emplace_back("SVE");
#endif
    return out;
}

reports::BuildInfo build_info(CudaProbe probe) {
    reports::BuildInfo info;
    info.version = PARITY_VERSION;
    info.commit = git_commit();
    info.build_type = PARITY_BUILD_TYPE;
    info.compiler = PARITY_COMPILER;
    info.cpu_features = compiled_cpu_features();
    info.cuda_built = cuda::built_with_cuda();
    if (!info.cuda_built) return info;
    // Only a few stats unless the module is to be loaded (or was already).
    if (const auto file = cuda::find_module()) info.cuda_module = file->string();
    const bool load = cuda::cuda_backend_loaded() || (probe == CudaProbe::Load && !info.cuda_module.empty());
    if (load) {
        const cuda::CudaBackend& b = cuda::cuda_backend();
        info.cuda_loaded = b.module != nullptr;
        info.cuda_devices = b.devices;
        info.cuda_problem = b.problem;
    } else if (info.cuda_module.empty()) {
        info.cuda_problem = cuda::module_not_found_message();
    }
    return info;
}

std::string format_build_info(const reports::BuildInfo& info) {
    std::string out = "pv " + info.version + " (commit " + info.commit + ")\n";
    out += "build type: " + info.build_type + "\n";
    out += "compiler: " + info.compiler + "\n";
    std::string features;
    for (const auto& f : info.cpu_features) features += (features.empty() ? "" : " ") + f;
    out += "cpu features: " + (features.empty() ? std::string("baseline") : features) + "\n";
    if (!info.cuda_built) {
        out += "cuda: not in this build\n";
        return out;
    }
    if (info.cuda_module.empty()) {
        out += "cuda: built, module not found" + (info.cuda_problem.empty() ? "" : " (" + info.cuda_problem + ")") + "\n";
        return out;
    }
    out += "cuda module: " + info.cuda_module + "\n";
    if (!info.cuda_loaded) {
        out += "cuda: " + (info.cuda_problem.empty() ? std::string("module not loaded") : info.cuda_problem) + "\n";
    } else if (info.cuda_devices.empty()) {
        out += "cuda: built, no device\n";
    } else {
        out += "cuda: built, " + std::to_string(info.cuda_devices.size()) +
               (info.cuda_devices.size() == 1 ? " device\n" : " devices\n");
        for (std::size_t i = 0; i < info.cuda_devices.size(); ++i) {
            out += "  " + std::to_string(i) + ": " + info.cuda_devices[i] + "\n";
        }
    }
    return out;
}

}  // namespace parity::run
