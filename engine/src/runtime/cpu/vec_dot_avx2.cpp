// AVX2 / FMA / F16C dot-product kernels (the decode GEMV paths): F32, F16, Q4_0, Q8_0 here; the
// other legacy quants and BF16 in vec_dot_avx2_legacy.cpp, Q2_K, Q3_K and IQ4_XS in
// vec_dot_avx2_kquants.cpp (helpers in avx2_helpers.h). Q4_K, Q5_K and Q6_K have none: their
// matrix-matrix kernels (gemm_avx2.cpp) handle a single token as well.
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
        // Q4_K, Q5_K, Q6_K: the matrix-matrix kernels (gemm.h) serve one token too; the
        // reference stands for the single dot.
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
