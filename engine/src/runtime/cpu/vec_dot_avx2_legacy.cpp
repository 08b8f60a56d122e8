// AVX2 / FMA / F16C dot products for the legacy 32-value blocks Q4_1, Q5_0, Q5_1 and IQ4_NL
// (activation in Q8_0 or Q8_1) and for BF16. Compiled with -ffp-contract=off.
//
// The quantized kernels return the reference's bits: each block's integer sum is exact, and the
// reference's float step, sumf += term(block) block after block, is kept. They work in batches
// of 8 blocks: the 8 integer sums are reduced together (one vector instead of 8 horizontal sums),
// the 8 terms computed lane by lane (each lane rounds as the scalar expression), and only the
// adds into sumf are scalar, in block order (dot_blocks32 in avx2_helpers.h, which Q8_0 and Q4_0
// use too).

#include <cstdint>
#include <cstring>

#include "avx2_helpers.h"
#include "engine/half.h"
#include "engine/quant/blocks.h"
#include "vec_dot.h"

#if defined(PARITY_HAVE_AVX2)

namespace parity::cpu {

namespace {

using namespace quant_detail;
using namespace avx2;

/// The float step of Q4_1 and Q5_1: (dx * dy) * sumi + mx * sy, x and y starting with (d, m) and
/// (d, s).
template <std::size_t kX, std::size_t kY>
struct MinTerms {
    static constexpr std::size_t kWeightBlock = kX;
    static constexpr std::size_t kActBlock = kY;
    static __m256 terms8(const std::byte* x, const std::byte* y, __m256 sumi) noexcept {
        __m256 dx, mx, dy, sy;
        half_pairs8<kX>(x, dx, mx);
        half_pairs8<kY>(y, dy, sy);
        return _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(dx, dy), sumi), _mm256_mul_ps(mx, sy));
    }
    static float term(const std::byte* x, const std::byte* y, float sumi) noexcept {
        const __m128 p = _mm_mul_ps(half_pair_at(x), half_pair_at(y));  // dx * dy, mx * sy
        return _mm_cvtss_f32(p) * sumi + _mm_cvtss_f32(_mm_movehdup_ps(p));
    }
};

/// The 32 five-bit values of Q5_0 / Q5_1 (0..31): the nibbles at qs, 16 where qh's bit is set.
inline __m256i five_bit_values(const std::byte* qs, const std::byte* qh) noexcept {
    return _mm256_or_si256(nibbles32(qs), _mm256_and_si256(bytes_from_bits32(qh), _mm256_set1_epi8(0x10)));
}

/// The float step of Q5_0 and IQ4_NL: (dx * dy) * sumi (IQ4_NL's dy * dx is the same product).
template <std::size_t kX, std::size_t kY>
struct ScaleTerms {
    static constexpr std::size_t kWeightBlock = kX;
    static constexpr std::size_t kActBlock = kY;
    static __m256 terms8(const std::byte* x, const std::byte* y, __m256 sumi) noexcept {
        return _mm256_mul_ps(_mm256_mul_ps(halves8<kX>(x), halves8<kY>(y)), sumi);
    }
    static float term(const std::byte* x, const std::byte* y, float sumi) noexcept {
        return (half_at(x) * half_at(y)) * sumi;
    }
};

// Q4_1 x Q8_1: values 0..15.
struct Q4_1Kernel : MinTerms<sizeof(BlockQ4_1), sizeof(BlockQ8_1)> {
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        return dot_u8(nibbles32(x + offsetof(BlockQ4_1, qs)), load256(y + offsetof(BlockQ8_1, qs)));
    }
};

// Q5_1 x Q8_1: values 0..31 (the 5th bit from qh).
struct Q5_1Kernel : MinTerms<sizeof(BlockQ5_1), sizeof(BlockQ8_1)> {
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        const __m256i q = five_bit_values(x + offsetof(BlockQ5_1, qs), x + offsetof(BlockQ5_1, qh));
        return dot_u8(q, load256(y + offsetof(BlockQ8_1, qs)));
    }
};

// Q5_0 x Q8_0: values -16..15, taken as u - 16 with u = nibble | 5th bit << 4 in 0..31, so that
// maddubs needs no sign juggling: pair sums of u * y minus those of 16 * y.
struct Q5_0Kernel : ScaleTerms<sizeof(BlockQ5_0), sizeof(BlockQ8_0)> {
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        const __m256i u = five_bit_values(x + offsetof(BlockQ5_0, qs), x + offsetof(BlockQ5_0, qh));
        const __m256i q8 = load256(y + offsetof(BlockQ8_0, qs));
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(u, q8), _mm256_maddubs_epi16(_mm256_set1_epi8(16), q8));
        return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
    }
};

// IQ4_NL x Q8_0: nibbles index kIQ4NLValues.
struct IQ4_NLKernel : ScaleTerms<sizeof(BlockIQ4_NL), sizeof(BlockQ8_0)> {
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        const __m256i table = _mm256_broadcastsi128_si256(load128(kIQ4NLValues.data()));
        const __m256i q = _mm256_shuffle_epi8(table, nibbles32(x + offsetof(BlockIQ4_NL, qs)));
        return dot_i8(q, load256(y + offsetof(BlockQ8_0, qs)));
    }
};

}  // namespace

float dot_q4_1_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<Q4_1Kernel>(n, w, a);
}

float dot_q5_0_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<Q5_0Kernel>(n, w, a);
}

float dot_q5_1_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<Q5_1Kernel>(n, w, a);
}

float dot_iq4_nl_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<IQ4_NLKernel>(n, w, a);
}

// BF16 x BF16: the product of two bf16 values is exact in float (8-bit significands); the
// products are summed in double like the reference, in another order (a few ulp of the result).
// The float -> double conversions bound its speed: about half that of a float accumulation.
float dot_bf16_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    // Each 32-bit lane holds two bf16 values: the high one is a float once its low half is
    // cleared, the low one once shifted up. No shuffles needed; the order does not matter.
    const __m256i hi_mask = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
    __m256d acc0 = _mm256_setzero_pd();
    __m256d acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd();
    __m256d acc3 = _mm256_setzero_pd();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i x = load256(w + i * 2);
        const __m256i y = load256(a + i * 2);
        const __m256 lo = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(x, 16)),
                                        _mm256_castsi256_ps(_mm256_slli_epi32(y, 16)));
        const __m256 hi = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_and_si256(x, hi_mask)),
                                        _mm256_castsi256_ps(_mm256_and_si256(y, hi_mask)));
        acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(lo)));
        acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(lo, 1)));
        acc2 = _mm256_add_pd(acc2, _mm256_cvtps_pd(_mm256_castps256_ps128(hi)));
        acc3 = _mm256_add_pd(acc3, _mm256_cvtps_pd(_mm256_extractf128_ps(hi, 1)));
    }
    double sum = hsum(_mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3)));
    for (; i < n; ++i) {
        std::uint16_t x;
        std::uint16_t y;
        std::memcpy(&x, w + i * 2, 2);
        std::memcpy(&y, a + i * 2, 2);
        sum += static_cast<double>(bf16_to_fp32(x) * bf16_to_fp32(y));
    }
    return static_cast<float>(sum);
}

}  // namespace parity::cpu

#endif  // PARITY_HAVE_AVX2
