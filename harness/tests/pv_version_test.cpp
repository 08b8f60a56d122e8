// pv --version: the build facts, as printed and as collected.

#include <gtest/gtest.h>

#include <string_view>

#include "engine/runtime/cuda_device.h"
#include "engine/runtime/cuda_module.h"
#include "reports/describe.h"
#include "harness/run/build_info.h"
#include "pv_runner.h"

namespace parity {
namespace {

using testing::run_pv;

TEST(PvVersion, PrintsVersionCommitBuildTypeFeaturesAndCuda) {
    for (const char* flag : {"--version", "-V", "version"}) {
        const auto r = run_pv({flag});
        EXPECT_EQ(r.code, 0) << flag;
        EXPECT_TRUE(r.err.empty()) << r.err;
        EXPECT_EQ(r.out.rfind("pv " PARITY_TEST_VERSION " (commit ", 0), 0u) << r.out;
        for (const char* line : {"\nbuild type: ", "\ncompiler: ", "\ncpu features: ", "\ncuda: "}) {
            EXPECT_NE(r.out.find(line), std::string::npos) << line << " in\n" << r.out;
        }
        if (!cuda::built_with_cuda()) {
            EXPECT_NE(r.out.find("\ncuda: not in this build\n"), std::string::npos) << r.out;
        }
    }
}

TEST(PvVersion, FormatsEveryFact) {
    reports::BuildInfo b;
    b.version = "1.2.3";
    b.commit = "abc1234";
    b.build_type = "Release";
    b.compiler = "GNU 12.2.0";
    b.cpu_features = {"AVX2", "FMA"};
    EXPECT_EQ(run::format_build_info(b),
              "pv 1.2.3 (commit abc1234)\nbuild type: Release\ncompiler: GNU 12.2.0\ncpu features: AVX2 FMA\n"
              "cuda: not in this build\n");
    b.cpu_features.clear();
    b.cuda_built = true;
    b.cuda_problem = "CUDA module not found at /opt/pv/libparity_cuda.so";
    EXPECT_EQ(run::format_build_info(b),
              "pv 1.2.3 (commit abc1234)\nbuild type: Release\ncompiler: GNU 12.2.0\ncpu features: baseline\n"
              "cuda: built, module not found (CUDA module not found at /opt/pv/libparity_cuda.so)\n");
    b.cuda_module = "/opt/pv/libparity_cuda.so";
    b.cuda_problem = "CUDA module /opt/pv/libparity_cuda.so could not be loaded: libcublas.so.13: cannot open shared "
                     "object file: No such file or directory";
    EXPECT_EQ(run::format_build_info(b),
              "pv 1.2.3 (commit abc1234)\nbuild type: Release\ncompiler: GNU 12.2.0\ncpu features: baseline\n"
              "cuda module: /opt/pv/libparity_cuda.so\ncuda: CUDA module /opt/pv/libparity_cuda.so could not be "
              "loaded: libcublas.so.13: cannot open shared object file: No such file or directory\n");
    b.cuda_loaded = true;
    b.cuda_problem = "no CUDA device";
    EXPECT_EQ(run::format_build_info(b),
              "pv 1.2.3 (commit abc1234)\nbuild type: Release\ncompiler: GNU 12.2.0\ncpu features: baseline\n"
              "cuda module: /opt/pv/libparity_cuda.so\ncuda: built, no device\n");
    b.cuda_problem.clear();
    b.cuda_devices = {"NVIDIA H200 (sm_90)", "NVIDIA L4 (sm_89)"};
    EXPECT_EQ(run::format_build_info(b),
              "pv 1.2.3 (commit abc1234)\nbuild type: Release\ncompiler: GNU 12.2.0\ncpu features: baseline\n"
              "cuda module: /opt/pv/libparity_cuda.so\ncuda: built, 2 devices\n  0: NVIDIA H200 (sm_90)\n"
              "  1: NVIDIA L4 (sm_89)\n");
}

TEST(PvVersion, ReportsDescribeTheModuleState) {
    reports::BuildInfo b;
    b.version = "1.2.3";
    b.commit = "abc1234";
    b.build_type = "Release";
    b.compiler = "GNU 12.2.0";
    const std::string head = "pv 1.2.3, commit abc1234, Release, GNU 12.2.0, CPU baseline";
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA not built");
    b.cuda_built = true;
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA module not found");
    b.cuda_module = "/opt/pv/libparity_cuda.so";
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA module not loaded (no cuda path ran)");
    b.cuda_problem = "CUDA module /opt/pv/libparity_cuda.so could not be loaded: libcublas.so.13: missing";
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA module not loaded: " + b.cuda_problem);
    b.cuda_loaded = true;
    b.cuda_problem = "no CUDA device";
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA module loaded, no device");
    b.cuda_problem.clear();
    b.cuda_devices = {"NVIDIA H200 (sm_90)"};
    EXPECT_EQ(reports::describe_build(b), head + ", CUDA: NVIDIA H200 (sm_90)");
}

TEST(PvVersion, CpuFeaturesFollowTheTargetArchitecture) {
    if (std::string_view(PARITY_TEST_CPU_ARCH) != "x86-64-v3") GTEST_SKIP() << "built for " << PARITY_TEST_CPU_ARCH;
    // x86-64-v3 is AVX2, FMA, F16C, BMI2 on top of v2's SSE4.2 (and AVX); not AVX-512.
    EXPECT_EQ(run::compiled_cpu_features(), (std::vector<std::string>{"SSE4.2", "AVX", "AVX2", "FMA", "F16C", "BMI2"}));
}

TEST(PvVersion, CollectedFactsAreConsistent) {
    const reports::BuildInfo b = run::build_info(run::CudaProbe::Load);
    EXPECT_EQ(b.version, PARITY_TEST_VERSION);
    EXPECT_FALSE(b.commit.empty());
    EXPECT_EQ(b.cuda_built, cuda::built_with_cuda());
    EXPECT_EQ(b.cuda_devices.size(), static_cast<std::size_t>(cuda::device_count()));
    EXPECT_EQ(b.cuda_loaded, cuda::cuda_backend().module != nullptr);
    EXPECT_EQ(b.cpu_features, run::compiled_cpu_features());
}

TEST(PvVersion, ReportFactsLoadNoModule) {
    const reports::BuildInfo b = run::build_info();
    EXPECT_FALSE(cuda::cuda_backend_loaded());
    EXPECT_FALSE(b.cuda_loaded);
    EXPECT_TRUE(b.cuda_devices.empty());
}

}  // namespace
}  // namespace parity
