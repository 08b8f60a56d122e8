// tanh GELU, exact and by ggml's fp16 table.

#include "engine/runtime/gelu.h"

#include <array>
#include <cmath>

#include "engine/half.h"

namespace parity {

float gelu_tanh(float x) noexcept {
    constexpr float kCoefA = 0.044715f;
    constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoefA * x * x)));
}

std::span<const std::uint16_t> gelu_fp16_table() noexcept {
    static const auto table = [] {
        std::array<std::uint16_t, 65536> t{};
        for (std::size_t h = 0; h < t.size(); ++h) {
            t[h] = fp32_to_fp16(gelu_tanh(fp16_to_fp32(static_cast<std::uint16_t>(h))));
        }
        return t;
    }();
    return table;
}

float gelu_ggml(float x) noexcept {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    return fp16_to_fp32(gelu_fp16_table()[fp32_to_fp16(x)]);
}

}  // namespace parity
