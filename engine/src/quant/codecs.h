#pragma once
// Per-type row codecs behind parity::quantize_row / dequantize_row. Private to engine/src/quant.
//
// Preconditions (checked by quant_dispatch.cpp, not here): the value count is a multiple of
// the type's block size and the byte span holds exactly row_size(type, n) bytes.

#include <cstddef>
#include <span>

namespace parity::quant_detail {

using Src = std::span<const float>;
using Dst = std::span<std::byte>;
using Bytes = std::span<const std::byte>;
using Out = std::span<float>;
using OutExact = std::span<double>;

// float_types.cpp: plain element types.
void quantize_f32(Src x, Dst y);
void quantize_f16(Src x, Dst y);
void quantize_bf16(Src x, Dst y);
void dequantize_f32(Bytes x, Out y);
void dequantize_f16(Bytes x, Out y);
void dequantize_bf16(Bytes x, Out y);
void dequantize_f64(Bytes x, Out y);
void dequantize_i8(Bytes x, Out y);
void dequantize_i16(Bytes x, Out y);
void dequantize_i32(Bytes x, Out y);
void dequantize_i64(Bytes x, Out y);

// legacy_quants.cpp: 32-value blocks with one fp16 scale (and min).
void quantize_q4_0(Src x, Dst y);
void quantize_q4_1(Src x, Dst y);
void quantize_q5_0(Src x, Dst y);
void quantize_q5_1(Src x, Dst y);
void quantize_q8_0(Src x, Dst y);
void quantize_q8_1(Src x, Dst y);
void dequantize_q4_0(Bytes x, Out y);
void dequantize_q4_1(Bytes x, Out y);
void dequantize_q5_0(Bytes x, Out y);
void dequantize_q5_1(Bytes x, Out y);
void dequantize_q8_0(Bytes x, Out y);
void dequantize_q8_1(Bytes x, Out y);

// k_quants.cpp: 256-value super-blocks.
void quantize_q2_k(Src x, Dst y);
void quantize_q3_k(Src x, Dst y);
void quantize_q4_k(Src x, Dst y);
void quantize_q5_k(Src x, Dst y);
void quantize_q6_k(Src x, Dst y);
void quantize_q8_k(Src x, Dst y);
// Q2_K .. Q6_K with the scalar scale searches whatever the build: the reference the AVX2
// searches behind quantize_q2_k .. quantize_q6_k are tested against (the same bytes).
void quantize_q2_k_scalar(Src x, Dst y);
void quantize_q3_k_scalar(Src x, Dst y);
void quantize_q4_k_scalar(Src x, Dst y);
void quantize_q5_k_scalar(Src x, Dst y);
void quantize_q6_k_scalar(Src x, Dst y);
void dequantize_q2_k(Bytes x, Out y);
void dequantize_q3_k(Bytes x, Out y);
void dequantize_q4_k(Bytes x, Out y);
void dequantize_q5_k(Bytes x, Out y);
void dequantize_q6_k(Bytes x, Out y);
void dequantize_q8_k(Bytes x, Out y);

// iq4_quants.cpp: non-linear 4-bit levels.
void quantize_iq4_nl(Src x, Dst y);
void quantize_iq4_xs(Src x, Dst y);
void dequantize_iq4_nl(Bytes x, Out y);
void dequantize_iq4_xs(Bytes x, Out y);

// The decoders whose float expressions can round (a scale times a level plus a min, or three
// factors of more than 24 bits together), in double: the exact values of the stored weights.
void dequantize_q4_1_exact(Bytes x, OutExact y);
void dequantize_q5_1_exact(Bytes x, OutExact y);
void dequantize_q2_k_exact(Bytes x, OutExact y);
void dequantize_q4_k_exact(Bytes x, OutExact y);
void dequantize_q5_k_exact(Bytes x, OutExact y);
void dequantize_q6_k_exact(Bytes x, OutExact y);
void dequantize_iq4_xs_exact(Bytes x, OutExact y);

}  // namespace parity::quant_detail
