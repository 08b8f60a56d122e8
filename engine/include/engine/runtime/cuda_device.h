#pragma once
// The CUDA side of the engine as far as it exists yet: device discovery and one small
// kernel. Nothing here depends on whether CUDA was built; without it the queries report
// no device and the operations throw UsageError("... not built with CUDA ...").

#include <cstddef>
#include <span>
#include <string>

namespace parity::cuda {

/// True when this build contains the CUDA backend.
bool built_with_cuda() noexcept;

/// Number of usable CUDA devices (0 without CUDA, without a driver, or without a GPU).
int device_count() noexcept;

/// "NVIDIA H100 80GB HBM3 (sm_90)" for device `index`. Throws UsageError when absent.
std::string device_name(int index);

/// Dequantizes Q8_0 blocks on device 0 (the same math as the CPU's dequantize_row:
/// y = fp16(d) * q per 32-value block). `blocks` holds n/32 blocks of 34 bytes, `out` n floats.
/// Throws UsageError without CUDA or a device, std::runtime_error on a CUDA failure.
void dequantize_q8_0(std::span<const std::byte> blocks, std::span<float> out);

}  // namespace parity::cuda
