#pragma once
// IEEE binary16 (fp16) and bfloat16 (bf16) <-> binary32 conversions, bit-identical to ggml.
//
// Bit layouts (as ggml stores them, little-endian 16-bit words):
//
//   fp16:  s eeeee mmmmmmmmmm        1 sign, 5 exponent (bias 15), 10 mantissa bits
//   bf16:  s eeeeeeee mmmmmmm        1 sign, 8 exponent (bias 127), 7 mantissa bits
//                                    (the upper half of a binary32)
//
// What ggml does, and what these functions reproduce:
//
// * fp16_to_fp32: exact (every fp16 value, subnormals included, is a binary32 value). ggml's
//   lookup table is filled by GGML_COMPUTE_FP16_TO_FP32, which in the non-F16C build is a
//   float trick whose NaN results come out quiet: a NaN gives sign | 0x7FC00000 |
//   (mantissa << 13). Hardware F16C (vcvtph2ps) gives the same bits.
// * fp32_to_fp16: GGML_COMPUTE_FP32_TO_FP16 without F16C (libggml-base is built that way),
//   which is IEEE round-to-nearest-even: ties go to the even mantissa, values too small
//   for the smallest subnormal (2^-24) round to a signed zero (exactly 2^-25 is a tie and
//   goes to zero), values >= 65520 become +-inf, and every NaN becomes sign | 0x7E00 (the
//   payload is dropped; F16C would keep it).
// * bf16_to_fp32: the 16 bits become the upper half of the binary32 word (exact).
// * fp32_to_bf16: ggml_compute_fp32_to_bf16: round-to-nearest-even on the upper 16 bits,
//   subnormals are NOT flushed, overflow rounds to +-inf, and a NaN keeps its upper 16 bits
//   with the quiet bit (0x0040) forced on.
//
// These are implemented with integer operations only, so they do not depend on the
// floating-point environment (rounding mode, FTZ/DAZ) nor on FMA contraction, and can be
// inlined anywhere. engine_quant_tests checks them against hand-derived bit patterns,
// against the F16C hardware conversion, and against llama.cpp's quant-zoo fixture.

#include <bit>
#include <cstdint>

namespace parity {

/// fp16 bits -> float (exact; NaNs come out quiet, keeping their payload).
constexpr float fp16_to_fp32(std::uint16_t h) noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu;
    const std::uint32_t mant = h & 0x3FFu;
    std::uint32_t bits = 0;
    if (exp == 0x1Fu) {
        bits = mant == 0 ? 0x7F800000u : (0x7FC00000u | (mant << 13));  // inf / quiet NaN
    } else if (exp != 0) {
        bits = ((exp + (127u - 15u)) << 23) | (mant << 13);  // normal
    } else if (mant != 0) {
        // Subnormal: mant * 2^-24. Normalise so the leading 1 lands on bit 10.
        const int shift = std::countl_zero(mant) - 21;  // mant has 22 leading zeros for bit 9
        const std::uint32_t m = (mant << shift) & 0x3FFu;
        const std::uint32_t e = static_cast<std::uint32_t>(127 - 15 + 1 - shift);
        bits = (e << 23) | (m << 13);
    }
    return std::bit_cast<float>(sign | bits);
}

/// float -> fp16 bits, IEEE round-to-nearest-even (ggml's software conversion).
constexpr std::uint16_t fp32_to_fp16(float f) noexcept {
    const std::uint32_t w = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((w >> 16) & 0x8000u);
    const std::uint32_t abs = w & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u);  // NaN
    if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // >= 65520: inf
    if (abs >= 0x38800000u) {
        // Normal fp16 range (>= 2^-14): rebias the exponent, round 13 mantissa bits away.
        const std::uint32_t rebased = abs - ((127u - 15u) << 23);
        const std::uint32_t rounded = rebased + 0x0FFFu + ((rebased >> 13) & 1u);
        return static_cast<std::uint16_t>(sign | (rounded >> 13));  // a carry may reach inf
    }
    if (abs < 0x33000000u) return sign;  // < 2^-25: rounds to zero (2^-25 itself is a tie)
    // Subnormal fp16 result: value = m * 2^(e-150) with the implicit bit; fp16 unit 2^-24.
    const std::uint32_t e = abs >> 23;                     // 102 .. 112
    const std::uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;  // 24 significant bits
    const std::uint32_t shift = 126u - e;                  // 14 .. 24 bits dropped
    const std::uint32_t half = 1u << (shift - 1);
    const std::uint32_t rest = m & ((1u << shift) - 1u);
    std::uint32_t q = m >> shift;
    if (rest > half || (rest == half && (q & 1u) != 0)) ++q;  // may carry into 2^-14: fine
    return static_cast<std::uint16_t>(sign | q);
}

/// bf16 bits -> float (exact).
constexpr float bf16_to_fp32(std::uint16_t h) noexcept {
    return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

/// float -> bf16 bits: round-to-nearest-even, NaN made quiet (ggml_compute_fp32_to_bf16).
constexpr std::uint16_t fp32_to_bf16(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 64u);
    return static_cast<std::uint16_t>((u + (0x7FFFu + ((u >> 16) & 1u))) >> 16);
}

}  // namespace parity
