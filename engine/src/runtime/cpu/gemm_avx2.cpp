// AVX2 / FMA / F16C matrix-matrix kernels (gemm.h). A tile of RM weight rows x RN tokens runs the
// whole row width at once: each weight block is loaded (and decoded) once for the RN tokens, each
// activation block once for the RM rows. Tiles at the edges repeat their last row or token and drop
// the repeated outputs, so every output is computed the same way. Compiled with -ffp-contract=off:
// the reference-order kernels must not fuse a*b + c.

#include "gemm.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "avx2_helpers.h"
#include "engine/half.h"
#include "engine/quant/blocks.h"
#include "engine/quant/quant.h"
#include "vec_dot.h"

namespace parity::cpu {

#if defined(PARITY_HAVE_AVX2)

namespace {

using namespace quant_detail;
using namespace avx2;

/// Asks for rows [r, r + count) of w (clipped to n_rows) to come into the L2 cache. The 4-row
/// tiles read a group of rows from memory once and then reuse it for every token: fetching the
/// next group while the current one is multiplied hides the memory latency. (Rows taken one at a
/// time in order, as the K-quant tiles do, are fetched ahead by the hardware without this.)
inline void prefetch_rows(const std::byte* w, std::size_t stride, std::int64_t n_rows, std::int64_t r,
                          std::int64_t count) noexcept {
    const std::int64_t end = std::min(n_rows, r + count);
    if (end <= r) return;
    const std::byte* p = w + static_cast<std::size_t>(r) * stride;
    const std::size_t bytes = static_cast<std::size_t>(end - r) * stride;
    for (std::size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T1);
}

/// Calls tile(row pointers, token pointers, token indices, outputs) over the n_rows x n_tok grid
/// in RM x RN tiles, rows outer: row_group(row pointers) first for each group of RM rows, whose
/// tiles then run with every token. At an edge the missing rows / tokens are the last real one
/// and their outputs go to a scratch slot, so a tile kernel never branches on its shape.
template <int RM, int RN, class RowGroup, class Tile>
void for_each_tile(const std::byte* w, std::size_t w_stride, std::int64_t n_rows, const std::byte* a,
                   std::size_t a_stride, std::int64_t n_tok, float* y, std::int64_t ldy, RowGroup&& row_group,
                   Tile&& tile) {
    float sink[RM * RN];
    for (std::int64_t r0 = 0; r0 < n_rows; r0 += RM) {
        const std::byte* wr[RM];
        for (int i = 0; i < RM; ++i) {
            wr[i] = w + static_cast<std::size_t>(std::min<std::int64_t>(r0 + i, n_rows - 1)) * w_stride;
        }
        prefetch_rows(w, w_stride, n_rows, r0 + RM, RM);
        row_group(wr);
        for (std::int64_t t0 = 0; t0 < n_tok; t0 += RN) {
            std::int64_t tok[RN];
            const std::byte* at[RN];
            for (int j = 0; j < RN; ++j) {
                tok[j] = std::min<std::int64_t>(t0 + j, n_tok - 1);
                at[j] = a + static_cast<std::size_t>(tok[j]) * a_stride;
            }
            float* out[RM * RN];
            for (int j = 0; j < RN; ++j) {
                for (int i = 0; i < RM; ++i) {
                    const bool real = r0 + i < n_rows && t0 + j < n_tok;
                    out[j * RM + i] = real ? y + (t0 + j) * ldy + (r0 + i) : sink + j * RM + i;
                }
            }
            tile(wr, at, tok, out);
        }
    }
}

/// Rows one at a time against tiles of RNs... tokens, largest first: a row's decoded weights are
/// reused by the tile's tokens; no token is computed twice.
template <template <int> class Kernel, int... RNs>
void gemm_rows_by_tokens(std::int64_t n, const std::byte* w, std::size_t ws, std::int64_t n_rows, const std::byte* a,
                         std::size_t as, std::int64_t n_tok, float* y, std::int64_t ldy) {
    std::int64_t t0 = 0;
    auto run = [&]<int RN>() {
        for (; t0 + RN <= n_tok; t0 += RN) {
            const std::byte* at[RN];
            for (int j = 0; j < RN; ++j) at[j] = a + static_cast<std::size_t>(t0 + j) * as;
            for (std::int64_t r = 0; r < n_rows; ++r) {
                float* out[RN];
                for (int j = 0; j < RN; ++j) out[j] = y + (t0 + j) * ldy + r;
                Kernel<RN>::run(n, w + static_cast<std::size_t>(r) * ws, at, out);
            }
        }
    };
    (run.template operator()<RNs>(), ...);
}

// ---- F16 ----

/// RM F16 rows x RN F16 tokens, one FMA accumulator of 8 lanes per output over k = 8i + l, then
/// hsum, then the last values one by one: the batch computation.
template <int RM, int RN>
void f16_batch_tile(std::int64_t n, const std::byte* const* w, const std::byte* const* a, float* const* out) noexcept {
    __m256 acc[RM][RN];
    for (int i = 0; i < RM; ++i) {
        for (int j = 0; j < RN; ++j) acc[i][j] = _mm256_setzero_ps();
    }
    std::int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 av[RN];
        for (int j = 0; j < RN; ++j) av[j] = _mm256_cvtph_ps(load128(a[j] + 2 * k));
        for (int i = 0; i < RM; ++i) {
            const __m256 wv = _mm256_cvtph_ps(load128(w[i] + 2 * k));
            for (int j = 0; j < RN; ++j) acc[i][j] = _mm256_fmadd_ps(wv, av[j], acc[i][j]);
        }
    }
    for (int i = 0; i < RM; ++i) {
        for (int j = 0; j < RN; ++j) {
            float s = hsum(acc[i][j]);
            for (std::int64_t e = k; e < n; ++e) s += half_at(w[i] + 2 * e) * half_at(a[j] + 2 * e);
            *out[j * RM + i] = s;
        }
    }
}

void gemm_f16(std::int64_t n, const std::byte* w, std::size_t ws, std::int64_t n_rows, const std::byte* a,
              std::size_t as, std::int64_t n_tok, float* y, std::int64_t ldy) {
    if (n_tok == 1) {
        // Decode: a row at a time (one stream for the prefetcher), vec_dot_simd(F16) itself.
        const VecDotFn dot = vec_dot_simd(GgmlType::F16);
        for (std::int64_t r = 0; r < n_rows; ++r) y[r] = dot(n, w + static_cast<std::size_t>(r) * ws, a);
        return;
    }
    // A batch: 12 accumulators + 3 activations + 1 weight fill the 16 registers.
    for_each_tile<4, 3>(
        w, ws, n_rows, a, as, n_tok, y, ldy, [](const std::byte* const*) {},
        [n](const std::byte* const* wr, const std::byte* const* at, const std::int64_t*, float* const* o) {
            f16_batch_tile<4, 3>(n, wr, at, o);
        });
}

// ---- Q8_0 / Q4_0 x Q8_0: 8 outputs, one per lane ----

/// The signed weight values of block ib of a row: Q8_0 as stored, Q4_0 unpacked to [-8, 7].
template <class Block>
inline __m256i weight_q8(const std::byte* row, std::int64_t ib) noexcept {
    const std::byte* x = row + ib * static_cast<std::int64_t>(sizeof(Block));
    if constexpr (sizeof(Block) == sizeof(BlockQ8_0)) {
        return load256(x + 2);
    } else {
        const __m128i q = load128(x + 2);
        const __m128i m4 = _mm_set1_epi8(0x0F);
        const __m128i lo = _mm_and_si128(q, m4);                     // values 0..15
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);  // values 16..31
        return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
    }
}

/// 4 rows x 2 tokens, output c = 4 * token + row in lane c. Per block, the reference does
///   Q8_0: sumf += sumi * (dx * dy)        Q4_0: sumf += sumi * dx * dy
/// which each lane repeats in the same order. dx: the 4 rows' block scales as floats, 4 per block;
/// dy0, dy1: the two tokens' block scales as floats.
template <class Block>
void q8_tile(std::int64_t n, const std::byte* const* w, const std::byte* const* a, const float* dx4,
             const float* dy0, const float* dy1, float* const* out) noexcept {
    constexpr int RM = 4;
    constexpr int RN = 2;
    constexpr bool kQ8 = sizeof(Block) == sizeof(BlockQ8_0);
    constexpr auto kBy = static_cast<std::int64_t>(sizeof(BlockQ8_0));
    const std::int64_t nb = n / kQK8_0;
    __m256 sumf = _mm256_setzero_ps();
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        __m256i ax[RM];
        __m256i sx[RM];
        for (int i = 0; i < RM; ++i) {
            sx[i] = weight_q8<Block>(w[i], ib);
            ax[i] = _mm256_sign_epi8(sx[i], sx[i]);
        }
        __m256i sums[8];
        for (int j = 0; j < RN; ++j) {
            const __m256i qy = load256(a[j] + ib * kBy + 2);
            for (int i = 0; i < RM; ++i) {
                // |x| * (y * sign(x)), pairs summed to int16 (|x| <= 127: no saturation), then to int32.
                const __m256i p16 = _mm256_maddubs_epi16(ax[i], _mm256_sign_epi8(qy, sx[i]));
                sums[j * RM + i] = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
            }
        }
        // Lane c: dx of row c % 4, dy of token c / 4.
        const __m256 dx = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(dx4 + 4 * ib));
        const __m256 dy = _mm256_set_m128(_mm_broadcast_ss(dy1 + ib), _mm_broadcast_ss(dy0 + ib));
        const __m256 sumi = _mm256_cvtepi32_ps(hsum8_i32(sums));
        if constexpr (kQ8) {
            sumf = _mm256_add_ps(sumf, _mm256_mul_ps(sumi, _mm256_mul_ps(dx, dy)));
        } else {
            sumf = _mm256_add_ps(sumf, _mm256_mul_ps(_mm256_mul_ps(sumi, dx), dy));
        }
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, sumf);
    for (int c = 0; c < 8; ++c) *out[c] = lanes[c];
}

template <class Block>
void gemm_q8(std::int64_t n, const std::byte* w, std::size_t ws, std::int64_t n_rows, const std::byte* a,
             std::size_t as, std::int64_t n_tok, float* y, std::int64_t ldy) {
    if (n_tok == 1) {
        // One token: nothing to reuse across tokens; the per-row kernel has the same (reference)
        // bits and streams the rows faster.
        const VecDotFn dot = vec_dot_simd(sizeof(Block) == sizeof(BlockQ8_0) ? GgmlType::Q8_0 : GgmlType::Q4_0);
        for (std::int64_t r = 0; r < n_rows; ++r) y[r] = dot(n, w + static_cast<std::size_t>(r) * ws, a);
        return;
    }
    // The fp16 block scales as floats, converted once: every token's (reused by all the rows) and
    // the current 4 rows' (reused by all the tokens). The buffer grows once per thread to the
    // largest batch; a single token never uses it.
    const std::int64_t nb = n / kQK8_0;
    constexpr auto kBx = static_cast<std::int64_t>(sizeof(Block));
    constexpr auto kBy = static_cast<std::int64_t>(sizeof(BlockQ8_0));
    thread_local std::vector<float> scales;
    const auto need = static_cast<std::size_t>((n_tok + 4) * nb);
    if (scales.size() < need) scales.resize(need);
    float* dy = scales.data();
    float* dx = dy + n_tok * nb;
    for (std::int64_t t = 0; t < n_tok; ++t) {
        for (std::int64_t ib = 0; ib < nb; ++ib) dy[t * nb + ib] = half_at(a + static_cast<std::size_t>(t) * as + ib * kBy);
    }
    for_each_tile<4, 2>(
        w, ws, n_rows, a, as, n_tok, y, ldy,
        [&](const std::byte* const* wr) {
            for (std::int64_t ib = 0; ib < nb; ++ib) {
                for (int i = 0; i < 4; ++i) dx[4 * ib + i] = half_at(wr[i] + ib * kBx);
            }
        },
        [&](const std::byte* const* wr, const std::byte* const* at, const std::int64_t* tok, float* const* o) {
            q8_tile<Block>(n, wr, at, dx, dy + tok[0] * nb, dy + tok[1] * nb, o);
        });
}

// ---- Q4_K / Q5_K / Q6_K x Q8_K: the reference's 8 class lanes, one 32-value group in 3 instructions ----
//
// The reference sums products per class e mod 8 (its aux32[8]), so a group's products must reach
// the lane of their class. to_class_order() permutes a group of 32 bytes so that the 4 bytes of
// each class sit side by side (classes 0-3 in the low 128 bits, 4-7 in the high): maddubs then
// adds two products of one class per int16 lane, and madd with the group's scale adds the two
// lanes of each class into the class's int32 lane, scaled. The activation's groups are permuted
// once per matmul (ActLayout::ClassOrder), a weight's once per row for all the tile's tokens.

inline __m256i to_class_order(__m256i v) noexcept {
    const __m256i dwords = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    const __m256i bytes = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9,
                                           13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm256_shuffle_epi8(dwords, bytes);
}

/// One Q4_K (or, kFive, Q5_K) row x RN tokens. Per block the reference does
/// sums[l] += (dx * dy) * aux32[l], then sumf -= (dminx * dy) * sum_j min_j * bsum_j; every output
/// repeats that in the same order. Q5_K adds 16 to a value whose bit in qh is set: bit 2j of
/// qh[b] for value b of group 2j, bit 2j + 1 for group 2j + 1.
template <bool kFive, int RN>
void q45_k_tile(std::int64_t n, const std::byte* w, const std::byte* const* a, float* const* out) noexcept {
    using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
    constexpr std::uint32_t kmask1 = 0x3f3f3f3f;
    constexpr std::uint32_t kmask2 = 0x0f0f0f0f;
    constexpr std::uint32_t kmask3 = 0x03030303;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const std::int64_t nb = n / kQK_K;
    __m256 sums[RN];
    float sumf[RN];
    for (int t = 0; t < RN; ++t) {
        sums[t] = _mm256_setzero_ps();
        sumf[t] = 0.0f;
    }
    for (std::int64_t i = 0; i < nb; ++i) {
        const std::byte* x = w + i * static_cast<std::int64_t>(sizeof(Block));
        std::uint32_t utmp[4];
        std::memcpy(utmp, x + offsetof(Block, scales), 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const std::uint32_t uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        // Bytes 0..7: the 8 scales; 8..15: the 8 mins.
        const __m128i sm8 = _mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]),
                                          static_cast<int>(utmp[1]), static_cast<int>(utmp[0]));
        const __m128i mins = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm8, sm8));
        // Scale g, zero-extended into every int16 lane: byte g then a zero byte (0x80 selects 0).
        const __m256i sm8x2 = _mm256_broadcastsi128_si256(sm8);
        auto scale16 = [&](int g) {
            return _mm256_shuffle_epi8(sm8x2, _mm256_set1_epi16(static_cast<short>(0x8000 | g)));
        };

        __m256i aux[RN];
        for (int t = 0; t < RN; ++t) aux[t] = _mm256_setzero_si256();
        const std::byte* q4 = x + offsetof(Block, qs);
        // Q5_K: qh[b] holds the fifth bits of value b of every group: the same permutation.
        [[maybe_unused]] __m256i qh = _mm256_setzero_si256();
        if constexpr (kFive) qh = to_class_order(load256(x + offsetof(BlockQ5_K, qh)));
        for (int j = 0; j < kQK_K / 64; ++j) {
            // Byte b holds value b of group 2j (low nibble) and of group 2j + 1 (high): one
            // permutation of the packed bytes orders both groups.
            const __m256i bits = to_class_order(load256(q4 + 32 * j));
            __m256i lo = _mm256_and_si256(bits, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            if constexpr (kFive) {
                // Bit 2j (2j + 1) of each byte, moved to 16 (the shifts stay inside the bytes'
                // 0/1 results).
                const __m256i one = _mm256_set1_epi8(1);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
            }
            const __m256i sc_lo = scale16(2 * j);
            const __m256i sc_hi = scale16(2 * j + 1);
            for (int t = 0; t < RN; ++t) {
                const std::byte* q8 = a[t] + i * static_cast<std::int64_t>(sizeof(BlockQ8_K)) + kQ8KQs + 64 * j;
                const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(q8)), sc_lo);
                const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(q8 + 32)), sc_hi);
                aux[t] = _mm256_add_epi32(aux[t], _mm256_add_epi32(p_lo, p_hi));
            }
        }
        const float dx = half_at(x + offsetof(Block, d));
        const float dminx = half_at(x + offsetof(Block, dmin));
        for (int t = 0; t < RN; ++t) {
            const std::byte* y = a[t] + i * static_cast<std::int64_t>(sizeof(BlockQ8_K));
            const float yd = load_f32(y);
            // sum_j min_j * (bsums[2j] + bsums[2j + 1]), exact.
            const __m256i bsums = load256(y + kQ8KBsums);
            const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
            const __m128i prod = _mm_madd_epi16(mins, q8s);
            __m128i ps = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));
            ps = _mm_add_epi32(ps, _mm_shuffle_epi32(ps, 1));
            const int sumi_mins = _mm_cvtsi128_si32(ps);
            const float d = dx * yd;
            sums[t] = _mm256_add_ps(sums[t], _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(aux[t])));
            const float dmin = dminx * yd;
            sumf[t] -= dmin * static_cast<float>(sumi_mins);
        }
    }
    for (int t = 0; t < RN; ++t) *out[t] = finish_lanes(sumf[t], sums[t]);
}

/// One Q6_K row x RN tokens: values q - 32 with q in [0, 63]; 16 values per scale, so a group's
/// two halves take two scales (int16 lanes 2c and 2c + 1 of a class hold the first and the
/// second half). Per block the reference does sums[l] += (dx * dy) * aux32[l].
template <int RN>
void q6_k_tile(std::int64_t n, const std::byte* w, const std::byte* const* a, float* const* out) noexcept {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m3 = _mm256_set1_epi8(0x03);
    const __m256i m32s = _mm256_set1_epi8(32);
    const std::int64_t nb = n / kQK_K;
    __m256 sums[RN];
    for (int t = 0; t < RN; ++t) sums[t] = _mm256_setzero_ps();
    for (std::int64_t i = 0; i < nb; ++i) {
        const std::byte* x = w + i * static_cast<std::int64_t>(sizeof(BlockQ6_K));
        const std::byte* ql = x + offsetof(BlockQ6_K, ql);
        const std::byte* qh = x + offsetof(BlockQ6_K, qh);
        // The 16 scales as int16; dword m holds the pair (2m, 2m + 1) of one 32-value group.
        const __m256i sc16 = _mm256_cvtepi8_epi16(load128(x + offsetof(BlockQ6_K, scales)));
        __m256i aux[RN];
        for (int t = 0; t < RN; ++t) aux[t] = _mm256_setzero_si256();
        for (int j = 0; j < kQK_K / 128; ++j) {
            // Every value is built byte-wise from byte l of these three: permuting them once puts
            // all four groups in class order.
            const __m256i hbits = to_class_order(load256(qh + 32 * j));
            const __m256i bits1 = to_class_order(load256(ql + 64 * j));
            const __m256i bits2 = to_class_order(load256(ql + 64 * j + 32));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(bits1, m4), _mm256_slli_epi16(_mm256_and_si256(hbits, m3), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(bits2, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2), m3), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 4), m3), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 6), m3), 4));
            for (int k = 0; k < 4; ++k) {
                const __m256i qk = q[k];
                const __m256i scales = _mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(4 * j + k));
                for (int t = 0; t < RN; ++t) {
                    const __m256i q8 = load256(a[t] + i * static_cast<std::int64_t>(sizeof(BlockQ8_K)) + kQ8KQs +
                                               128 * j + 32 * k);
                    // (q - 32) * q8 = q * q8 - 32 * q8, q in [0, 63]: no int16 saturation.
                    const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(qk, q8), _mm256_maddubs_epi16(m32s, q8));
                    aux[t] = _mm256_add_epi32(aux[t], _mm256_madd_epi16(p16, scales));
                }
            }
        }
        const float dx = half_at(x + offsetof(BlockQ6_K, d));
        for (int t = 0; t < RN; ++t) {
            const float d = dx * load_f32(a[t] + i * static_cast<std::int64_t>(sizeof(BlockQ8_K)));
            sums[t] = _mm256_add_ps(sums[t], _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(aux[t])));
        }
    }
    for (int t = 0; t < RN; ++t) *out[t] = finish_lanes(0.0f, sums[t]);
}

template <int RN>
struct Q4KTile {
    static void run(std::int64_t n, const std::byte* w, const std::byte* const* a, float* const* out) noexcept {
        q45_k_tile<false, RN>(n, w, a, out);
    }
};
template <int RN>
struct Q5KTile {
    static void run(std::int64_t n, const std::byte* w, const std::byte* const* a, float* const* out) noexcept {
        q45_k_tile<true, RN>(n, w, a, out);
    }
};
template <int RN>
struct Q6KTile {
    static void run(std::int64_t n, const std::byte* w, const std::byte* const* a, float* const* out) noexcept {
        q6_k_tile<RN>(n, w, a, out);
    }
};
}  // namespace

GemmFn gemm_simd(GgmlType weight) noexcept {
    switch (weight) {
        case GgmlType::F16: return gemm_f16;
        case GgmlType::Q8_0: return gemm_q8<BlockQ8_0>;
        case GgmlType::Q4_0: return gemm_q8<BlockQ4_0>;
        case GgmlType::Q4_K: return gemm_rows_by_tokens<Q4KTile, 8, 4, 2, 1>;
        case GgmlType::Q5_K: return gemm_rows_by_tokens<Q5KTile, 8, 4, 2, 1>;
        case GgmlType::Q6_K: return gemm_rows_by_tokens<Q6KTile, 8, 4, 2, 1>;
        default: return nullptr;
    }
}

ActLayout gemm_act_layout(GgmlType weight) noexcept {
    switch (weight) {
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K: return ActLayout::ClassOrder;
        default: return ActLayout::Plain;
    }
}

void to_class_order(std::byte* row, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n / kQK_K; ++i) {
        std::byte* qs = row + i * static_cast<std::int64_t>(sizeof(BlockQ8_K)) + kQ8KQs;
        for (int g = 0; g < kQK_K / 32; ++g) {
            auto* p = reinterpret_cast<__m256i*>(qs + 32 * g);
            _mm256_storeu_si256(p, to_class_order(_mm256_loadu_si256(p)));
        }
    }
}


#else  // no AVX2 in this build

GemmFn gemm_simd(GgmlType) noexcept { return nullptr; }

ActLayout gemm_act_layout(GgmlType) noexcept { return ActLayout::Plain; }

void to_class_order(std::byte*, std::int64_t) noexcept {}

#endif

}  // namespace parity::cpu
