// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K: ggml's quantize_row_*_ref (no importance matrix) and
// dequantize_row_* (ggml-quants.c), keeping ggml's float expressions and their order.
// Sub-block scales are searched in float32 (k_quant_search.cpp), quantized to 4/6/8 bits
// against a super-block scale stored as fp16, and the values are then re-quantized with the
// scales as they will be decoded (fp16 d times the integer sub-scale).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/quant/blocks.h"
#include "codecs.h"
#include "engine/half.h"
#include "k_quant_search.h"

namespace parity::quant_detail {

namespace {

constexpr float kGroupMaxEps = 1e-15f;  // GROUP_MAX_EPS

/// Packs 256 2-bit values (Q2_K, Q3_K low bits): byte j/4 + l of each 128-value half holds
/// values l, l+32, l+64, l+96 at bit 0, 2, 4, 6.
void pack_2bit(const std::uint8_t* L, std::uint8_t* qs) {
    for (int j = 0; j < kQK_K; j += 128) {
        for (int l = 0; l < 32; ++l) {
            qs[j / 4 + l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                                      (L[j + l + 96] << 6));
        }
    }
}

/// get_scale_min_k4: the 6-bit scale and min of sub-block j of Q4_K / Q5_K.
void get_scale_min_k4(int j, const std::uint8_t* q, std::uint8_t& d, std::uint8_t& m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/// Stores the 6-bit scale ls and min lm of sub-block j (Q4_K / Q5_K).
void set_scale_min_k4(int j, std::uint8_t ls, std::uint8_t lm, std::uint8_t* scales) {
    if (j < 4) {
        scales[j] = ls;
        scales[j + 4] = lm;
    } else {
        scales[j + 4] = static_cast<std::uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
        scales[j - 4] = static_cast<std::uint8_t>(scales[j - 4] | ((ls >> 4) << 6));
        scales[j - 0] = static_cast<std::uint8_t>(scales[j - 0] | ((lm >> 4) << 6));
    }
}

/// The signed 6-bit scale of sub-block j of Q3_K (as dequantize_row_q3_K unpacks it).
int q3_k_scale(const std::uint8_t* scales, int j) {
    const int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
    const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

/// Q4_K and Q5_K share everything but the number of levels and the search parameters.
struct Kx2Params {
    int nmax;
    float rmin;
    float rdelta;
    int nstep;
};

/// The sub-block searches of up to kKx2Batch Q4_K / Q5_K super-blocks.
constexpr std::size_t kKx2Batch = 4;
struct Kx2Search {
    float scales[kKx2Batch * 8];
    float mins[kKx2Batch * 8];
    std::uint8_t L[kKx2Batch * kQK_K];
};

/// Searches the `count` (<= kKx2Batch) super-blocks at x. `simd`: the AVX2 search (same bits).
void search_kx2(const float* x, std::size_t count, const Kx2Params& p, bool simd, Kx2Search& s) {
    if (simd) {
        search_kx2_superblocks(p.nmax, p.rmin, p.rdelta, p.nstep, x, count, s.scales, s.mins, s.L);
    } else {
        search_kx2_superblocks_scalar(p.nmax, p.rmin, p.rdelta, p.nstep, x, count, s.scales, s.mins, s.L);
    }
}

/// 6-bit scales/mins and the final quants of one Q4_K / Q5_K super-block, from the searched
/// scales[8], mins[8] and L[256]. Fills scales_out[12], d, dmin and L (values 0..nmax).
void finish_kx2_superblock(const float* x, int nmax, const float* scales, const float* mins,
                           std::uint8_t (&scales_out)[12], Half& d_out, Half& dmin_out, std::uint8_t* L) {
    float max_scale = 0;  // as we are deducting the min, scales are always positive
    float max_min = 0;
    for (int j = 0; j < kQK_K / 32; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }

    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < kQK_K / 32; ++j) {
        auto ls = static_cast<std::uint8_t>(nearest_int(inv_scale * scales[j]));
        auto lm = static_cast<std::uint8_t>(nearest_int(inv_min * mins[j]));
        ls = std::min<std::uint8_t>(63, ls);
        lm = std::min<std::uint8_t>(63, lm);
        set_scale_min_k4(j, ls, lm, scales_out);
    }
    d_out = fp32_to_fp16(max_scale / 63.f);
    dmin_out = fp32_to_fp16(max_min / 63.f);

    for (int j = 0; j < kQK_K / 32; ++j) {
        std::uint8_t sc = 0, m = 0;
        get_scale_min_k4(j, scales_out, sc, m);
        const float d = fp16_to_fp32(d_out) * static_cast<float>(sc);
        if (d == 0.f) continue;
        const float dm = fp16_to_fp32(dmin_out) * static_cast<float>(m);
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = static_cast<std::uint8_t>(std::max(0, std::min(nmax, l)));
        }
    }
}

}  // namespace

// ---------------------------------------------------------------------------------- Q2_K

namespace {

void quantize_q2_k_impl(Src x_all, Dst y, bool simd) {
    const std::size_t nb = x_all.size() / kQK_K;
    constexpr float q4scale = 15.f;
    for (std::size_t i = 0; i < nb; i++) {
        const float* x = x_all.data() + i * kQK_K;
        std::array<std::uint8_t, kQK_K> L{};
        std::array<float, kQK_K / 16> mins{};
        std::array<float, kQK_K / 16> scales{};
        BlockQ2_K b{};

        if (simd) {
            search_q2k_superblock(x, scales.data(), mins.data(), L.data());
        } else {
            search_q2k_superblock_scalar(x, scales.data(), mins.data(), L.data());
        }
        float max_scale = 0;  // as we are deducting the min, scales are always positive
        float max_min = 0;
        for (int j = 0; j < kQK_K / 16; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }

        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < kQK_K / 16; ++j) {
                b.scales[j] = static_cast<std::uint8_t>(nearest_int(iscale * scales[j]));
            }
            b.d = fp32_to_fp16(max_scale / q4scale);
        } else {
            for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = 0;
            b.d = fp32_to_fp16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < kQK_K / 16; ++j) {
                const int l = nearest_int(iscale * mins[j]);
                b.scales[j] = static_cast<std::uint8_t>(b.scales[j] | (l << 4));
            }
            b.dmin = fp32_to_fp16(max_min / q4scale);
        } else {
            b.dmin = fp32_to_fp16(0.f);
        }
        for (int j = 0; j < kQK_K / 16; ++j) {
            const float d = fp16_to_fp32(b.d) * static_cast<float>(b.scales[j] & 0xF);
            if (d == 0.f) continue;
            const float dm = fp16_to_fp32(b.dmin) * static_cast<float>(b.scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int((x[16 * j + ii] + dm) / d);
                L[16 * j + ii] = static_cast<std::uint8_t>(std::max(0, std::min(3, l)));
            }
        }
        pack_2bit(L.data(), b.qs);
        store_block(y, i, b);
    }
}

}  // namespace

void quantize_q2_k(Src x, Dst y) { quantize_q2_k_impl(x, y, k_quant_search_is_simd()); }
void quantize_q2_k_scalar(Src x, Dst y) { quantize_q2_k_impl(x, y, false); }

// One decoder, two precisions: T = float is ggml's dequantize_row_q2_k; T = double is exact.
template <class T>
void decode_q2_k(Bytes x, std::span<T> y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ2_K>(x, i);
        T* y = y_all.data() + i * kQK_K;
        const T d = fp16_to_fp32(b.d);
        const T min = fp16_to_fp32(b.dmin);
        const std::uint8_t* q = b.qs;
        int is = 0;
        for (int n = 0; n < kQK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                std::uint8_t sc = b.scales[is++];
                T dl = d * static_cast<T>(sc & 0xF);
                T ml = min * static_cast<T>(sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<T>((q[l] >> shift) & 3) - ml;

                sc = b.scales[is++];
                dl = d * static_cast<T>(sc & 0xF);
                ml = min * static_cast<T>(sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<T>((q[l + 16] >> shift) & 3) - ml;

                shift += 2;
            }
            q += 32;
        }
    }
}

void dequantize_q2_k(Bytes x, Out y) { decode_q2_k<float>(x, y); }
void dequantize_q2_k_exact(Bytes x, OutExact y) { decode_q2_k<double>(x, y); }

// ---------------------------------------------------------------------------------- Q3_K

namespace {

void quantize_q3_k_impl(Src x_all, Dst y, bool simd) {
    const std::size_t nb = x_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const float* x = x_all.data() + i * kQK_K;
        std::array<std::int8_t, kQK_K> L{};
        std::array<float, kQK_K / 16> scales{};
        BlockQ3_K b{};

        if (simd) {
            search_q3k_superblock(x, scales.data(), L.data());
        } else {
            search_q3k_superblock_scalar(x, scales.data(), L.data());
        }
        float max_scale = 0;
        float amax = 0;
        for (int j = 0; j < kQK_K / 16; ++j) {
            const float scale = std::fabs(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }

        std::memset(b.scales, 0, sizeof b.scales);
        if (max_scale != 0.f) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < kQK_K / 16; ++j) {
                // ggml stores nearest_int() in an int8_t before clamping
                auto l = static_cast<std::int8_t>(nearest_int(iscale * scales[j]));
                l = static_cast<std::int8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
                if (j < 8) {
                    b.scales[j] = static_cast<std::uint8_t>(l & 0xF);
                } else {
                    b.scales[j - 8] = static_cast<std::uint8_t>(b.scales[j - 8] | ((l & 0xF) << 4));
                }
                l = static_cast<std::int8_t>(l >> 4);
                b.scales[j % 4 + 8] = static_cast<std::uint8_t>(b.scales[j % 4 + 8] | (l << (2 * (j / 4))));
            }
            b.d = fp32_to_fp16(1 / iscale);
        } else {
            b.d = fp32_to_fp16(0.f);
        }

        for (int j = 0; j < kQK_K / 16; ++j) {
            const auto sc = static_cast<std::int8_t>(q3_k_scale(b.scales, j));
            const float d = fp16_to_fp32(b.d) * static_cast<float>(sc);
            if (d == 0.f) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16 * j + ii] / d);
                l = std::max(-4, std::min(3, l));
                L[16 * j + ii] = static_cast<std::int8_t>(l + 4);
            }
        }

        // The high bit of the first 32 quants goes into bit 0 of hmask[0..31], of the next
        // 32 into bit 1, and so on: ggml's `if (L[j] > 3) { hmask[m] |= hm; L[j] -= 4; }`,
        // without branches (every L is in 0..7).
        for (int m = 0; m < 32; ++m) {
            int h = 0;
            for (int k = 0; k < kQK_K / 32; ++k) h |= (L[32 * k + m] >> 2) << k;
            b.hmask[m] = static_cast<std::uint8_t>(h);
        }
        std::array<std::uint8_t, kQK_K> Lu{};
        for (int j = 0; j < kQK_K; ++j) Lu[j] = static_cast<std::uint8_t>(L[j] & 3);
        pack_2bit(Lu.data(), b.qs);
        store_block(y, i, b);
    }
}

}  // namespace

void quantize_q3_k(Src x, Dst y) { quantize_q3_k_impl(x, y, k_quant_search_is_simd()); }
void quantize_q3_k_scalar(Src x, Dst y) { quantize_q3_k_impl(x, y, false); }

void dequantize_q3_k(Bytes x, Out y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ3_K>(x, i);
        float* y = y_all.data() + i * kQK_K;
        const float d_all = fp16_to_fp32(b.d);
        const std::uint8_t* q = b.qs;
        const std::uint8_t* hm = b.hmask;
        std::uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < kQK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                float dl = d_all * static_cast<float>(q3_k_scale(b.scales, is++));
                for (int l = 0; l < 16; ++l) {
                    *y++ = dl * static_cast<float>(((q[l + 0] >> shift) & 3) - ((hm[l + 0] & m) ? 0 : 4));
                }
                dl = d_all * static_cast<float>(q3_k_scale(b.scales, is++));
                for (int l = 0; l < 16; ++l) {
                    *y++ = dl * static_cast<float>(((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
                }
                shift += 2;
                m = static_cast<std::uint8_t>(m << 1);
            }
            q += 32;
        }
    }
}

// ---------------------------------------------------------------------------------- Q4_K

namespace {

void quantize_q4_k_impl(Src x_all, Dst y, bool simd) {
    const std::size_t nb = x_all.size() / kQK_K;
    constexpr Kx2Params p{15, -1.f, 0.1f, 20};
    Kx2Search s;
    for (std::size_t i = 0; i < nb; i++) {
        if (i % kKx2Batch == 0) search_kx2(x_all.data() + i * kQK_K, std::min(kKx2Batch, nb - i), p, simd, s);
        std::uint8_t* L = s.L + (i % kKx2Batch) * kQK_K;
        BlockQ4_K b{};
        finish_kx2_superblock(x_all.data() + i * kQK_K, p.nmax, s.scales + (i % kKx2Batch) * 8,
                              s.mins + (i % kKx2Batch) * 8, b.scales, b.d, b.dmin, L);
        std::uint8_t* q = b.qs;
        for (int j = 0; j < kQK_K; j += 64) {
            for (int l = 0; l < 32; ++l) q[l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 4));
            q += 32;
        }
        store_block(y, i, b);
    }
}

}  // namespace

void quantize_q4_k(Src x, Dst y) { quantize_q4_k_impl(x, y, k_quant_search_is_simd()); }
void quantize_q4_k_scalar(Src x, Dst y) { quantize_q4_k_impl(x, y, false); }

// One decoder, two precisions: T = float is ggml's dequantize_row_q4_k; T = double is exact.
template <class T>
void decode_q4_k(Bytes x, std::span<T> y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ4_K>(x, i);
        T* y = y_all.data() + i * kQK_K;
        const std::uint8_t* q = b.qs;
        const T d = fp16_to_fp32(b.d);
        const T min = fp16_to_fp32(b.dmin);
        int is = 0;
        std::uint8_t sc = 0, m = 0;
        for (int j = 0; j < kQK_K; j += 64) {
            get_scale_min_k4(is + 0, b.scales, sc, m);
            const T d1 = d * static_cast<T>(sc);
            const T m1 = min * static_cast<T>(m);
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const T d2 = d * static_cast<T>(sc);
            const T m2 = min * static_cast<T>(m);
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<T>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<T>(q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

void dequantize_q4_k(Bytes x, Out y) { decode_q4_k<float>(x, y); }
void dequantize_q4_k_exact(Bytes x, OutExact y) { decode_q4_k<double>(x, y); }

// ---------------------------------------------------------------------------------- Q5_K

namespace {

void quantize_q5_k_impl(Src x_all, Dst y, bool simd) {
    const std::size_t nb = x_all.size() / kQK_K;
    constexpr Kx2Params p{31, -0.5f, 0.1f, 15};
    Kx2Search s;
    for (std::size_t i = 0; i < nb; i++) {
        if (i % kKx2Batch == 0) search_kx2(x_all.data() + i * kQK_K, std::min(kKx2Batch, nb - i), p, simd, s);
        std::uint8_t* L = s.L + (i % kKx2Batch) * kQK_K;
        BlockQ5_K b{};
        finish_kx2_superblock(x_all.data() + i * kQK_K, p.nmax, s.scales + (i % kKx2Batch) * 8,
                              s.mins + (i % kKx2Batch) * 8, b.scales, b.d, b.dmin, L);
        // ggml's `if (l > 15) { l -= 16; qh[j] |= m; }` without branches (every L is in 0..31):
        // the low 4 bits go to qs, bit 4 of value j of the n-th 64 to bit 2n (bit 2n + 1 for
        // the upper 32) of qh[j].
        std::uint8_t* qh = b.qh;
        std::uint8_t* ql = b.qs;
        std::memset(qh, 0, kQK_K / 8);
        for (int n = 0; n < kQK_K / 64; ++n) {
            for (int j = 0; j < 32; ++j) {
                const int l1 = L[64 * n + j];
                const int l2 = L[64 * n + j + 32];
                qh[j] = static_cast<std::uint8_t>(qh[j] | ((l1 >> 4) << (2 * n)) | ((l2 >> 4) << (2 * n + 1)));
                ql[j] = static_cast<std::uint8_t>((l1 & 0xF) | ((l2 & 0xF) << 4));
            }
            ql += 32;
        }
        store_block(y, i, b);
    }
}

}  // namespace

void quantize_q5_k(Src x, Dst y) { quantize_q5_k_impl(x, y, k_quant_search_is_simd()); }
void quantize_q5_k_scalar(Src x, Dst y) { quantize_q5_k_impl(x, y, false); }

// One decoder, two precisions: T = float is ggml's dequantize_row_q5_k; T = double is exact.
template <class T>
void decode_q5_k(Bytes x, std::span<T> y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ5_K>(x, i);
        T* y = y_all.data() + i * kQK_K;
        const std::uint8_t* ql = b.qs;
        const std::uint8_t* qh = b.qh;
        const T d = fp16_to_fp32(b.d);
        const T min = fp16_to_fp32(b.dmin);
        int is = 0;
        std::uint8_t sc = 0, m = 0;
        std::uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < kQK_K; j += 64) {
            get_scale_min_k4(is + 0, b.scales, sc, m);
            const T d1 = d * static_cast<T>(sc);
            const T m1 = min * static_cast<T>(m);
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const T d2 = d * static_cast<T>(sc);
            const T m2 = min * static_cast<T>(m);
            for (int l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<T>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                *y++ = d2 * static_cast<T>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
            }
            ql += 32;
            is += 2;
            u1 = static_cast<std::uint8_t>(u1 << 2);
            u2 = static_cast<std::uint8_t>(u2 << 2);
        }
    }
}

void dequantize_q5_k(Bytes x, Out y) { decode_q5_k<float>(x, y); }
void dequantize_q5_k_exact(Bytes x, OutExact y) { decode_q5_k<double>(x, y); }

// ---------------------------------------------------------------------------------- Q6_K

namespace {

void quantize_q6_k_impl(Src x_all, Dst y, bool simd) {
    const std::size_t nb = x_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const float* x = x_all.data() + i * kQK_K;
        std::array<std::int8_t, kQK_K> L{};
        std::array<float, kQK_K / 16> scales{};
        BlockQ6_K b{};

        if (simd) {
            search_qx_superblock(x, scales.data(), L.data());
        } else {
            search_qx_superblock_scalar(x, scales.data(), L.data());
        }
        float max_scale = 0;
        float max_abs_scale = 0;
        for (int ib = 0; ib < kQK_K / 16; ++ib) {
            const float scale = scales[ib];
            const float abs_scale = std::fabs(scale);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scale;
            }
        }

        if (max_abs_scale < kGroupMaxEps) {
            // all-zero super-block: every byte 0 (d = fp16 +0)
            b.d = fp32_to_fp16(0.f);
            store_block(y, i, b);
            continue;
        }

        const float iscale = -128.f / max_scale;
        b.d = fp32_to_fp16(1 / iscale);
        for (int ib = 0; ib < kQK_K / 16; ++ib) {
            b.scales[ib] = static_cast<std::int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
        }

        for (int j = 0; j < kQK_K / 16; ++j) {
            const float d = fp16_to_fp32(b.d) * static_cast<float>(b.scales[j]);
            if (d == 0.f) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16 * j + ii] / d);
                l = std::max(-32, std::min(31, l));
                L[16 * j + ii] = static_cast<std::int8_t>(l + 32);
            }
        }

        std::uint8_t* ql = b.ql;
        std::uint8_t* qh = b.qh;
        for (int j = 0; j < kQK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                const int q1 = L[j + l + 0] & 0xF;
                const int q2 = L[j + l + 32] & 0xF;
                const int q3 = L[j + l + 64] & 0xF;
                const int q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = static_cast<std::uint8_t>(q1 | (q3 << 4));
                ql[l + 32] = static_cast<std::uint8_t>(q2 | (q4 << 4));
                qh[l] = static_cast<std::uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
        store_block(y, i, b);
    }
}

}  // namespace

void quantize_q6_k(Src x, Dst y) { quantize_q6_k_impl(x, y, k_quant_search_is_simd()); }
void quantize_q6_k_scalar(Src x, Dst y) { quantize_q6_k_impl(x, y, false); }

// One decoder, two precisions: T = float is ggml's dequantize_row_q6_k; T = double is exact.
template <class T>
void decode_q6_k(Bytes x, std::span<T> y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ6_K>(x, i);
        T* y = y_all.data() + i * kQK_K;
        const T d = fp16_to_fp32(b.d);
        const std::uint8_t* ql = b.ql;
        const std::uint8_t* qh = b.qh;
        const std::int8_t* sc = b.scales;
        for (int n = 0; n < kQK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = static_cast<std::int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = static_cast<std::int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = static_cast<std::int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = static_cast<std::int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * static_cast<T>(sc[is + 0]) * static_cast<T>(q1);
                y[l + 32] = d * static_cast<T>(sc[is + 2]) * static_cast<T>(q2);
                y[l + 64] = d * static_cast<T>(sc[is + 4]) * static_cast<T>(q3);
                y[l + 96] = d * static_cast<T>(sc[is + 6]) * static_cast<T>(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void dequantize_q6_k(Bytes x, Out y) { decode_q6_k<float>(x, y); }
void dequantize_q6_k_exact(Bytes x, OutExact y) { decode_q6_k<double>(x, y); }

// ---------------------------------------------------------------------------------- Q8_K

void quantize_q8_k(Src x_all, Dst y) {
    const std::size_t nb = x_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const float* x = x_all.data() + i * kQK_K;
        BlockQ8_K b{};  // an all-zero block keeps d = 0, qs = 0 and (unlike ggml) bsums = 0
        float max = 0;
        float amax = 0;
        for (int j = 0; j < kQK_K; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.f) {
            store_block(y, i, b);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < kQK_K; ++j) {
            const int v = nearest_int(iscale * x[j]);
            b.qs[j] = static_cast<std::int8_t>(std::min(127, v));
        }
        for (int j = 0; j < kQK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += b.qs[j * 16 + ii];
            b.bsums[j] = static_cast<std::int16_t>(sum);
        }
        b.d = 1 / iscale;
        store_block(y, i, b);
    }
}

void dequantize_q8_k(Bytes x, Out y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ8_K>(x, i);
        float* y = y_all.data() + i * kQK_K;
        for (int j = 0; j < kQK_K; ++j) y[j] = b.d * static_cast<float>(b.qs[j]);
    }
}

}  // namespace parity::quant_detail
