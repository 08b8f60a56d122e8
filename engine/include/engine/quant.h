#pragma once
// Conversion between f32 and ggml's tensor types, bit-identical to ggml's reference
// functions (ggml-quants.c at llama.cpp c392e50, the version the fixtures were made with).
//
// Shapes: a "row" here is any run of n values with n % block_size(type) == 0; its encoded
// form is row_size(type, n) bytes (see ggml_type.h). Functions throw UsageError when the
// type has no implementation or the sizes do not match.

#include <cstddef>
#include <span>

#include "engine/ggml_type.h"

namespace parity {

/// True when dequantize_row supports `type` (F32, F16, BF16, F64, I8..I64, the legacy
/// quants, the K-quants, Q8_K, Q8_1, IQ4_NL, IQ4_XS).
bool can_dequantize(GgmlType type) noexcept;

/// True when quantize_row supports `type`.
bool can_quantize(GgmlType type) noexcept;

/// Decodes dst.size() values from `src` (exactly row_size(type, dst.size()) bytes).
/// Matches ggml's `to_float` (dequantize_row_*) bit for bit, including the sign of zero.
void dequantize_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst);

/// Encodes src.size() values into `dst` (exactly row_size(type, src.size()) bytes).
/// Matches the bytes of ggml_quantize_chunk without an importance matrix (quantize_row_*_ref;
/// for IQ4_NL / IQ4_XS the ntry = 7 scale search of quantize_iq4_nl / quantize_iq4_xs;
/// quantize_row_q8_K_ref and quantize_row_q8_1_ref for the activation types). Every byte
/// of `dst` is written (Q8_K's bsums of an all-zero block are set to 0).
void quantize_row(GgmlType type, std::span<const float> src, std::span<std::byte> dst);

}  // namespace parity
