#pragma once
// Host-callable launchers for the device kernels. Plain pointers and C++17 only: this header
// is shared between nvcc-compiled .cu files and the C++20 host code that validates inputs.

#include <cstdint>

namespace parity::cuda::kernels {

/// Dequantizes n Q8_0 values (n % 32 == 0) from host `blocks` (n/32 x 34 bytes) into host
/// `out` (n floats) through device buffers. Throws std::runtime_error on a CUDA failure.
void dequantize_q8_0(const std::uint8_t* blocks, float* out, std::int64_t n);

}  // namespace parity::cuda::kernels
