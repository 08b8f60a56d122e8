#pragma once
// Conversion between f32 and ggml's tensor types, bit-identical to ggml's reference
// functions (ggml-quants.c at llama.cpp c392e50, the version the fixtures were made with).
// Block layouts: engine/quant/blocks.h (ggml-common.h); fp16/bf16 scalars: engine/half.h.
// Verified against fixtures/llamacpp/quant/quant-zoo.gguf (engine_quant_tests).
//
// Shapes: a "row" here is any run of n values with n % block_size(type) == 0; its encoded
// form is row_size(type, n) bytes (see ggml_type.h). Every block is coded independently, so
// a row may hold any number of blocks and a tensor may be converted in any row split.
// Functions throw UsageError when the type has no implementation or the sizes do not match.
// The byte spans need no alignment. The functions are pure (no global state) and may run
// concurrently. Any input is safe: NaN / inf / huge values give ggml's (meaningless) output,
// arbitrary bytes decode to some floats, and nothing is read or written out of bounds.
//
// Exactness notes: the quantizers keep ggml's float32 operation order, are compiled with
// -ffp-contract=off (ggml's reference build has no FMA; the K-quant scale searches give other
// bytes with FMA contraction), and round as ggml does: roundf for Q8_0/Q8_1, (int)(x + 8.5f)
// style truncation for Q4_0..Q5_1, the 1.5*2^23 "nearest_int" trick (half to even) for the
// K-quants and Q8_K, nearest level (larger on a tie) for IQ4_NL/IQ4_XS.

#include <cstddef>
#include <span>

#include "engine/quant/ggml_type.h"

namespace parity {

/// True when dequantize_row supports `type` (F32, F16, BF16, F64, I8..I64, the legacy
/// quants, the K-quants, Q8_K, Q8_1, IQ4_NL, IQ4_XS).
bool can_dequantize(GgmlType type) noexcept;

/// True when quantize_row supports `type`.
bool can_quantize(GgmlType type) noexcept;

/// Decodes dst.size() values from `src` (exactly row_size(type, dst.size()) bytes).
/// Matches ggml's `to_float` (dequantize_row_*) bit for bit, including the sign of zero
/// (an all-zero Q4_0, Q5_0, Q6_K or IQ4_XS block decodes to -0.0). Q8_1, which ggml cannot
/// decode, gives fp16(d) * q (its `s` is ignored); F64 and I8..I64 are cast to float.
void dequantize_row(GgmlType type, std::span<const std::byte> src, std::span<float> dst);

/// True when dequantize_row_exact supports `type`: the weight types F32, F16, BF16, the legacy
/// quants, Q2_K..Q6_K, IQ4_NL and IQ4_XS.
bool can_dequantize_exact(GgmlType type) noexcept;

/// The exact values of the stored weights, in double: ggml's decoding formula evaluated without
/// rounding. Where ggml's float expression cannot round (F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q3_K,
/// IQ4_NL: every product fits in 24 bits) this equals dequantize_row widened; for Q4_1, Q5_1,
/// Q2_K, Q4_K, Q5_K, Q6_K and IQ4_XS it can differ from it in the last float bit. Sizes as
/// dequantize_row; UsageError for another type.
void dequantize_row_exact(GgmlType type, std::span<const std::byte> src, std::span<double> dst);

/// Encodes src.size() values into `dst` (exactly row_size(type, src.size()) bytes).
/// Matches the bytes of ggml_quantize_chunk without an importance matrix (quantize_row_*_ref;
/// for IQ4_NL / IQ4_XS the ntry = 7 scale search of quantize_iq4_nl / quantize_iq4_xs;
/// quantize_row_q8_K_ref and quantize_row_q8_1_ref for the activation types). Every byte
/// of `dst` is written (Q8_K's bsums of an all-zero block are set to 0, where ggml leaves
/// them untouched). Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K,
/// Q8_K, IQ4_NL, IQ4_XS. Not emulated: the x86 SIMD activation quantizers of ggml's CPU
/// backend (half-to-even Q8_0/Q8_1, quant-zoo.md section 5) and quantize_row_iq4_nl_ref.
void quantize_row(GgmlType type, std::span<const float> src, std::span<std::byte> dst);

}  // namespace parity
