// AVX2 / FMA / F16C dot-product kernels for the hot weight types (the decode GEMV paths): F32,
// F16, Q4_0, Q8_0, Q4_K, Q6_K here; the other legacy quants and BF16 in vec_dot_avx2_legacy.cpp,
// the other K-quants and IQ4_XS in vec_dot_avx2_kquants.cpp (helpers in avx2_helpers.h).
// Each has its scalar reference in vec_dot_ref.cpp; engine_forward_tests checks that they agree.
// Integer block sums are exact (maddubs / madd never saturate for these value ranges). The
// quantized kernels then scale and add them in the reference's scalar order, so they return the
// reference's bits (a plain-C llama.cpp build's, which the fixtures come from); F16 and BF16
// differ from the reference only in the order of the float accumulation. Without AVX2 in the
// build (PARITY_CPU_ARCH empty), vec_dot_simd returns nullptr and the reference is used.

#include <cstdint>
#include <cstring>

#include "avx2_helpers.h"
#include "engine/half.h"
#include "engine/quant/blocks.h"
#include "vec_dot.h"

namespace parity::cpu {

#if defined(PARITY_HAVE_AVX2)

namespace {

using namespace quant_detail;
using namespace avx2;

// F32 x F32: products rounded to float, summed in double (ggml's ggml_float).
float dot_f32_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    const auto* x = reinterpret_cast<const float*>(w);  // only loaded through loadu
    const auto* y = reinterpret_cast<const float*>(a);
    __m256d acc0 = _mm256_setzero_pd();
    __m256d acc1 = _mm256_setzero_pd();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(p)));
        acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)));
    }
    double sum = hsum(_mm256_add_pd(acc0, acc1));
    for (; i < n; ++i) {
        float xi;
        float yi;
        std::memcpy(&xi, w + i * 4, 4);
        std::memcpy(&yi, a + i * 4, 4);
        sum += static_cast<double>(xi * yi);
    }
    return static_cast<float>(sum);
}

// F16 x F16: the product of two halves is exact in float; it is accumulated in float lanes with
// FMA (ggml's reference sums in double: the results differ by the rounding of a float sum,
// ~1e-7 relative, and this kernel runs ~3x faster).
float dot_f16_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(load128(w + i * 2)), _mm256_cvtph_ps(load128(a + i * 2)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(load128(w + i * 2 + 16)), _mm256_cvtph_ps(load128(a + i * 2 + 16)), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtph_ps(load128(w + i * 2 + 32)), _mm256_cvtph_ps(load128(a + i * 2 + 32)), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtph_ps(load128(w + i * 2 + 48)), _mm256_cvtph_ps(load128(a + i * 2 + 48)), acc3);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(load128(w + i * 2)), _mm256_cvtph_ps(load128(a + i * 2)), acc0);
    }
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i) sum += half_at(w + i * 2) * half_at(a + i * 2);
    return sum;
}

// Q8_0 x Q8_0. The reference adds sumi * (dx * dy) to sumf block after block (no FMA: this file
// is compiled with -ffp-contract=off); dot_blocks32 does so in batches of 8 blocks.
struct Q8_0Kernel {
    static constexpr std::size_t kWeightBlock = sizeof(BlockQ8_0);
    static constexpr std::size_t kActBlock = sizeof(BlockQ8_0);
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        return dot_i8(load256(x + offsetof(BlockQ8_0, qs)), load256(y + offsetof(BlockQ8_0, qs)));
    }
    static __m256 terms8(const std::byte* x, const std::byte* y, __m256 sumi) noexcept {
        return _mm256_mul_ps(sumi, _mm256_mul_ps(halves8<kWeightBlock>(x), halves8<kActBlock>(y)));
    }
    static float term(const std::byte* x, const std::byte* y, float sumi) noexcept {
        return sumi * (half_at(x) * half_at(y));
    }
};

// Q4_0 x Q8_0: values q - 8, q the nibble in 0..15. maddubs takes q unsigned (no sign
// instructions), and 8 * y is subtracted from the pair sums: |q * y pair| <= 2 * 15 * 128, exact
// in int16. The reference's term is sumi * dx * dy, i.e. (sumi * dx) * dy.
struct Q4_0Kernel {
    static constexpr std::size_t kWeightBlock = sizeof(BlockQ4_0);
    static constexpr std::size_t kActBlock = sizeof(BlockQ8_0);
    static __m256i sums(const std::byte* x, const std::byte* y) noexcept {
        const __m256i q8 = load256(y + offsetof(BlockQ8_0, qs));
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(nibbles32(x + offsetof(BlockQ4_0, qs)), q8),
                                             _mm256_maddubs_epi16(_mm256_set1_epi8(8), q8));
        return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
    }
    static __m256 terms8(const std::byte* x, const std::byte* y, __m256 sumi) noexcept {
        return _mm256_mul_ps(_mm256_mul_ps(sumi, halves8<kWeightBlock>(x)), halves8<kActBlock>(y));
    }
    static float term(const std::byte* x, const std::byte* y, float sumi) noexcept {
        return sumi * half_at(x) * half_at(y);
    }
};

float dot_q8_0_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<Q8_0Kernel>(n, w, a);
}

float dot_q4_0_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    return dot_blocks32<Q4_0Kernel>(n, w, a);
}

// The integer sums go to the reference's 8 accumulator lanes (element index mod 8), which is
// exact whatever the order; the float part then follows the reference step by step, so the
// result has the reference's bits.
float dot_q4_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    const std::int64_t nb = n / kQK_K;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i order = pair_mod8();
    __m256 sums = _mm256_setzero_ps();
    float sumf = 0.0f;
    constexpr std::uint32_t kmask1 = 0x3f3f3f3f;
    constexpr std::uint32_t kmask2 = 0x0f0f0f0f;
    constexpr std::uint32_t kmask3 = 0x03030303;
    for (std::int64_t i = 0; i < nb; ++i) {
        const std::byte* x = w + i * sizeof(BlockQ4_K);
        const std::byte* y = a + i * sizeof(BlockQ8_K);
        float yd;
        std::memcpy(&yd, y, 4);

        std::uint32_t utmp[4];
        std::memcpy(utmp, x + offsetof(BlockQ4_K, scales), 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const std::uint32_t uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        // 8 scales (bytes 0..7) and 8 mins (bytes 8..15) widened to int16.
        const __m256i mins_and_scales = _mm256_cvtepu8_epi16(
            _mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]), static_cast<int>(utmp[1]),
                          static_cast<int>(utmp[0])));

        // mins: sum over the 8 sub-blocks of min_j * (bsums[2j] + bsums[2j+1]), exact.
        const __m256i q8sums = load256(y + kQ8KBsums);
        const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(q8sums), _mm256_extracti128_si256(q8sums, 1));
        const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
        __m128i ps = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));
        ps = _mm_add_epi32(ps, _mm_shuffle_epi32(ps, 1));
        const int sumi_mins = _mm_cvtsi128_si32(ps);

        std::int16_t scales[16];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(scales), mins_and_scales);

        const std::byte* q4 = x + offsetof(BlockQ4_K, qs);
        const std::byte* q8 = y + kQ8KQs;
        __m256i aux32 = _mm256_setzero_si256();
        // 32 values per scale: the two halves' class sums fold into 8 lanes (|sum| <= 4 * 15 * 128).
        auto add_group = [&](__m256i q4v, const std::byte* q8p, int scale) {
            const __m256i p16 = class_sums16(q4v, load256(q8p), order);
            const __m128i folded = _mm_add_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
            aux32 = _mm256_add_epi32(aux32, _mm256_mullo_epi32(_mm256_cvtepi16_epi32(folded), _mm256_set1_epi32(scale)));
        };
        for (int j = 0; j < kQK_K / 64; ++j) {
            const __m256i q4bits = load256(q4 + 32 * j);
            add_group(_mm256_and_si256(q4bits, m4), q8 + 64 * j, scales[2 * j]);
            add_group(_mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4), q8 + 64 * j + 32, scales[2 * j + 1]);
        }
        const float d = half_at(x + offsetof(BlockQ4_K, d)) * yd;
        sums = _mm256_add_ps(sums, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(aux32)));
        const float dmin = half_at(x + offsetof(BlockQ4_K, dmin)) * yd;
        sumf -= dmin * static_cast<float>(sumi_mins);
    }
    return finish_lanes(sumf, sums);
}

float dot_q6_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    const std::int64_t nb = n / kQK_K;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m3 = _mm256_set1_epi8(0x03);
    const __m256i m32s = _mm256_set1_epi8(32);
    const __m256i order = pair_mod8();
    __m256 sums = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < nb; ++i) {
        const std::byte* x = w + i * sizeof(BlockQ6_K);
        const std::byte* y = a + i * sizeof(BlockQ8_K);
        float yd;
        std::memcpy(&yd, y, 4);
        std::int8_t sc[16];
        std::memcpy(sc, x + offsetof(BlockQ6_K, scales), 16);

        const std::byte* ql = x + offsetof(BlockQ6_K, ql);
        const std::byte* qh = x + offsetof(BlockQ6_K, qh);
        const std::byte* q8 = y + kQ8KQs;
        __m256i aux32 = _mm256_setzero_si256();
        for (int j = 0; j < kQK_K / 128; ++j) {
            const __m256i hbits = load256(qh + 32 * j);
            const __m256i bits1 = load256(ql + 64 * j);
            const __m256i bits2 = load256(ql + 64 * j + 32);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(bits1, m4), _mm256_slli_epi16(_mm256_and_si256(hbits, m3), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(bits2, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2), m3), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 4), m3), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 6), m3), 4));
            for (int k = 0; k < 4; ++k) {
                const __m256i q8k = load256(q8 + 128 * j + 32 * k);
                // (q - 32) * q8 = q * q8 - 32 * q8, q in [0, 63]: no int16 saturation.
                const __m256i p16 =
                    _mm256_sub_epi16(class_sums16(q[k], q8k, order), class_sums16(m32s, q8k, order));
                // 16 values per scale: each half is one group, its class sums widened and scaled.
                const int is = 8 * j + 2 * k;
                const __m256i lo = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(p16)),
                                                      _mm256_set1_epi32(sc[is]));
                const __m256i hi = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(p16, 1)),
                                                      _mm256_set1_epi32(sc[is + 1]));
                aux32 = _mm256_add_epi32(aux32, _mm256_add_epi32(lo, hi));
            }
        }
        const float d = half_at(x + offsetof(BlockQ6_K, d)) * yd;
        sums = _mm256_add_ps(sums, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(aux32)));
    }
    return finish_lanes(0.0f, sums);
}

}  // namespace

VecDotFn vec_dot_simd(GgmlType weight) noexcept {
    switch (weight) {
        case GgmlType::F32: return dot_f32_avx2;
        case GgmlType::F16: return dot_f16_avx2;
        case GgmlType::BF16: return dot_bf16_avx2;
        case GgmlType::Q4_0: return dot_q4_0_avx2;
        case GgmlType::Q4_1: return dot_q4_1_avx2;
        case GgmlType::Q5_0: return dot_q5_0_avx2;
        case GgmlType::Q5_1: return dot_q5_1_avx2;
        case GgmlType::Q8_0: return dot_q8_0_avx2;
        case GgmlType::IQ4_NL: return dot_iq4_nl_avx2;
        case GgmlType::Q2_K: return dot_q2_k_avx2;
        case GgmlType::Q3_K: return dot_q3_k_avx2;
        case GgmlType::Q4_K: return dot_q4_k_avx2;
        case GgmlType::Q5_K: return dot_q5_k_avx2;
        case GgmlType::Q6_K: return dot_q6_k_avx2;
        case GgmlType::IQ4_XS: return dot_iq4_xs_avx2;
        default: return nullptr;
    }
}

float dot_f32(std::int64_t n, const float* x, const float* y) noexcept {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

#else  // no AVX2 in this build

VecDotFn vec_dot_simd(GgmlType) noexcept { return nullptr; }

float dot_f32(std::int64_t n, const float* x, const float* y) noexcept {
    constexpr int kLanes = 8;
    float acc[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l] * y[i + l];
    }
    float sum = 0.0f;
    for (int l = 0; l < kLanes; ++l) sum += acc[l];
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

#endif

}  // namespace parity::cpu
