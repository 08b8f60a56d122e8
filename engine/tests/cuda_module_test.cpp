// The CUDA module loader: where it looks, what it says when the module cannot be used, and (in a
// CUDA build) that the module built here loads and matches this build. No GPU needed.

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/runtime/cuda_device.h"
#include "engine/runtime/cuda_module.h"
#include "test_support.h"

namespace parity {
namespace {

std::string load_error(const std::filesystem::path& file) {
    try {
        cuda::CudaModule m(file);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(loaded)";
}

/// Sets or clears PARITY_CUDA_MODULE for one test.
class ModuleEnv {
public:
    explicit ModuleEnv(const char* value) {
        if (const char* old = std::getenv(cuda::kModuleEnvVar)) old_ = old;
        if (value != nullptr) {
            ::setenv(cuda::kModuleEnvVar, value, 1);
        } else {
            ::unsetenv(cuda::kModuleEnvVar);
        }
    }
    ~ModuleEnv() {
        if (old_) {
            ::setenv(cuda::kModuleEnvVar, old_->c_str(), 1);
        } else {
            ::unsetenv(cuda::kModuleEnvVar);
        }
    }
    ModuleEnv(const ModuleEnv&) = delete;
    ModuleEnv& operator=(const ModuleEnv&) = delete;

private:
    std::optional<std::string> old_;
};

TEST(CudaModuleSearch, BesideTheExecutableThenTheInstallLibDir) {
    const ModuleEnv env(nullptr);
    const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    const auto c = cuda::module_candidates();
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0], exe_dir / "libparity_cuda.so");
    EXPECT_EQ(c[1].filename(), "libparity_cuda.so");
    EXPECT_EQ(c[1].parent_path().filename(), "parity-harness");
    EXPECT_EQ(c[1], c[1].lexically_normal());
    EXPECT_NE(c[1].parent_path(), exe_dir);
}

TEST(CudaModuleSearch, TheEnvironmentVariableAloneWhenSet) {
    const ModuleEnv env("/nowhere/custom.so");
    EXPECT_EQ(cuda::module_candidates(), std::vector<std::filesystem::path>{"/nowhere/custom.so"});
    EXPECT_EQ(cuda::find_module(), std::nullopt);
    EXPECT_EQ(cuda::module_not_found_message(), "CUDA module not found at /nowhere/custom.so (from PARITY_CUDA_MODULE)");
}

TEST(CudaModuleSearch, AnEmptyVariableIsUnset) {
    const ModuleEnv env("");
    EXPECT_EQ(cuda::module_candidates().size(), 2u);
}

TEST(CudaModuleLoad, AMissingFileIsOneLineNamingIt) {
    const std::string e = load_error("/nowhere/libparity_cuda.so");
    EXPECT_EQ(e.rfind("CUDA module /nowhere/libparity_cuda.so could not be loaded: ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(CudaModuleLoad, AFileThatIsNoLibraryIsRefused) {
    const testing::TempDir dir;
    std::ofstream(dir / "libparity_cuda.so") << "not an ELF file\n";
    const std::string e = load_error(dir / "libparity_cuda.so");
    EXPECT_NE(e.find("could not be loaded: "), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(CudaModuleLoad, ALibraryWithoutTheEntryPointIsRefused) {
    // libm is loaded in every C++ program; dlopen finds it by its soname.
    const std::string e = load_error("libm.so.6");
    EXPECT_NE(e.find("CUDA module libm.so.6 has no entry point parity_cuda_module_v1"), std::string::npos) << e;
}

#ifdef PARITY_TEST_CUDA_MODULE
TEST(CudaModuleLoad, TheModuleOfThisBuildLoadsAndMatches) {
    const cuda::CudaModule m(PARITY_TEST_CUDA_MODULE);
    EXPECT_EQ(m.origin(), PARITY_TEST_CUDA_MODULE);
    EXPECT_EQ(m.table().abi_version, PARITY_CUDA_MODULE_ABI_VERSION);
    EXPECT_GE(m.table().device_count(), 0);
}

TEST(CudaBackend, WithTheModuleFoundTheProblemIsTheDevice) {
    const ModuleEnv env(PARITY_TEST_CUDA_MODULE);
    const cuda::CudaBackend& b = cuda::cuda_backend();
    ASSERT_NE(b.module, nullptr) << b.problem;
    EXPECT_EQ(b.module->origin(), PARITY_TEST_CUDA_MODULE);
    EXPECT_EQ(b.devices.size(), static_cast<std::size_t>(b.device_count));
    if (b.device_count == 0) {
        EXPECT_EQ(b.problem.rfind("no CUDA device (CUDA module " PARITY_TEST_CUDA_MODULE " loaded", 0), 0u) << b.problem;
    } else {
        EXPECT_EQ(b.problem, "");
    }
}
#endif

TEST(CudaBackend, WithoutTheModuleTheProblemSaysWhere) {
    const ModuleEnv env("/nowhere/libparity_cuda.so");
    EXPECT_FALSE(cuda::cuda_backend_loaded());
    const cuda::CudaBackend& b = cuda::cuda_backend();
    EXPECT_TRUE(cuda::cuda_backend_loaded());
    EXPECT_EQ(b.module, nullptr);
    EXPECT_EQ(b.device_count, 0);
    EXPECT_EQ(cuda::device_count(), 0);
    EXPECT_EQ(b.problem, cuda::built_with_cuda()
                             ? "CUDA module not found at /nowhere/libparity_cuda.so (from PARITY_CUDA_MODULE)"
                             : "this build was not built with CUDA (configure with -DPARITY_CUDA=ON on a machine "
                               "with nvcc)");
    EXPECT_THROW((void)cuda::device_name(0), UsageError);
}

}  // namespace
}  // namespace parity
