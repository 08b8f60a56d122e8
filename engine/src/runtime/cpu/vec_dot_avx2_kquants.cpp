// AVX2 / FMA / F16C dot products of Q2_K, Q3_K and IQ4_XS weights with a Q8_K activation.
// Compiled with -ffp-contract=off. Each returns the reference's bits: the integer sums are exact,
// and the float steps are the reference's, in its order:
//   Q2_K    one integer sum per super-block, sumf += dall * isum - dmin * summs (8 super-blocks'
//           terms computed lane by lane, then added in order);
//   IQ4_XS  one integer sum per 32 values, sumf += d_ib * sumi in sub-block order (likewise);
//   Q3_K    the reference's 8 accumulator lanes: integer sums aux32[l] over the elements
//           with index mod 8 = l, sums[l] += d * aux32[l] per super-block, finally sumf +=
//           sums[l].
// For the lane kernel the quants and the activation are put in pair_mod8 order (the packed
// weight bytes are shuffled once per super-block: bit operations commute with a byte
// permutation), so that maddubs sums two products of the same lane; add_scaled_classes then
// scales two groups at once.

#include <cstdint>
#include <cstring>
#include <utility>

#include "avx2_helpers.h"
#include "engine/quant/blocks.h"
#include "vec_dot.h"

#if defined(PARITY_HAVE_AVX2)

namespace parity::cpu {

namespace {

using namespace quant_detail;
using namespace avx2;

/// Moves bit `from` of every byte to bit `to` (the other bits are garbage: mask afterwards).
/// 16-bit shifts are fine: the bit that lands on `to` comes from the same byte.
template <int From, int To>
inline __m256i move_bit(__m256i v) noexcept {
    if constexpr (From > To) {
        return _mm256_srli_epi16(v, From - To);
    } else if constexpr (From < To) {
        return _mm256_slli_epi16(v, To - From);
    } else {
        return v;
    }
}

/// Calls f(std::integral_constant<int, I>{}) for I = 0 .. N-1, so that shift counts and shuffle
/// controls derived from I are immediates.
template <int N, class F>
inline void unroll(F&& f) noexcept {
    [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
        std::make_integer_sequence<int, N>{});
}

/// Q2_K: a super-block's exact isum = sum_j scale_j * (q2 . q8 over group j) and summs = sum_j
/// min_j * bsums[j], each as 8 int32 lanes.
inline void q2_k_sums(const std::byte* x, const std::byte* y, __m256i& isum, __m256i& summs) noexcept {
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const __m128i sc = load128(x + offsetof(BlockQ2_K, scales));
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), m4));
    summs = _mm256_madd_epi16(mins, load256(y + kQ8KBsums));

    // The 16 scales as int16, each 128-bit half of scales16 repeated in a whole vector.
    const __m256i scales16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc, m4));
    const __m256i scale_halves[2] = {_mm256_permute4x64_epi64(scales16, 0x44),
                                     _mm256_permute4x64_epi64(scales16, 0xEE)};
    const std::byte* q2 = x + offsetof(BlockQ2_K, qs);
    const std::byte* q8 = y + kQ8KQs;
    __m256i acc = _mm256_setzero_si256();
    unroll<2>([&](auto kc) {  // 128 values: 32 bytes of q2, four 2-bit fields
        constexpr int k = decltype(kc)::value;
        const __m256i q2bits = load256(q2 + 32 * k);
        unroll<4>([&](auto jc) {
            constexpr int j = decltype(jc)::value;
            const __m256i q = _mm256_and_si256(_mm256_srli_epi16(q2bits, 2 * j), m3);
            const __m256i p16 = _mm256_maddubs_epi16(q, load256(q8 + 128 * k + 32 * j));
            // Groups 8k + 2j (low half) and 8k + 2j + 1 (high half): int16 lanes 2j and 2j + 1.
            const __m256i pick = _mm256_setr_m128i(_mm_set1_epi16(static_cast<short>((4 * j) | (4 * j + 1) << 8)),
                                                   _mm_set1_epi16(static_cast<short>((4 * j + 2) | (4 * j + 3) << 8)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_shuffle_epi8(scale_halves[k], pick)));
        });
    });
    isum = acc;
}

}  // namespace

float dot_q2_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    constexpr std::size_t kX = sizeof(BlockQ2_K);
    constexpr std::size_t kY = sizeof(BlockQ8_K);
    // sumf += dall * isum - dmin * summs per super-block, dall = y.d * d and dmin = y.d * dmin:
    // computed for 8 super-blocks at once (each lane rounded as the scalar), then added in order.
    auto terms8 = [w, a](std::int64_t i) {
        const std::byte* x = w + i * kX;
        const std::byte* y = a + i * kY;
        __m256i isum[8];
        __m256i summs[8];
        for (int k = 0; k < 8; ++k) q2_k_sums(x + k * kX, y + k * kY, isum[k], summs[k]);
        __m256 d;
        __m256 dmin;
        half_pairs8<kX>(x + offsetof(BlockQ2_K, d), d, dmin);
        const __m256 yd = _mm256_setr_ps(load_f32(y), load_f32(y + kY), load_f32(y + 2 * kY), load_f32(y + 3 * kY),
                                         load_f32(y + 4 * kY), load_f32(y + 5 * kY), load_f32(y + 6 * kY),
                                         load_f32(y + 7 * kY));
        return _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(yd, d), _mm256_cvtepi32_ps(hsum8_i32(isum))),
                             _mm256_mul_ps(_mm256_mul_ps(yd, dmin), _mm256_cvtepi32_ps(hsum8_i32(summs))));
    };
    auto term = [w, a](std::int64_t i) {
        const std::byte* x = w + i * kX;
        const std::byte* y = a + i * kY;
        __m256i isum;
        __m256i summs;
        q2_k_sums(x, y, isum, summs);
        const float yd = load_f32(y);
        const float dall = yd * half_at(x + offsetof(BlockQ2_K, d));
        const float dmin = yd * half_at(x + offsetof(BlockQ2_K, dmin));
        return dall * static_cast<float>(hsum_i32(isum)) - dmin * static_cast<float>(hsum_i32(summs));
    };
    return sum_in_block_order(n / kQK_K, terms8, term);
}

float dot_q3_k_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    const std::int64_t nb = n / kQK_K;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i m4 = _mm256_set1_epi8(4);
    const __m256i order = pair_mod8();
    __m256 sums = _mm256_setzero_ps();
    constexpr std::uint32_t kmask1 = 0x03030303;
    constexpr std::uint32_t kmask2 = 0x0f0f0f0f;
    for (std::int64_t i = 0; i < nb; ++i) {
        const std::byte* x = w + i * sizeof(BlockQ3_K);
        const std::byte* y = a + i * sizeof(BlockQ8_K);

        // The 16 six-bit scales minus 32, as bytes.
        std::uint32_t aux[3];
        std::memcpy(aux, x + offsetof(BlockQ3_K, scales), 12);
        const __m128i scales8 = _mm_sub_epi8(
            _mm_setr_epi32(static_cast<int>((aux[0] & kmask2) | (((aux[2] >> 0) & kmask1) << 4)),
                           static_cast<int>((aux[1] & kmask2) | (((aux[2] >> 2) & kmask1) << 4)),
                           static_cast<int>(((aux[0] >> 4) & kmask2) | (((aux[2] >> 4) & kmask1) << 4)),
                           static_cast<int>(((aux[1] >> 4) & kmask2) | (((aux[2] >> 6) & kmask1) << 4))),
            _mm_set1_epi8(32));

        // As int16: the even-numbered scales in the low half, the odd-numbered in the high half, so
        // that int32 g of each half is the pair add_scaled_classes needs for groups 4g .. 4g + 3.
        const __m256i scales16 = _mm256_cvtepi8_epi16(
            _mm_shuffle_epi8(scales8, _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15)));

        const __m256i hbits = _mm256_shuffle_epi8(load256(x + offsetof(BlockQ3_K, hmask)), order);
        const std::byte* q3 = x + offsetof(BlockQ3_K, qs);
        const std::byte* q8 = y + kQ8KQs;
        __m256i acc03 = _mm256_setzero_si256();
        __m256i acc47 = _mm256_setzero_si256();
        unroll<2>([&](auto jc) {  // 128 values: 32 bytes of q3, four 2-bit fields
            constexpr int j = decltype(jc)::value;
            const __m256i q3bits = _mm256_shuffle_epi8(load256(q3 + 32 * j), order);
            __m256i p16[4];
            unroll<4>([&](auto si) {
                constexpr int s = decltype(si)::value;
                // value = low bits - (high bit clear ? 4 : 0): maddubs of each part with q8.
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q3bits, 2 * s), m3);
                const __m256i neg = _mm256_andnot_si256(move_bit<4 * j + s, 2>(hbits), m4);
                const __m256i q8v = _mm256_shuffle_epi8(load256(q8 + 128 * j + 32 * s), order);
                p16[s] = _mm256_sub_epi16(_mm256_maddubs_epi16(lo, q8v), _mm256_maddubs_epi16(neg, q8v));
            });
            unroll<2>([&](auto pc) {
                constexpr int p = decltype(pc)::value;
                // p16[2p] holds groups 4g, 4g + 1 (its two halves), p16[2p + 1] groups 4g + 2, 4g + 3.
                constexpr int g = 2 * j + p;
                add_scaled_classes(p16[2 * p], p16[2 * p + 1], _mm256_shuffle_epi32(scales16, g * 0x55), acc03, acc47);
            });
        });
        const float d = half_at(x + offsetof(BlockQ3_K, d)) * load_f32(y);
        sums = _mm256_add_ps(sums, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(fold_classes(acc03, acc47))));
    }
    return finish_lanes(0.0f, sums);
}

float dot_iq4_xs_avx2(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i table = _mm256_broadcastsi128_si256(load128(kIQ4NLValues.data()));
    // Sub-block ib's 4-bit scale is nibble ib % 2 of scales_l[ib / 2], its high 2 bits are bits
    // 2ib, 2ib + 1 of scales_h.
    const __m256i shift_l = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i shift_h = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    // The reference's sumf += d_ib * sumi_ib for the 8 sub-blocks of a super-block, each lane
    // rounded as the scalar: d_ib = d4d8 * (ls - 32).
    auto terms8 = [&](const std::byte* x, const std::byte* y) {
        const std::byte* qs = x + offsetof(BlockIQ4_XS, qs);
        const std::byte* q8 = y + kQ8KQs;
        // v[k]: int32 lanes 0..3 sum to sub-block 2k's integer dot, lanes 4..7 to 2k + 1's.
        __m256i v[4];
        for (int k = 0; k < 4; ++k) {
            const __m256i q = load256(qs + 32 * k);  // sub-blocks 2k, 2k + 1: 16 bytes each
            const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(q, m4));
            const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
            const __m256i ya = load256(q8 + 64 * k);
            const __m256i yb = load256(q8 + 64 * k + 32);
            v[k] = _mm256_add_epi32(dot_i8(lo, _mm256_permute2x128_si256(ya, yb, 0x20)),
                                    dot_i8(hi, _mm256_permute2x128_si256(ya, yb, 0x31)));
        }
        // The hadds leave sub-blocks in lane order 0, 2, 4, 6, 1, 3, 5, 7; the permute restores it.
        const __m256i sumi = _mm256_permutevar8x32_epi32(
            _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3])),
            _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));

        std::uint16_t scales_h;
        std::memcpy(&scales_h, x + offsetof(BlockIQ4_XS, scales_h), 2);
        const __m256i ls_l = _mm256_and_si256(
            _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(load_u32(x + offsetof(BlockIQ4_XS, scales_l)))),
                              shift_l),
            _mm256_set1_epi32(0x0F));
        const __m256i ls_h = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(scales_h), shift_h),
                                              _mm256_set1_epi32(3));
        const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(ls_l, _mm256_slli_epi32(ls_h, 4)), _mm256_set1_epi32(32));
        const float d4d8 = half_at(x + offsetof(BlockIQ4_XS, d)) * load_f32(y);
        const __m256 dl = _mm256_mul_ps(_mm256_set1_ps(d4d8), _mm256_cvtepi32_ps(ls));
        return _mm256_mul_ps(dl, _mm256_cvtepi32_ps(sumi));
    };
    const std::int64_t nb = n / kQK_K;
    float sumf = 0.0f;
    if (nb > 0) {
        // The reference's chain of 8 scalar adds per super-block is issued with the next
        // super-block's integer work, which hides its latency.
        __m256 pending = terms8(w, a);
        for (std::int64_t i = 1; i < nb; ++i) {
            const __m256 t = terms8(w + i * sizeof(BlockIQ4_XS), a + i * sizeof(BlockQ8_K));
            sumf = add_lanes_in_order(sumf, pending);
            pending = t;
        }
        sumf = add_lanes_in_order(sumf, pending);
    }
    return sumf;
}

}  // namespace parity::cpu

#endif  // PARITY_HAVE_AVX2
