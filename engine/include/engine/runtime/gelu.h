#pragma once
// tanh GELU as ggml computes it, exactly and through ggml's CPU table, shared by the backends so
// that both round identically.

#include <cstdint>
#include <span>

namespace parity {

/// 0.5 x (1 + tanhf(sqrt(2/pi) x (1 + 0.044715 x^2))) in float (ggml_gelu_f32).
float gelu_tanh(float x) noexcept;

/// ggml's table: entry h = fp16(gelu_tanh(fp16_to_fp32(h))) for each of the 65536 fp16 bit
/// patterns.
std::span<const std::uint16_t> gelu_fp16_table() noexcept;

/// GELU of one value as ggml's CPU backend computes it: 0 for x <= -10, x for x >= 10, else the
/// table entry of fp16(x), widened to float.
float gelu_ggml(float x) noexcept;

}  // namespace parity
