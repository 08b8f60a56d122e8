// The public entry points of engine/quant/quant.h: pick the codec of a type, check the sizes.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "codecs.h"
#include "engine/error.h"
#include "engine/quant/quant.h"

namespace parity {

namespace {

using namespace quant_detail;

using QuantizeFn = void (*)(Src, Dst);
using DequantizeFn = void (*)(Bytes, Out);

struct Codec {
    GgmlType type;
    QuantizeFn quantize;      // nullptr: no encoder
    DequantizeFn dequantize;  // nullptr: no decoder
};

constexpr std::array<Codec, 22> kCodecs{{
    {GgmlType::F32, quantize_f32, dequantize_f32},
    {GgmlType::F16, quantize_f16, dequantize_f16},
    {GgmlType::BF16, quantize_bf16, dequantize_bf16},
    {GgmlType::F64, nullptr, dequantize_f64},
    {GgmlType::I8, nullptr, dequantize_i8},
    {GgmlType::I16, nullptr, dequantize_i16},
    {GgmlType::I32, nullptr, dequantize_i32},
    {GgmlType::I64, nullptr, dequantize_i64},
    {GgmlType::Q4_0, quantize_q4_0, dequantize_q4_0},
    {GgmlType::Q4_1, quantize_q4_1, dequantize_q4_1},
    {GgmlType::Q5_0, quantize_q5_0, dequantize_q5_0},
    {GgmlType::Q5_1, quantize_q5_1, dequantize_q5_1},
    {GgmlType::Q8_0, quantize_q8_0, dequantize_q8_0},
    {GgmlType::Q8_1, quantize_q8_1, dequantize_q8_1},
    {GgmlType::Q2_K, quantize_q2_k, dequantize_q2_k},
    {GgmlType::Q3_K, quantize_q3_k, dequantize_q3_k},
    {GgmlType::Q4_K, quantize_q4_k, dequantize_q4_k},
    {GgmlType::Q5_K, quantize_q5_k, dequantize_q5_k},
    {GgmlType::Q6_K, quantize_q6_k, dequantize_q6_k},
    {GgmlType::Q8_K, quantize_q8_k, dequantize_q8_k},
    {GgmlType::IQ4_NL, quantize_iq4_nl, dequantize_iq4_nl},
    {GgmlType::IQ4_XS, quantize_iq4_xs, dequantize_iq4_xs},
}};

const Codec* find_codec(GgmlType type) noexcept {
    for (const auto& c : kCodecs) {
        if (c.type == type) return &c;
    }
    return nullptr;
}

/// "Q4_K", or "type 99" for an id ggml does not define (never dereferences unknown ids).
std::string describe(GgmlType type) {
    const auto t = ggml_type_traits(static_cast<std::uint32_t>(type));
    return t ? std::string(t->name) : "type " + std::to_string(static_cast<std::uint32_t>(type));
}

/// Throws unless n values of `type` fill exactly `bytes` bytes.
void check_sizes(const char* what, GgmlType type, std::size_t n, std::size_t bytes) {
    const auto& t = traits(type);
    const auto block = static_cast<std::size_t>(t.block_size);
    if (n % block != 0) {
        throw UsageError(std::string(what) + ": " + std::to_string(n) + " values are not a multiple of the " +
                         std::string(t.name) + " block size " + std::to_string(block));
    }
    const std::size_t expected = n / block * t.type_size;
    if (bytes != expected) {
        throw UsageError(std::string(what) + ": " + std::to_string(n) + " " + std::string(t.name) + " values take " +
                         std::to_string(expected) + " bytes, got a buffer of " + std::to_string(bytes));
    }
}

}  // namespace

bool can_dequantize(GgmlType type) noexcept {
    const Codec* c = find_codec(type);
    return c != nullptr && c->dequantize != nullptr;
}

bool can_quantize(GgmlType type) noexcept {
    const Codec* c = find_codec(type);
    return c != nullptr && c->quantize != nullptr;
}

void dequantize_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst) {
    const Codec* c = find_codec(type);
    if (c == nullptr || c->dequantize == nullptr) {
        throw UsageError("dequantize_row: no decoder for tensor type " + describe(type));
    }
    check_sizes("dequantize_row", type, dst.size(), src.size());
    if (dst.empty()) return;
    c->dequantize(src, dst);
}

namespace {

using ExactFn = void (*)(Bytes, OutExact);

/// The exact decoder of `type`; nullptr where the float decoder is exact (see quant.h).
ExactFn exact_decoder(GgmlType type) noexcept {
    switch (type) {
        case GgmlType::Q4_1: return dequantize_q4_1_exact;
        case GgmlType::Q5_1: return dequantize_q5_1_exact;
        case GgmlType::Q2_K: return dequantize_q2_k_exact;
        case GgmlType::Q4_K: return dequantize_q4_k_exact;
        case GgmlType::Q5_K: return dequantize_q5_k_exact;
        case GgmlType::Q6_K: return dequantize_q6_k_exact;
        case GgmlType::IQ4_XS: return dequantize_iq4_xs_exact;
        default: return nullptr;
    }
}

}  // namespace

bool can_dequantize_exact(GgmlType type) noexcept {
    switch (type) {
        case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0: case GgmlType::Q5_0:
        case GgmlType::Q8_0: case GgmlType::Q3_K: case GgmlType::IQ4_NL: return true;
        default: return exact_decoder(type) != nullptr;
    }
}

void dequantize_row_exact(GgmlType type, std::span<const std::byte> src, std::span<double> dst) {
    if (!can_dequantize_exact(type)) {
        throw UsageError("dequantize_row_exact: no exact decoder for tensor type " + describe(type));
    }
    check_sizes("dequantize_row_exact", type, dst.size(), src.size());
    if (dst.empty()) return;
    if (const ExactFn exact = exact_decoder(type)) {
        exact(src, dst);
        return;
    }
    std::vector<float> values(dst.size());
    find_codec(type)->dequantize(src, values);
    std::copy(values.begin(), values.end(), dst.begin());
}

void quantize_row(GgmlType type, std::span<const float> src, std::span<std::byte> dst) {
    const Codec* c = find_codec(type);
    if (c == nullptr || c->quantize == nullptr) {
        throw UsageError("quantize_row: no encoder for tensor type " + describe(type));
    }
    check_sizes("quantize_row", type, src.size(), dst.size());
    if (src.empty()) return;
    c->quantize(src, dst);
}

}  // namespace parity
