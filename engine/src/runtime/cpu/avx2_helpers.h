#pragma once
// Helpers shared by the AVX2 / FMA / F16C dot-product kernels (vec_dot_avx2*.cpp), and the
// kernels those files define for vec_dot_simd. Private to engine/src/runtime/cpu; everything
// is empty in a build without AVX2.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/quant/blocks.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define PARITY_HAVE_AVX2 1
#endif

#if defined(PARITY_HAVE_AVX2)

namespace parity::cpu::avx2 {

inline __m256i load256(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) noexcept { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline std::uint32_t load_u32(const std::byte* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline float load_f32(const std::byte* p) noexcept {
    float v;
    std::memcpy(&v, p, 4);
    return v;
}

inline float hsum(__m256 v) noexcept {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline double hsum(__m256d v) noexcept {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

inline float half_at(const std::byte* p) noexcept {
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);  // F16C: exact, like fp16_to_fp32
}

/// The two fp16 values at p, p + 2 as floats in lanes 0 and 1 (lanes 2, 3 are zero).
inline __m128 half_pair_at(const std::byte* p) noexcept {
    return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(load_u32(p))));
}

/// The fp16 values at p, p + Stride, ..., p + 7 * Stride (one per block) as 8 floats.
template <std::size_t Stride>
inline __m256 halves8(const std::byte* p) noexcept {
    // Packed four by four in general-purpose registers: the integer ALUs are idle in these
    // kernels, while word inserts or unpacks would compete with the dot products' vector ops.
    auto h = [p](int k) {
        std::uint16_t v;
        std::memcpy(&v, p + k * Stride, 2);
        return static_cast<std::uint64_t>(v);
    };
    const std::uint64_t lo = h(0) | h(1) << 16 | h(2) << 32 | h(3) << 48;
    const std::uint64_t hi = h(4) | h(5) << 16 | h(6) << 32 | h(7) << 48;
    // (Two moves rather than _mm_set_epi64x, which GCC turns back into vector shuffles.)
    return _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_cvtsi64_si128(static_cast<long long>(lo)),
                                              _mm_cvtsi64_si128(static_cast<long long>(hi))));
}

/// The fp16 pairs at p, p + Stride, ..., p + 7 * Stride (one per block: d and m, or d and s) as
/// 8 firsts and 8 seconds.
template <std::size_t Stride>
inline void half_pairs8(const std::byte* p, __m256& first, __m256& second) noexcept {
    auto u = [p](int k) { return static_cast<int>(load_u32(p + k * Stride)); };
    __m128i lo = _mm_cvtsi32_si128(u(0));
    lo = _mm_insert_epi32(lo, u(1), 1);
    lo = _mm_insert_epi32(lo, u(2), 2);
    lo = _mm_insert_epi32(lo, u(3), 3);
    __m128i hi = _mm_cvtsi32_si128(u(4));
    hi = _mm_insert_epi32(hi, u(5), 1);
    hi = _mm_insert_epi32(hi, u(6), 2);
    hi = _mm_insert_epi32(hi, u(7), 3);
    // Per 128-bit half the 4 firsts, then the 4 seconds; then firsts to the low half.
    const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12,
                                           13, 2, 3, 6, 7, 10, 11, 14, 15);
    const __m256i v = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), split), 0xD8);
    first = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
    second = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
}

/// The exact sum of 8 int32 lanes.
inline int hsum_i32(__m256i v) noexcept {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/// Lane k of the result: the sum of the 8 int32 lanes of s[k] (exact).
inline __m256i hsum8_i32(const __m256i (&s)[8]) noexcept {
    // Transposing adds: interleave pairs and add, then pairs of pairs, then the 128-bit halves.
    auto step32 = [](__m256i a, __m256i b) {
        return _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
    };
    auto step64 = [](__m256i a, __m256i b) {
        return _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
    };
    // a's low half holds the partial sums of s[0..3] over lanes 0..3, its high half those over
    // lanes 4..7; b likewise for s[4..7].
    const __m256i a = step64(step32(s[0], s[1]), step32(s[2], s[3]));
    const __m256i b = step64(step32(s[4], s[5]), step32(s[6], s[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/// Sum of the 32 products x[i] * y[i] of signed bytes, as 16 int16 pair sums (|x| <= 127, or
/// the pair sums may saturate).
inline __m256i dot_i8_16(__m256i x, __m256i y) noexcept {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));  // |x| * (y * sign(x))
}

/// Sum of the 32 products x[i] * y[i] of signed bytes, as 8 int32 lanes.
inline __m256i dot_i8(__m256i x, __m256i y) noexcept {
    return _mm256_madd_epi16(dot_i8_16(x, y), _mm256_set1_epi16(1));
}

/// Sum of the 32 products u[i] * s[i], u unsigned bytes <= 127, s signed bytes, as 8 int32 lanes.
inline __m256i dot_u8(__m256i u, __m256i s) noexcept {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/// The 32 nibbles of 16 bytes as bytes 0..15: the low nibbles first, then the high ones (the
/// order of the legacy quants and IQ4_NL).
inline __m256i nibbles32(const std::byte* p) noexcept {
    // The 16 bytes loaded into both halves (a load, no shuffle), the high half shifted by 4.
    const __m256i q = _mm256_broadcastsi128_si256(load128(p));
    return _mm256_and_si256(_mm256_srlv_epi64(q, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F));
}

/// 0xFF in byte i where bit i of the 32-bit word at p is set, else 0.
inline __m256i bytes_from_bits32(const std::byte* p) noexcept {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(load_u32(p))),
                                               _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202,
                                                                  0x0303030303030303));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

/// Q8_K block layout offsets.
constexpr std::size_t kQ8KQs = offsetof(quant_detail::BlockQ8_K, qs);
constexpr std::size_t kQ8KBsums = offsetof(quant_detail::BlockQ8_K, bsums);

/// Byte order, within each 16-byte half, that puts elements e and e + 8 side by side: maddubs
/// then sums two products of the same e mod 8, the reference's accumulator lane.
inline __m256i pair_mod8() noexcept {
    return _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5,
                            13, 6, 14, 7, 15);
}

/// Scales two vectors of class sums (already in pair_mod8 order, as maddubs leaves them) and adds
/// them to the per-class accumulators: p and q are int16 class sums, sc holds, per 128-bit half,
/// the int16 pair (scale of p's half, scale of q's half) four times. acc03 gathers classes 0..3
/// (one partial per half), acc47 classes 4..7; fold_classes ends.
inline void add_scaled_classes(__m256i p, __m256i q, __m256i sc, __m256i& acc03, __m256i& acc47) noexcept {
    acc03 = _mm256_add_epi32(acc03, _mm256_madd_epi16(_mm256_unpacklo_epi16(p, q), sc));
    acc47 = _mm256_add_epi32(acc47, _mm256_madd_epi16(_mm256_unpackhi_epi16(p, q), sc));
}

/// The 8 per-class sums (lane l = class l) from add_scaled_classes' accumulators.
inline __m256i fold_classes(__m256i acc03, __m256i acc47) noexcept {
    return _mm256_add_epi32(_mm256_permute2x128_si256(acc03, acc47, 0x20),
                            _mm256_permute2x128_si256(acc03, acc47, 0x31));
}

/// sumf + v[0] + v[1] + ... + v[7], added one at a time in that order.
inline float add_lanes_in_order(float sumf, __m256 v) noexcept {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    for (float x : lanes) sumf += x;
    return sumf;
}

/// The K-quants' last step, as the reference: sums[l] += d * aux32[l] per block (no FMA), then
/// sumf += sums[l] for l = 0..7.
inline float finish_lanes(float sumf, __m256 sums) noexcept { return add_lanes_in_order(sumf, sums); }

/// sumf over nb blocks in block order, sumf += term(i) one block at a time, given terms8(i): the
/// 8 terms of blocks i .. i + 7 as lanes (each rounded as the reference's scalar expression). The
/// 8 scalar adds of one batch are issued with the next batch's integer work, which hides the
/// latency of the reference's serial chain; blocks past the last full batch go through term(i).
template <class Terms8, class Term>
float sum_in_block_order(std::int64_t nb, Terms8&& terms8, Term&& term) noexcept {
    const std::int64_t nb8 = nb / 8 * 8;
    float sumf = 0.0f;
    if (nb8 > 0) {
        __m256 pending = terms8(std::int64_t{0});
        for (std::int64_t i = 8; i < nb8; i += 8) {
            const __m256 t = terms8(i);
            sumf = add_lanes_in_order(sumf, pending);
            pending = t;
        }
        sumf = add_lanes_in_order(sumf, pending);
    }
    for (std::int64_t i = nb8; i < nb; ++i) sumf += term(i);
    return sumf;
}

/// Runs a 32-value block kernel over the row. Kernel::sums(x, y) gives a block's integer dot
/// product as 8 int32 lanes; Kernel::terms8(x, y, sumi) the floats the reference adds to sumf for
/// 8 blocks (each lane rounded as the reference's scalar expression), Kernel::term one of them.
template <class Kernel>
float dot_blocks32(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    constexpr std::size_t kX = Kernel::kWeightBlock;
    constexpr std::size_t kY = Kernel::kActBlock;
    auto terms8 = [w, a](std::int64_t ib) {
        const std::byte* x = w + ib * kX;
        const std::byte* y = a + ib * kY;
        __m256i s[8];
        for (int k = 0; k < 8; ++k) s[k] = Kernel::sums(x + k * kX, y + k * kY);
        // The sums are exact in float: |sum| < 2^24.
        return Kernel::terms8(x, y, _mm256_cvtepi32_ps(hsum8_i32(s)));
    };
    auto term = [w, a](std::int64_t ib) {
        const std::byte* x = w + ib * kX;
        const std::byte* y = a + ib * kY;
        return Kernel::term(x, y, static_cast<float>(hsum_i32(Kernel::sums(x, y))));
    };
    return sum_in_block_order(n / 32, terms8, term);
}

}  // namespace parity::cpu::avx2

namespace parity::cpu {

// Kernels of vec_dot_avx2_legacy.cpp and vec_dot_avx2_kquants.cpp (same signature as VecDotFn).
float dot_bf16_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_q4_1_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_q5_0_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_q5_1_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_iq4_nl_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_q2_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_q3_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;
float dot_iq4_xs_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept;

}  // namespace parity::cpu

#endif  // PARITY_HAVE_AVX2
