#pragma once
// The CUDA devices this process can use, asked of the CUDA module (engine/runtime/cuda_module.h):
// the first call of device_count(), device_name() or dequantize_q8_0() loads the module. Nothing
// here depends on whether CUDA was built; without it (or without the module, the CUDA runtime or a
// device) the queries report no device and the operations throw UsageError saying which.

#include <cstddef>
#include <span>
#include <string>

namespace parity::cuda {

/// True when this build made the CUDA module (nvcc was found at configure time). Loads nothing.
bool built_with_cuda() noexcept;

/// Number of usable CUDA devices (0 without CUDA, the module, a driver or a GPU).
int device_count() noexcept;

/// "NVIDIA H100 80GB HBM3 (sm_90)" for device `index`. Throws UsageError when absent.
std::string device_name(int index);

/// Dequantizes Q8_0 blocks on device 0 (the same math as the CPU's dequantize_row:
/// y = fp16(d) * q per 32-value block). `blocks` holds n/32 blocks of 34 bytes, `out` n floats.
/// Throws UsageError without the module or a device, std::runtime_error on a CUDA failure.
void dequantize_q8_0(std::span<const std::byte> blocks, std::span<float> out);

}  // namespace parity::cuda
