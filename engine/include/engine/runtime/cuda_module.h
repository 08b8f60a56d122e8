#pragma once
// Loading the CUDA backend at run time. A CUDA build makes the backend a module of its own,
// libparity_cuda.so (the only part of the build that needs the CUDA runtime and cuBLAS), and the
// engine loads it with dlopen the first time something asks for backend cuda: pv --help, pv
// validate and CPU runs never load it, and a pv copied to a machine without CUDA runs unchanged.
//
// Where the module is looked for, in this order (the first file that exists is loaded):
//   1. $PARITY_CUDA_MODULE when it is set and not empty (then nothing else is tried);
//   2. beside the executable: <exe dir>/libparity_cuda.so (the build tree: pv and the module);
//   3. the install layout: <exe dir>/<bin to lib dir>/parity-harness/libparity_cuda.so
//      (bin/pv and lib/parity-harness/libparity_cuda.so after `cmake --install`).
// The entry point and its table are described in engine/runtime/cuda_module_abi.h.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/runtime/cuda_module_abi.h"

namespace parity::cuda {

/// The module's file name and the environment variable that overrides where it is looked for.
inline constexpr const char* kModuleFileName = "libparity_cuda.so";
inline constexpr const char* kModuleEnvVar = "PARITY_CUDA_MODULE";

/// The files the module is looked for at, in order (see above). Nothing is touched.
std::vector<std::filesystem::path> module_candidates();

/// The first candidate that exists (one stat each; nothing is loaded), or nullopt.
std::optional<std::filesystem::path> find_module();

/// "CUDA module not found at A (or B)": the message for a module that find_module() did not find.
std::string module_not_found_message();

/// A loaded CUDA module: the library (closed on destruction) and its checked entry table, or a
/// table linked into the program (the GPU tests link the backend statically). Move-only.
class CudaModule {
public:
    /// Loads `file` and checks its table. Throws UsageError, one line naming the file and the
    /// cause (the dlopen error, a missing entry point, a module of another build).
    explicit CudaModule(const std::filesystem::path& file);
    /// Wraps a table linked into the program; `origin` names it in messages.
    CudaModule(const ParityCudaModuleV1& linked, std::string origin);
    ~CudaModule();
    CudaModule(CudaModule&&) noexcept;
    CudaModule& operator=(CudaModule&&) noexcept;
    CudaModule(const CudaModule&) = delete;
    CudaModule& operator=(const CudaModule&) = delete;

    /// The file loaded, or the origin of a linked table.
    const std::string& origin() const noexcept;
    /// The table (valid while this object lives).
    const ParityCudaModuleV1& table() const noexcept;

private:
    struct Library;
    std::unique_ptr<Library> library_;  // null for a linked table
    const ParityCudaModuleV1* table_ = nullptr;
    std::string origin_;
};

/// The CUDA backend of this process, loaded on the first call to cuda_backend().
struct CudaBackend {
    const CudaModule* module = nullptr;  ///< null when no module could be loaded
    int device_count = 0;                ///< devices the module sees (0 without a module)
    std::vector<std::string> devices;    ///< their names, device_name(0 .. device_count - 1)
    /// Empty when backend cuda can run here; otherwise why not, one line: "this build was not
    /// built with CUDA ...", "CUDA module not found at ...", "CUDA module X could not be loaded:
    /// <dlopen error>", "no CUDA device ...".
    std::string problem;
};

/// Finds, loads and queries the module the first time it is called (thread-safe), then returns
/// the same answer. A build without CUDA never loads anything. Never throws.
const CudaBackend& cuda_backend() noexcept;

/// Whether cuda_backend() has been called in this process (so asking it costs nothing more).
bool cuda_backend_loaded() noexcept;

/// Makes `table` the process's CUDA backend instead of a module found on disk, for programs that
/// link the backend's static library (the GPU tests). Null is ignored. Call it before the first
/// cuda_backend(); later calls are ignored.
void use_linked_module(const ParityCudaModuleV1* table) noexcept;

/// create_session for backend cuda: a session from the loaded module. Throws UsageError
/// "backend cuda: <problem>" when cuda_backend() reports one.
std::unique_ptr<Session> create_module_session(const Model& model, const SessionOptions& options);

}  // namespace parity::cuda
