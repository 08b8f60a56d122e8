// Plain element types: F32, F16, BF16 both ways (ggml_fp32_to_fp16_row,
// ggml_fp32_to_bf16_row_ref, ggml_fp16_to_fp32_row, ggml_bf16_to_fp32_row), and F64 and the
// integer types to float (a C cast, round to nearest even where the value is not exact).
#include <cstdint>
#include <cstring>

#include "codecs.h"
#include "engine/half.h"

#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>
#endif

namespace parity::quant_detail {

namespace {

/// Reads element i of type T from unaligned little-endian bytes.
template <class T>
T load(Bytes x, std::size_t i) {
    T v;
    std::memcpy(&v, x.data() + i * sizeof(T), sizeof(T));
    return v;
}

template <class T>
void store(Dst y, std::size_t i, T v) {
    std::memcpy(y.data() + i * sizeof(T), &v, sizeof(T));
}

template <class T>
void cast_row(Bytes x, Out y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(load<T>(x, i));
}

}  // namespace

void quantize_f32(Src x, Dst y) { std::memcpy(y.data(), x.data(), x.size_bytes()); }

void quantize_f16(Src x, Dst y) {
    std::size_t i = 0;
#if defined(__AVX2__) && defined(__F16C__)
    // F16C rounds to nearest even like fp32_to_fp16, overflow and subnormals included; it keeps a
    // NaN's payload where fp32_to_fp16 writes sign | 0x7E00, so groups holding a NaN go the scalar way.
    for (; i + 8 <= x.size(); i += 8) {
        const __m256 v = _mm256_loadu_ps(x.data() + i);
        const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
        if (!_mm256_testz_ps(nan, nan)) {
            for (std::size_t k = i; k < i + 8; ++k) store<std::uint16_t>(y, k, fp32_to_fp16(x[k]));
            continue;
        }
        const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        std::memcpy(y.data() + i * 2, &h, sizeof h);
    }
#endif
    for (; i < x.size(); ++i) store<std::uint16_t>(y, i, fp32_to_fp16(x[i]));
}

void quantize_bf16(Src x, Dst y) {
    for (std::size_t i = 0; i < x.size(); ++i) store<std::uint16_t>(y, i, fp32_to_bf16(x[i]));
}

void dequantize_f32(Bytes x, Out y) { std::memcpy(y.data(), x.data(), y.size_bytes()); }

void dequantize_f16(Bytes x, Out y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = fp16_to_fp32(load<std::uint16_t>(x, i));
}

void dequantize_bf16(Bytes x, Out y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = bf16_to_fp32(load<std::uint16_t>(x, i));
}

void dequantize_f64(Bytes x, Out y) { cast_row<double>(x, y); }
void dequantize_i8(Bytes x, Out y) { cast_row<std::int8_t>(x, y); }
void dequantize_i16(Bytes x, Out y) { cast_row<std::int16_t>(x, y); }
void dequantize_i32(Bytes x, Out y) { cast_row<std::int32_t>(x, y); }
void dequantize_i64(Bytes x, Out y) { cast_row<std::int64_t>(x, y); }

}  // namespace parity::quant_detail
