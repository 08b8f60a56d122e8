// The super-block scale searches of k_quant_search.h in AVX2 lanes: 8 sub-blocks per vector, each
// lane doing its sub-block's scalar float operations (k_quant_search.cpp) in the same order, so
// every output bit is the scalar search's. Without AVX2 the super-block searches are the scalar
// ones.
#include "k_quant_search.h"

#include <cfloat>
#include <cstddef>

#include "engine/quant/blocks.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define PARITY_KQ_SEARCH_AVX2 1
#endif

namespace parity::quant_detail {

#if defined(PARITY_KQ_SEARCH_AVX2)

// Lane j of every vector below belongs to sub-block j (of a group of 8). Each lane performs the
// scalar function's float operations in its order: separate mul and add (never FMA), IEEE
// division and square root; `if` becomes a per-lane mask. The comparisons keep C's NaN
// behaviour: ordered predicates for <, >, ==, unordered for !=; _mm256_min_ps(a, b) is exactly
// `a < b ? a : b` and _mm256_max_ps(a, b) `a > b ? a : b`.
//
// Levels: the scalar code's max(lo, min(hi, nearest_int(v))) is an integer computed from the
// bits of v + 1.5 * 2^23; for |v| < 2^22 that integer is v rounded half to even, and
// (clamp(v, lo, hi) + 1.5 * 2^23) - 1.5 * 2^23 (exact float operations) gives the same level as
// a float in fewer instructions. Outside that range (or for NaN, whose level depends on its
// payload bits) nearest_int returns bit garbage, which only the integer form reproduces. The
// searches use the float form where |v| < 2^21 is certain for every lane that matters, and
// the integer form otherwise.
namespace {

constexpr float kMagic = 12582912.f;  // 1.5 * 2^23, nearest_int's

/// nearest_int on 8 lanes: the same magic-number addition and bit extraction.
inline __m256i nearest_int8(__m256 v) {
    const __m256 val = _mm256_add_ps(v, _mm256_set1_ps(kMagic));
    return _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(val), _mm256_set1_epi32(0x007fffff)),
                            _mm256_set1_epi32(0x00400000));
}

/// max(lo, min(hi, nearest_int(v))) on 8 lanes.
inline __m256i clamp_nearest8(__m256 v, __m256i lo, __m256i hi) {
    return _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(v)));
}

/// The level max(lo, min(hi, nearest_int(v))) as a float: the integer form, or (kFloat) the
/// float form, valid only for |v| < 2^22.
template <bool kFloat>
inline __m256 level8(__m256 v, int lo, int hi) {
    if constexpr (kFloat) {
        const __m256 magic = _mm256_set1_ps(kMagic);
        const __m256 flo = _mm256_set1_ps(static_cast<float>(lo));
        const __m256 fhi = _mm256_set1_ps(static_cast<float>(hi));
        const __m256 c = _mm256_min_ps(_mm256_max_ps(v, flo), fhi);
        return _mm256_sub_ps(_mm256_add_ps(c, magic), magic);
    } else {
        return _mm256_cvtepi32_ps(clamp_nearest8(v, _mm256_set1_epi32(lo), _mm256_set1_epi32(hi)));
    }
}

inline __m256 fabs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), v); }

inline __m256 blend8(__m256 a, __m256 b, __m256 take_b) { return _mm256_blendv_ps(a, b, take_b); }

inline bool any8(__m256 mask) { return _mm256_movemask_ps(mask) != 0; }

/// Transposes the 8x8 matrix r in place: lane k of r[j] becomes lane j of r[k].
inline void transpose8(__m256 (&r)[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
    const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
    const __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]);
    const __m256 t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]);
    const __m256 t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44);
    const __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44);
    const __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44);
    const __m256 u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44);
    const __m256 u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// X[i] (i < N, N a multiple of 8) gets lane j = x[stride * j + i]: element i of 8 groups.
template <int N>
inline void load_transposed(const float* x, int stride, __m256 (&X)[N]) {
    for (int c = 0; c < N; c += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(x + stride * j + c);
        transpose8(r);
        for (int k = 0; k < 8; ++k) X[c + k] = r[k];
    }
}

/// Four vectors of values 0..255 as one of bytes: lane j = bytes v[0], v[1], v[2], v[3] of lane j.
inline __m256 bytes4(const __m256i* v) {
    return _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_or_si256(v[0], _mm256_slli_epi32(v[1], 8)),
                        _mm256_or_si256(_mm256_slli_epi32(v[2], 16), _mm256_slli_epi32(v[3], 24))));
}

/// The element of largest |x| of each lane (the first on ties), as signed_max: X[0..15].
inline __m256 signed_max8(const __m256 (&X)[16], __m256& amax) {
    __m256 mx = _mm256_setzero_ps();
    amax = _mm256_setzero_ps();
    for (int i = 0; i < 16; ++i) {
        const __m256 ax = fabs8(X[i]);
        const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);  // if (ax > amax)
        amax = blend8(amax, ax, gt);
        mx = blend8(mx, X[i], gt);
    }
    return mx;
}

/// make_qkx2_quants for NB groups of 8 sub-blocks of N values at x, x + 8 * N, ...: the NB
/// dependency chains interleave (each candidate of a sub-block waits for the previous one's
/// `min`). kQ2: quantize_row_q2_K_ref's weights |x| and use_mad = true (N = 16, NB = 2);
/// otherwise Q4_K / Q5_K's weights av_x + |x| and use_mad = false (N = 32).
template <int N, bool kQ2, int NB>
void search_kx2_avx2(int nmax, float rmin, float rdelta, int nstep, const float* x, float* scales_out,
                     float* mins_out, std::uint8_t* L_out) {
    static_assert((N == 32 && !kQ2) || (N == 16 && kQ2 && NB == 2));
    const __m256 zero = _mm256_setzero_ps();
    const __m256i izero = _mm256_setzero_si256();
    const __m256i inmax = _mm256_set1_epi32(nmax);
    const auto fnmax = static_cast<float>(nmax);

    // X[b][i]: element i of the 8 sub-blocks of group b; W[b][i]: its weight.
    __m256 X[NB][N];
    __m256 W[NB][N];
    __m256 min[NB], max[NB], x_min[NB], sum_w[NB], sum_x[NB], flat[NB];
    __m256 scale[NB], best_mad[NB], L_iscale[NB], L_min[NB];
    bool has_nan = false;
    for (int b = 0; b < NB; ++b) {
        load_transposed(x + 8 * N * b, N, X[b]);
        __m256 sum_x2 = zero;  // also tells whether x holds a NaN
        for (int i = 0; i < N; ++i) sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(X[b][i], X[b][i]));
        has_nan = has_nan || any8(_mm256_cmp_ps(sum_x2, sum_x2, _CMP_UNORD_Q));
        if constexpr (kQ2) {
            for (int i = 0; i < N; ++i) W[b][i] = fabs8(X[b][i]);
        } else {
            const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.f)));
            for (int i = 0; i < N; ++i) W[b][i] = _mm256_add_ps(av_x, fabs8(X[b][i]));
        }

        __m256 mn = X[b][0];
        __m256 mx = X[b][0];
        __m256 sw = W[b][0];
        __m256 sx = _mm256_mul_ps(sw, X[b][0]);
        for (int i = 1; i < N; ++i) {
            mn = _mm256_min_ps(X[b][i], mn);  // if (x[i] < min) min = x[i]
            mx = _mm256_max_ps(X[b][i], mx);  // if (x[i] > max) max = x[i]
            sw = _mm256_add_ps(sw, W[b][i]);
            sx = _mm256_add_ps(sx, _mm256_mul_ps(W[b][i], X[b][i]));
        }
        x_min[b] = mn;
        mn = _mm256_min_ps(zero, mn);  // if (min > 0) min = 0
        min[b] = mn;
        max[b] = mx;
        sum_w[b] = sw;
        sum_x[b] = sx;
        flat[b] = _mm256_cmp_ps(mx, mn, _CMP_EQ_OQ);  // max == min: the lanes that return early

        const __m256 iscale = _mm256_div_ps(_mm256_set1_ps(fnmax), _mm256_sub_ps(mx, mn));
        scale[b] = _mm256_div_ps(_mm256_set1_ps(1.f), iscale);
        __m256 mad = zero;
        for (int i = 0; i < N; ++i) {
            const __m256i l = clamp_nearest8(_mm256_mul_ps(iscale, _mm256_sub_ps(X[b][i], mn)), izero, inmax);
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale[b], _mm256_cvtepi32_ps(l)), mn), X[b][i]);
            diff = kQ2 ? fabs8(diff) : _mm256_mul_ps(diff, diff);
            mad = _mm256_add_ps(mad, _mm256_mul_ps(W[b][i], diff));
        }
        best_mad[b] = mad;
        // L is recomputed at the end from the iscale and min of the candidate that produced it.
        L_iscale[b] = iscale;
        L_min[b] = mn;
    }

    __m256 iscale[NB], sum_l[NB], sum_l2[NB], sum_xl[NB];
    __m256 FL[NB][N];
    // The sums of the candidate levels l = clamp(nearest_int(iscale * (x - min))).
    const auto sum_levels = [&]<bool kFloat>() {
        for (int b = 0; b < NB; ++b) sum_l[b] = sum_l2[b] = sum_xl[b] = zero;
        for (int i = 0; i < N; ++i) {
            for (int b = 0; b < NB; ++b) {
                const __m256 fl = level8<kFloat>(_mm256_mul_ps(iscale[b], _mm256_sub_ps(X[b][i], min[b])), 0, nmax);
                FL[b][i] = fl;
                const __m256 wl = _mm256_mul_ps(W[b][i], fl);
                sum_l[b] = _mm256_add_ps(sum_l[b], wl);
                sum_l2[b] = _mm256_add_ps(sum_l2[b], _mm256_mul_ps(wl, fl));
                sum_xl[b] = _mm256_add_ps(sum_xl[b], _mm256_mul_ps(wl, X[b][i]));
            }
        }
    };
    for (int is = 0; is <= nstep; ++is) {
        const __m256 num = _mm256_set1_ps(rmin + rdelta * static_cast<float>(is) + fnmax);
        // |iscale * (x - min)| <= |iscale| * max(|max - min|, |x_min - min|), also in float
        // (rounding is monotonic); lanes with max == min are discarded and need no bound.
        bool bounded = !has_nan;
        for (int b = 0; b < NB; ++b) {
            const __m256 range = _mm256_sub_ps(max[b], min[b]);
            iscale[b] = _mm256_div_ps(num, range);
            const __m256 reach = _mm256_max_ps(fabs8(range), fabs8(_mm256_sub_ps(x_min[b], min[b])));
            const __m256 bound = _mm256_mul_ps(fabs8(iscale[b]), reach);
            const __m256 unbounded = _mm256_cmp_ps(bound, _mm256_set1_ps(2097152.f), _CMP_NLT_UQ);  // 2^21
            bounded = bounded && !any8(_mm256_andnot_ps(flat[b], unbounded));
        }
        if (bounded) {
            sum_levels.template operator()<true>();
        } else {
            sum_levels.template operator()<false>();
        }
        __m256 this_scale[NB], this_min[NB], d_pos[NB], mad[NB];
        for (int b = 0; b < NB; ++b) {
            const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w[b], sum_l2[b]), _mm256_mul_ps(sum_l[b], sum_l[b]));
            d_pos[b] = _mm256_andnot_ps(flat[b], _mm256_cmp_ps(D, zero, _CMP_GT_OQ));
            const __m256 ts = _mm256_div_ps(
                _mm256_sub_ps(_mm256_mul_ps(sum_w[b], sum_xl[b]), _mm256_mul_ps(sum_x[b], sum_l[b])), D);
            const __m256 tm = _mm256_div_ps(
                _mm256_sub_ps(_mm256_mul_ps(sum_l2[b], sum_x[b]), _mm256_mul_ps(sum_l[b], sum_xl[b])), D);
            const __m256 min_pos = _mm256_cmp_ps(tm, zero, _CMP_GT_OQ);  // if (this_min > 0) ...
            this_min[b] = blend8(tm, zero, min_pos);
            this_scale[b] = blend8(ts, _mm256_div_ps(sum_xl[b], sum_l2[b]), min_pos);
            mad[b] = zero;
        }
        for (int i = 0; i < N; ++i) {
            for (int b = 0; b < NB; ++b) {
                __m256 diff =
                    _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale[b], FL[b][i]), this_min[b]), X[b][i]);
                diff = kQ2 ? fabs8(diff) : _mm256_mul_ps(diff, diff);
                mad[b] = _mm256_add_ps(mad[b], _mm256_mul_ps(W[b][i], diff));
            }
        }
        for (int b = 0; b < NB; ++b) {
            const __m256 win = _mm256_and_ps(d_pos[b], _mm256_cmp_ps(mad[b], best_mad[b], _CMP_LT_OQ));
            L_iscale[b] = blend8(L_iscale[b], iscale[b], win);
            L_min[b] = blend8(L_min[b], min[b], win);
            best_mad[b] = blend8(best_mad[b], mad[b], win);
            scale[b] = blend8(scale[b], this_scale[b], win);
            min[b] = blend8(min[b], this_min[b], win);
        }
    }

    __m256 q[8];  // lane j of q[k]: 4 bytes of L of sub-block j of a group
    for (int b = 0; b < NB; ++b) {
        __m256i Lv[N];
        const __m256i not_flat = _mm256_xor_si256(_mm256_castps_si256(flat[b]), _mm256_set1_epi32(-1));
        for (int i = 0; i < N; ++i) {
            const __m256i l =
                clamp_nearest8(_mm256_mul_ps(L_iscale[b], _mm256_sub_ps(X[b][i], L_min[b])), izero, inmax);
            Lv[i] = _mm256_and_si256(l, not_flat);
        }
        _mm256_storeu_ps(scales_out + 8 * b, blend8(scale[b], zero, flat[b]));            // 0 if flat
        _mm256_storeu_ps(mins_out + 8 * b, _mm256_xor_ps(min[b], _mm256_set1_ps(-0.f)));  // the_min = -min
        if constexpr (N == 32) {
            // Lane j of q[k] holds L[32 * j + 4 * k .. + 3]; transposed, q[j] is L[32 * j .. + 31].
            for (int k = 0; k < 8; ++k) q[k] = bytes4(Lv + 4 * k);
            transpose8(q);
            for (int j = 0; j < 8; ++j) _mm256_storeu_ps(reinterpret_cast<float*>(L_out + 256 * b + 32 * j), q[j]);
        } else {
            for (int k = 0; k < 4; ++k) q[4 * b + k] = bytes4(Lv + 4 * k);  // L[128 * b + 16 * j + 4 * k ..]
        }
    }
    if constexpr (N == 16) {
        // Transposed, q[j] holds L[16 * j .. + 15] (low half) and L[128 + 16 * j .. + 15].
        transpose8(q);
        for (int j = 0; j < 8; ++j) {
            _mm_storeu_ps(reinterpret_cast<float*>(L_out + 16 * j), _mm256_castps256_ps128(q[j]));
            _mm_storeu_ps(reinterpret_cast<float*>(L_out + 128 + 16 * j), _mm256_extractf128_ps(q[j], 1));
        }
    }
}

/// make_qx_quants(32, ...) for the 16 sub-blocks of 16 of x[256]: sub-blocks 0..7 in the lanes
/// of h = 0, 8..15 in those of h = 1. The candidates are independent of each other; the two
/// halves interleave. kFloat: the float form of the levels (x holds no inf or NaN; then every
/// lane with amax >= GROUP_MAX_EPS has |iscale * x| <= 32.9, and the other lanes are discarded).
template <bool kFloat>
void search_qx_avx2(const float* x, float* scales, std::int8_t* L) {
    constexpr int nmax = 32;
    const __m256 zero = _mm256_setzero_ps();
    __m256 X[2][16];
    __m256 Wt[2][16];  // w = x * x
    __m256 WX[2][16];  // w * x
    for (int h = 0; h < 2; ++h) {
        load_transposed(x + 128 * h, 16, X[h]);
        for (int i = 0; i < 16; ++i) {
            Wt[h][i] = _mm256_mul_ps(X[h][i], X[h][i]);
            WX[h][i] = _mm256_mul_ps(Wt[h][i], X[h][i]);
        }
    }
    __m256 max[2], all_zero[2], scale[2], best[2], L_iscale[2];
    for (int h = 0; h < 2; ++h) {
        __m256 amax;
        max[h] = signed_max8(X[h], amax);
        all_zero[h] = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
    }
    for (int h = 0; h < 2; ++h) {
        const __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), max[h]);
        __m256 sumlx = zero, suml2 = zero;
        for (int i = 0; i < 16; ++i) {
            const __m256 fl = level8<kFloat>(_mm256_mul_ps(iscale, X[h][i]), -nmax, nmax - 1);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(WX[h][i], fl));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(Wt[h][i], fl), fl));
        }
        // scale = suml2 != 0 ? sumlx / suml2 : 0
        scale[h] = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ), _mm256_div_ps(sumlx, suml2));
        best[h] = _mm256_mul_ps(scale[h], sumlx);
        L_iscale[h] = iscale;
    }
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const __m256 num = _mm256_set1_ps(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)));
        __m256 iscale[2], sumlx[2] = {zero, zero}, suml2[2] = {zero, zero};
        for (int h = 0; h < 2; ++h) iscale[h] = _mm256_div_ps(num, max[h]);
        for (int i = 0; i < 16; ++i) {
            for (int h = 0; h < 2; ++h) {
                const __m256 fl = level8<kFloat>(_mm256_mul_ps(iscale[h], X[h][i]), -nmax, nmax - 1);
                sumlx[h] = _mm256_add_ps(sumlx[h], _mm256_mul_ps(WX[h][i], fl));
                suml2[h] = _mm256_add_ps(suml2[h], _mm256_mul_ps(_mm256_mul_ps(Wt[h][i], fl), fl));
            }
        }
        for (int h = 0; h < 2; ++h) {
            // if (suml2 > 0 && sumlx * sumlx > best * suml2)
            const __m256 win = _mm256_and_ps(
                _mm256_cmp_ps(suml2[h], zero, _CMP_GT_OQ),
                _mm256_cmp_ps(_mm256_mul_ps(sumlx[h], sumlx[h]), _mm256_mul_ps(best[h], suml2[h]), _CMP_GT_OQ));
            const __m256 new_scale = _mm256_div_ps(sumlx[h], suml2[h]);
            L_iscale[h] = blend8(L_iscale[h], iscale[h], win);
            scale[h] = blend8(scale[h], new_scale, win);
            best[h] = blend8(best[h], _mm256_mul_ps(new_scale, sumlx[h]), win);
        }
    }
    __m256 q[8];  // q[4 * h + k], lane j: L[128 * h + 16 * j + 4 * k .. + 3]
    for (int h = 0; h < 2; ++h) {
        __m256i Lv[16];
        const __m256i keep = _mm256_xor_si256(_mm256_castps_si256(all_zero[h]), _mm256_set1_epi32(-1));
        for (int i = 0; i < 16; ++i) {
            const __m256i l = clamp_nearest8(_mm256_mul_ps(L_iscale[h], X[h][i]), _mm256_set1_epi32(-nmax),
                                             _mm256_set1_epi32(nmax - 1));
            Lv[i] = _mm256_and_si256(_mm256_add_epi32(l, _mm256_set1_epi32(nmax)), keep);
        }
        _mm256_storeu_ps(scales + 8 * h, _mm256_andnot_ps(all_zero[h], scale[h]));  // 0 if all zero
        for (int k = 0; k < 4; ++k) q[4 * h + k] = bytes4(Lv + 4 * k);
    }
    // Transposed, q[j] holds L[16 * j .. + 15] (low half) and L[128 + 16 * j .. + 15] (high half).
    transpose8(q);
    for (int j = 0; j < 8; ++j) {
        _mm_storeu_ps(reinterpret_cast<float*>(L + 16 * j), _mm256_castps256_ps128(q[j]));
        _mm_storeu_ps(reinterpret_cast<float*>(L + 128 + 16 * j), _mm256_extractf128_ps(q[j], 1));
    }
}

/// make_q3_quants(4, ...) for the 16 sub-blocks of 16 of x[256] (lanes as search_qx_avx2). The
/// element updates of a try run in element order in every lane, each under its lane's
/// conditions; a lane stops at the first try that changes nothing, as the scalar loop breaks.
void search_q3_avx2(const float* x, float* scales, std::int8_t* L) {
    constexpr int nmax = 4;
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lo = _mm256_set1_epi32(-nmax);
    const __m256i hi = _mm256_set1_epi32(nmax - 1);
    __m256 X[2][16];
    __m256 Wt[2][16];  // w = x * x
    __m256 WX[2][16];  // w * x
    __m256 FL[2][16];  // L[i] as a float, -4..3
    __m256 sumlx[2], suml2[2], all_zero[2], active[2];
    for (int h = 0; h < 2; ++h) {
        load_transposed(x + 128 * h, 16, X[h]);
        __m256 amax;
        const __m256 max = signed_max8(X[h], amax);
        all_zero[h] = _mm256_cmp_ps(amax, _mm256_set1_ps(kGroupMaxEps), _CMP_LT_OQ);
        active[h] = _mm256_xor_ps(all_zero[h], _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
        const __m256 iscale = _mm256_div_ps(_mm256_set1_ps(static_cast<float>(-nmax)), max);
        __m256 slx = zero, sl2 = zero;
        for (int i = 0; i < 16; ++i) {
            Wt[h][i] = _mm256_mul_ps(X[h][i], X[h][i]);
            WX[h][i] = _mm256_mul_ps(Wt[h][i], X[h][i]);
            const __m256 fl = _mm256_cvtepi32_ps(clamp_nearest8(_mm256_mul_ps(iscale, X[h][i]), lo, hi));
            FL[h][i] = fl;
            slx = _mm256_add_ps(slx, _mm256_mul_ps(WX[h][i], fl));
            sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(Wt[h][i], fl), fl));
        }
        sumlx[h] = slx;
        suml2[h] = sl2;
    }
    for (int itry = 0; itry < 5; ++itry) {
        __m256 changed[2] = {zero, zero};
        for (int i = 0; i < 16; ++i) {
            for (int h = 0; h < 2; ++h) {
                const __m256 li = FL[h][i];
                __m256 slx = _mm256_sub_ps(sumlx[h], _mm256_mul_ps(WX[h][i], li));
                const __m256 slx_pos = _mm256_cmp_ps(slx, zero, _CMP_GT_OQ);  // if (slx > 0)
                __m256 sl2 = _mm256_sub_ps(suml2[h], _mm256_mul_ps(_mm256_mul_ps(Wt[h][i], li), li));
                const __m256 nl = _mm256_cvtepi32_ps(
                    clamp_nearest8(_mm256_div_ps(_mm256_mul_ps(X[h][i], sl2), slx), lo, hi));
                const __m256 other = _mm256_cmp_ps(nl, li, _CMP_NEQ_OQ);  // if (new_l != L[i])
                slx = _mm256_add_ps(slx, _mm256_mul_ps(WX[h][i], nl));
                sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(Wt[h][i], nl), nl));
                // if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                const __m256 better = _mm256_and_ps(
                    _mm256_cmp_ps(sl2, zero, _CMP_GT_OQ),
                    _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx, slx), suml2[h]),
                                  _mm256_mul_ps(_mm256_mul_ps(sumlx[h], sumlx[h]), sl2), _CMP_GT_OQ));
                const __m256 take = _mm256_and_ps(_mm256_and_ps(active[h], slx_pos), _mm256_and_ps(other, better));
                FL[h][i] = blend8(li, nl, take);
                sumlx[h] = blend8(sumlx[h], slx, take);
                suml2[h] = blend8(suml2[h], sl2, take);
                changed[h] = _mm256_or_ps(changed[h], take);
            }
        }
        active[0] = _mm256_and_ps(active[0], changed[0]);  // if (n_changed == 0) break;
        active[1] = _mm256_and_ps(active[1], changed[1]);
        if (!any8(_mm256_or_ps(active[0], active[1]))) break;
    }
    __m256 q[8];  // q[4 * h + k], lane j: L[128 * h + 16 * j + 4 * k .. + 3]
    for (int h = 0; h < 2; ++h) {
        __m256i Lv[16];
        const __m256i keep = _mm256_xor_si256(_mm256_castps_si256(all_zero[h]), _mm256_set1_epi32(-1));
        for (int i = 0; i < 16; ++i) {
            Lv[i] = _mm256_and_si256(_mm256_add_epi32(_mm256_cvtps_epi32(FL[h][i]), _mm256_set1_epi32(nmax)), keep);
        }
        // sumlx / suml2; 0 for an all-zero sub-block
        _mm256_storeu_ps(scales + 8 * h, _mm256_andnot_ps(all_zero[h], _mm256_div_ps(sumlx[h], suml2[h])));
        for (int k = 0; k < 4; ++k) q[4 * h + k] = bytes4(Lv + 4 * k);
    }
    transpose8(q);
    for (int j = 0; j < 8; ++j) {
        _mm_storeu_ps(reinterpret_cast<float*>(L + 16 * j), _mm256_castps256_ps128(q[j]));
        _mm_storeu_ps(reinterpret_cast<float*>(L + 128 + 16 * j), _mm256_extractf128_ps(q[j], 1));
    }
}

}  // namespace

bool k_quant_search_is_simd() noexcept { return true; }

void search_q3k_superblock(const float* x, float* scales, std::int8_t* L) { search_q3_avx2(x, scales, L); }

void search_kx2_superblocks(int nmax, float rmin, float rdelta, int nstep, const float* x, std::size_t count,
                            float* scales, float* mins, std::uint8_t* L) {
    std::size_t k = 0;
    for (; k + 2 <= count; k += 2) {
        search_kx2_avx2<32, false, 2>(nmax, rmin, rdelta, nstep, x + 256 * k, scales + 8 * k, mins + 8 * k,
                                      L + 256 * k);
    }
    if (k < count) {
        search_kx2_avx2<32, false, 1>(nmax, rmin, rdelta, nstep, x + 256 * k, scales + 8 * k, mins + 8 * k,
                                      L + 256 * k);
    }
}

void search_q2k_superblock(const float* x, float* scales, float* mins, std::uint8_t* L) {
    search_kx2_avx2<16, true, 2>(3, -0.5f, 0.1f, 15, x, scales, mins, L);
}

void search_qx_superblock(const float* x, float* scales, std::int8_t* L) {
    __m256 non_finite = _mm256_setzero_ps();
    for (int i = 0; i < 256; i += 8) {
        const __m256 ax = fabs8(_mm256_loadu_ps(x + i));
        non_finite = _mm256_or_ps(non_finite, _mm256_cmp_ps(ax, _mm256_set1_ps(FLT_MAX), _CMP_NLE_UQ));
    }
    if (any8(non_finite)) {
        search_qx_avx2<false>(x, scales, L);
    } else {
        search_qx_avx2<true>(x, scales, L);
    }
}

#else

bool k_quant_search_is_simd() noexcept { return false; }

void search_kx2_superblocks(int nmax, float rmin, float rdelta, int nstep, const float* x, std::size_t count,
                            float* scales, float* mins, std::uint8_t* L) {
    search_kx2_superblocks_scalar(nmax, rmin, rdelta, nstep, x, count, scales, mins, L);
}

void search_q2k_superblock(const float* x, float* scales, float* mins, std::uint8_t* L) {
    search_q2k_superblock_scalar(x, scales, mins, L);
}

void search_qx_superblock(const float* x, float* scales, std::int8_t* L) { search_qx_superblock_scalar(x, scales, L); }

void search_q3k_superblock(const float* x, float* scales, std::int8_t* L) {
    search_q3k_superblock_scalar(x, scales, L);
}

#endif

}  // namespace parity::quant_detail
