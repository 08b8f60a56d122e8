#pragma once
// The CUDA runtime's view of the devices, inside the backend (the module's table exposes these;
// the rest of the program asks through engine/runtime/cuda_device.h). Private to runtime/cuda.

#include <cstddef>
#include <span>
#include <string>

namespace parity::cuda::device {

/// Usable CUDA devices; 0 without a driver or a GPU (never throws).
int count() noexcept;

/// "NVIDIA H100 80GB HBM3 (sm_90)"; UsageError when `index` is not a device.
std::string name(int index);

/// Q8_0 blocks -> floats on device 0 (see engine/runtime/cuda_device.h).
void dequantize_q8_0(std::span<const std::byte> blocks, std::span<float> out);

}  // namespace parity::cuda::device
