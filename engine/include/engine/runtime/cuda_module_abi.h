#pragma once
// The entry point of the CUDA module (libparity_cuda.so, built from engine/src/runtime/cuda/ when
// nvcc is found) and the table it hands to the loader (engine/runtime/cuda_module.h).
//
// The module exports one symbol with C linkage,
//
//   extern "C" const ParityCudaModuleV1* parity_cuda_module_v1() noexcept;
//
// returning a table that lives as long as the module stays loaded. The table's functions take and
// return C++ types (std::string, std::unique_ptr<Session>, spans), so a module works only with the
// build that made it: the loader refuses a table whose abi_version, struct_size, build_id or the
// sizes of Model and SessionOptions differ from its own. A new entry is appended at the end and
// bumps PARITY_CUDA_MODULE_ABI_VERSION; entries are never reordered.
//
// Exceptions thrown by the table's functions reach the caller as from any other engine function
// (UsageError for a request the device cannot serve, std::runtime_error for a CUDA failure).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/model/model.h"
#include "engine/runtime/forward.h"

#define PARITY_CUDA_MODULE_ABI_VERSION 1u
/// The name of the entry point, for dlsym.
#define PARITY_CUDA_MODULE_ENTRY "parity_cuda_module_v1"

struct ParityCudaModuleV1 {
    std::uint32_t abi_version;             ///< PARITY_CUDA_MODULE_ABI_VERSION of the module's build
    std::uint32_t struct_size;             ///< sizeof(ParityCudaModuleV1) of the module's build
    const char* build_id;                  ///< "VERSION COMPILER COMPILER_VERSION" of the module's build
    std::uint32_t sizeof_model;            ///< sizeof(parity::Model) in the module
    std::uint32_t sizeof_session_options;  ///< sizeof(parity::SessionOptions) in the module

    /// Usable CUDA devices (0 without a driver or a GPU); never throws.
    int (*device_count)() noexcept;
    /// "NVIDIA H100 80GB HBM3 (sm_90)" for device `index`; UsageError when absent.
    std::string (*device_name)(int index);
    /// A session on device 0 (see create_session in engine/runtime/forward.h).
    std::unique_ptr<parity::Session> (*create_session)(const parity::Model& model,
                                                       const parity::SessionOptions& options);
    /// Q8_0 blocks (34 bytes per 32 values) -> floats on device 0 (engine/runtime/cuda_device.h).
    void (*dequantize_q8_0)(std::span<const std::byte> blocks, std::span<float> out);
};

/// The type of the entry point.
using ParityCudaModuleEntry = const ParityCudaModuleV1* (*)() noexcept;

/// The entry point, defined by the module only (engine/src/runtime/cuda/module_entry.cpp).
extern "C" const ParityCudaModuleV1* parity_cuda_module_v1() noexcept;
