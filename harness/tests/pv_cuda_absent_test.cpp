// pv where backend cuda cannot run (this program points PARITY_CUDA_MODULE at a file that does not
// exist; a build without CUDA has no module anyway): an explicit --backend cuda is an error with
// exit 2 and one line, never a CPU fallback; a suite's cuda path is skipped with the reason; and
// CPU work never looks for the module.

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "engine/runtime/cuda_device.h"
#include "engine/runtime/cuda_module.h"
#include "pv_runner.h"
#include "run_fixture.h"

namespace parity::testing {
namespace {

constexpr const char* kMissingModule = "/nonexistent/parity/libparity_cuda.so";

// Set before any test runs; each test is also a process of its own under CTest.
const bool module_env_set = (::setenv(cuda::kModuleEnvVar, kMissingModule, 1), true);

/// The reason every refusal must carry.
std::string expected_problem() {
    return cuda::built_with_cuda() ? std::string("CUDA module not found at ") + kMissingModule + " (from PARITY_CUDA_MODULE)"
                                   : "this build was not built with CUDA";
}

void expect_one_line_error(const PvResult& r, const std::string& command) {
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("pv " + command + ": error: --backend cuda cannot run here: " + expected_problem(), 0), 0u)
        << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // exactly one line
}

TEST(PvCudaAbsent, TraceWithBackendCudaIsAnError) {
    ASSERT_TRUE(module_env_set);
    const auto& m = RunModels::get();
    expect_one_line_error(run_pv({"trace", "--model", m.gguf_f32.string(), "--tokens", "1,2,3", "--backend", "cuda"}),
                          "trace");
}

TEST(PvCudaAbsent, GenerateWithBackendCudaIsAnError) {
    const auto& m = RunModels::get();
    expect_one_line_error(
        run_pv({"generate", "--model", m.gguf_f32.string(), "--tokens", "1,2,3", "-n", "2", "--backend", "cuda"}),
        "generate");
}

TEST(PvCudaAbsent, BenchWithBackendCudaIsAnError) {
    const auto& m = RunModels::get();
    expect_one_line_error(run_pv({"bench", "--model", m.gguf_f32.string(), "--backend", "cuda"}), "bench");
}

TEST(PvCudaAbsent, ErrorComesBeforeTheModelIsRead) {
    const PvResult r = run_pv({"trace", "--model", "/nonexistent/model.gguf", "--tokens", "1", "--backend", "cuda"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--backend cuda cannot run here"), std::string::npos) << r.err;
}

class PvRunCudaAbsent : public ::testing::Test {
protected:
    void SetUp() override {
        RunModels::get();
        suite_ = dir_ / "suite.cfg";
        write_text(suite_, suite_text());
        contract_ = dir_ / "c.yaml";
    }
    PvResult run(const std::vector<std::string>& tests, std::vector<std::string> extra = {}) {
        write_text(contract_, contract_text(tests));
        std::vector<std::string> args{"run", contract_.string(), "--suite", suite_.string(), "--report-dir",
                                      (dir_ / "reports").string(), "--format", "json"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_pv(args);
    }
    TempDir tmp_;
    std::filesystem::path dir_ = tmp_.path();
    std::filesystem::path suite_, contract_;
};

TEST_F(PvRunCudaAbsent, PathOptionWithBackendCudaIsAnError) {
    const PvResult r = run({bound_test("C-1", "finite, path: gguf")}, {"--path", "gguf=backend=cuda"});
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("--path gguf=backend=cuda: backend cuda cannot run here: " + expected_problem()),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("PASS"), std::string::npos) << r.out;  // nothing ran on the CPU instead
}

TEST_F(PvRunCudaAbsent, SuiteCudaPathIsSkippedWithTheReason) {
    const PvResult r = run({bound_test("G-1", "finite, path: gguf_cuda"), bound_test("C-1", "finite, path: gguf")});
    EXPECT_EQ(r.code, 0) << r.out << r.err;  // the CPU test passed; the skipped one does not fail the run
    EXPECT_NE(r.out.find("SKIPPED  G-1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("path gguf_cuda: backend cuda: " + expected_problem()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PASS     C-1"), std::string::npos) << r.out;
}

TEST_F(PvRunCudaAbsent, CpuRunsNeverLookForTheModule) {
    const PvResult r = run({bound_test("C-1", "finite, path: gguf"), bound_test("C-2", "finite, path: apr")});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_FALSE(cuda::cuda_backend_loaded());
}

TEST(PvCudaAbsent, HelpAndValidateNeverLookForTheModule) {
    EXPECT_EQ(run_pv({"--help"}).code, 0);
    const PvResult v = run_pv({"validate", PARITY_SOURCE_DIR "/contracts"});
    EXPECT_EQ(v.code, 0) << v.out << v.err;
    EXPECT_FALSE(cuda::cuda_backend_loaded());
}

TEST(PvCudaAbsent, VersionSaysWhereTheModuleWasLookedFor) {
    const PvResult r = run_pv({"--version"});
    EXPECT_EQ(r.code, 0);
    if (cuda::built_with_cuda()) {
        EXPECT_NE(r.out.find(std::string("\ncuda: built, module not found (CUDA module not found at ") + kMissingModule),
                  std::string::npos)
            << r.out;
    } else {
        EXPECT_NE(r.out.find("\ncuda: not in this build\n"), std::string::npos) << r.out;
    }
}

}  // namespace
}  // namespace parity::testing
