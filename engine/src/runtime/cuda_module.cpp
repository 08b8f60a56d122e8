// The CUDA module loader (engine/runtime/cuda_module.h) and the device queries of
// engine/runtime/cuda_device.h, answered by the loaded module.

#include "engine/runtime/cuda_module.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <system_error>

#include "engine/error.h"
#include "engine/runtime/cuda_device.h"

#ifndef PARITY_CUDA_MODULE_BUILD_ID
#error "PARITY_CUDA_MODULE_BUILD_ID must be defined by the build (engine/CMakeLists.txt)"
#endif
#ifndef PARITY_CUDA_MODULE_INSTALL_DIR
#error "PARITY_CUDA_MODULE_INSTALL_DIR (bin dir to module dir, relative) must be defined by the build"
#endif
#ifndef PARITY_CUDA_MODULE_BUILT
#define PARITY_CUDA_MODULE_BUILT 0
#endif

namespace parity::cuda {

namespace {

std::string one_line(std::string s) {
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return s;
}

std::string last_dl_error() {
    const char* e = dlerror();
    return one_line(e != nullptr ? e : "unknown error");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Finding the module

std::vector<std::filesystem::path> module_candidates() {
    if (const char* env = std::getenv(kModuleEnvVar); env != nullptr && *env != '\0') {
        return {std::filesystem::path(env)};
    }
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const auto dir = exe.parent_path();
    return {dir / kModuleFileName, (dir / PARITY_CUDA_MODULE_INSTALL_DIR / kModuleFileName).lexically_normal()};
}

std::optional<std::filesystem::path> find_module() {
    for (const auto& p : module_candidates()) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    return std::nullopt;
}

std::string module_not_found_message() {
    const auto candidates = module_candidates();
    if (candidates.empty()) {
        return std::string("CUDA module not found (the executable's folder is unknown; set ") + kModuleEnvVar + ")";
    }
    std::string out = "CUDA module not found at " + candidates.front().string();
    for (std::size_t i = 1; i < candidates.size(); ++i) out += " or " + candidates[i].string();
    if (std::getenv(kModuleEnvVar) != nullptr && *std::getenv(kModuleEnvVar) != '\0') {
        out += std::string(" (from ") + kModuleEnvVar + ")";
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// CudaModule

/// The dlopen handle, closed with the object.
struct CudaModule::Library {
    void* handle = nullptr;
    explicit Library(void* h) : handle(h) {}
    ~Library() {
        if (handle != nullptr) dlclose(handle);
    }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

CudaModule::CudaModule(const std::filesystem::path& file) : origin_(file.string()) {
    dlerror();  // clear any earlier error
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        throw UsageError("CUDA module " + origin_ + " could not be loaded: " + last_dl_error());
    }
    library_ = std::make_unique<Library>(handle);
    void* sym = dlsym(handle, PARITY_CUDA_MODULE_ENTRY);
    if (sym == nullptr) {
        throw UsageError("CUDA module " + origin_ + " has no entry point " PARITY_CUDA_MODULE_ENTRY " (" +
                         last_dl_error() + ")");
    }
    const auto entry = reinterpret_cast<ParityCudaModuleEntry>(sym);
    const ParityCudaModuleV1* t = entry();
    if (t == nullptr) throw UsageError("CUDA module " + origin_ + ": its entry point returned no table");
    if (t->abi_version != PARITY_CUDA_MODULE_ABI_VERSION || t->struct_size != sizeof(ParityCudaModuleV1)) {
        throw UsageError("CUDA module " + origin_ + " has ABI version " + std::to_string(t->abi_version) +
                         " (table of " + std::to_string(t->struct_size) + " bytes); this program expects version " +
                         std::to_string(PARITY_CUDA_MODULE_ABI_VERSION) + " (" +
                         std::to_string(sizeof(ParityCudaModuleV1)) + " bytes)");
    }
    const std::string id = t->build_id != nullptr ? t->build_id : "";
    if (id != PARITY_CUDA_MODULE_BUILD_ID || t->sizeof_model != sizeof(Model) ||
        t->sizeof_session_options != sizeof(SessionOptions)) {
        throw UsageError("CUDA module " + origin_ + " belongs to another build (module: '" + id +
                         "', this program: '" PARITY_CUDA_MODULE_BUILD_ID "'): use the module built with this program");
    }
    table_ = t;
}

CudaModule::CudaModule(const ParityCudaModuleV1& linked, std::string origin)
    : table_(&linked), origin_(std::move(origin)) {}

CudaModule::~CudaModule() = default;
CudaModule::CudaModule(CudaModule&&) noexcept = default;
CudaModule& CudaModule::operator=(CudaModule&&) noexcept = default;

const std::string& CudaModule::origin() const noexcept { return origin_; }
const ParityCudaModuleV1& CudaModule::table() const noexcept { return *table_; }

// ---------------------------------------------------------------------------------------------
// The process's backend

namespace {

struct ProcessBackend {
    std::once_flag once;
    std::atomic<const ParityCudaModuleV1*> linked{nullptr};
    std::optional<CudaModule> module;
    CudaBackend backend;
    std::atomic<bool> loaded{false};
};

ProcessBackend& process_backend() {
    static ProcessBackend p;
    return p;
}

void load(ProcessBackend& p) {
    CudaBackend& b = p.backend;
    try {
        if (const ParityCudaModuleV1* linked = p.linked.load(); linked != nullptr) {
            p.module.emplace(*linked, "(linked into this program)");
        } else if (!PARITY_CUDA_MODULE_BUILT) {
            b.problem = "this build was not built with CUDA (configure with -DPARITY_CUDA=ON on a machine with nvcc)";
            return;
        } else if (const auto file = find_module()) {
            p.module.emplace(*file);
        } else {
            b.problem = module_not_found_message();
            return;
        }
        b.module = &*p.module;
        b.device_count = b.module->table().device_count();
        for (int i = 0; i < b.device_count; ++i) {
            try {
                b.devices.push_back(b.module->table().device_name(i));
            } catch (const std::exception& e) {
                b.devices.push_back("device " + std::to_string(i) + " (unnamed: " + one_line(e.what()) + ")");
            }
        }
        if (b.device_count == 0) {
            b.problem = "no CUDA device (CUDA module " + b.module->origin() +
                        " loaded; check the driver, nvidia-smi and CUDA_VISIBLE_DEVICES)";
        }
    } catch (const std::exception& e) {
        b.module = nullptr;
        b.device_count = 0;
        b.devices.clear();
        b.problem = one_line(e.what());
    }
}

}  // namespace

const CudaBackend& cuda_backend() noexcept {
    ProcessBackend& p = process_backend();
    std::call_once(p.once, [&p] {
        load(p);
        p.loaded = true;
    });
    return p.backend;
}

bool cuda_backend_loaded() noexcept {
    return process_backend().loaded.load();
}

void use_linked_module(const ParityCudaModuleV1* table) noexcept {
    if (table != nullptr && !process_backend().loaded.load()) process_backend().linked.store(table);
}

std::unique_ptr<Session> create_module_session(const Model& model, const SessionOptions& options) {
    const CudaBackend& b = cuda_backend();
    if (!b.problem.empty()) throw UsageError("backend cuda: " + b.problem);
    return b.module->table().create_session(model, options);
}

// ---------------------------------------------------------------------------------------------
// engine/runtime/cuda_device.h

bool built_with_cuda() noexcept { return PARITY_CUDA_MODULE_BUILT != 0; }

int device_count() noexcept { return cuda_backend().device_count; }

std::string device_name(int index) {
    const CudaBackend& b = cuda_backend();
    if (index < 0 || index >= b.device_count) {
        throw UsageError("CUDA device " + std::to_string(index) + " does not exist (" +
                         std::to_string(b.device_count) + " device(s) present" +
                         (b.problem.empty() ? std::string() : ": " + b.problem) + ")");
    }
    return b.devices[static_cast<std::size_t>(index)];
}

void dequantize_q8_0(std::span<const std::byte> blocks, std::span<float> out) {
    const CudaBackend& b = cuda_backend();
    if (b.module == nullptr) throw UsageError("dequantize_q8_0: " + b.problem);
    b.module->table().dequantize_q8_0(blocks, out);
}

}  // namespace parity::cuda
