// APR tensors to f32: the ggml-numbered dtypes through parity::dequantize_row, APR's own AprQ4
// and AprQ8 as aprender decodes them (format/v2/mod.rs dequantize_q4; reader_impl.rs
// get_tensor_as_f32, Q8 branch).

#include <cmath>
#include <cstring>

#include "layout.h"
#include "engine/format/apr.h"
#include "engine/error.h"
#include "engine/half.h"
#include "engine/quant/quant.h"

namespace parity::apr {

namespace {

constexpr std::size_t kQ4Block = 32;
constexpr std::size_t kQ4BlockBytes = 18;
// aprender's F16_MIN_NORMAL (format/f16_safety.rs): smaller AprQ4 scales decode as 0 (GH-186).
constexpr float kF16MinNormal = 6.1e-5f;

}  // namespace

void dequantize_apr_q4(std::span<const std::byte> src, std::span<float> dst) {
    const std::size_t n = dst.size();
    const std::size_t blocks = n / kQ4Block + (n % kQ4Block != 0 ? 1 : 0);
    if (src.size() != blocks * kQ4BlockBytes) {
        throw UsageError("AprQ4: " + std::to_string(n) + " values take " + std::to_string(blocks * kQ4BlockBytes) +
                         " bytes, got " + std::to_string(src.size()));
    }
    for (std::size_t b = 0; b < blocks; ++b) {
        const std::byte* block = src.data() + b * kQ4BlockBytes;
        float scale = fp16_to_fp32(detail::load_le<std::uint16_t>(block));
        if (std::isnan(scale) || std::isinf(scale) || std::fabs(scale) < kF16MinNormal) scale = 0.0f;
        const std::size_t first = b * kQ4Block;
        const std::size_t count = std::min(kQ4Block, n - first);
        for (std::size_t i = 0; i < count; ++i) {
            const auto byte = static_cast<std::uint8_t>(block[2 + i / 2]);
            const int nibble = (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
            dst[first + i] = static_cast<float>(nibble - 8) * scale;
        }
    }
}

void dequantize_apr_q8(std::span<const std::byte> src, std::span<float> dst) {
    const std::size_t n = dst.size();
    const std::size_t expected = n == 0 ? 0 : n + 4;
    if (src.size() != expected) {
        throw UsageError("AprQ8: " + std::to_string(n) + " values take " + std::to_string(expected) + " bytes, got " +
                         std::to_string(src.size()));
    }
    if (n == 0) return;
    float scale = 0.0f;
    std::memcpy(&scale, src.data(), sizeof scale);
    for (std::size_t i = 0; i < n; ++i) {
        dst[i] = static_cast<float>(static_cast<std::int8_t>(src[4 + i])) * scale;
    }
}

std::vector<float> File::dequantize(const TensorInfo& t) const {
    const auto n = static_cast<std::size_t>(t.n_elements());
    std::vector<float> out(n);
    const auto data = tensor_data(t);
    switch (t.dtype) {
        case DType::AprQ4: dequantize_apr_q4(data, out); return out;
        case DType::AprQ8: dequantize_apr_q8(data, out); return out;
        case DType::U8:
            for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<std::uint8_t>(data[i]));
            return out;
        default: break;
    }
    const GgmlType type = *to_ggml(t.dtype);
    if (!can_dequantize(type)) {
        throw UsageError(path_ + ": tensor '" + t.name + "': dequantizing " + std::string(dtype_name(t.dtype)) +
                         " is not supported");
    }
    if (n > 0) dequantize_row(type, data, out);
    return out;
}

}  // namespace parity::apr
