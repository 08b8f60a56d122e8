// ggml's scalar vec_dot reference formulas (ggml-cpu-quants.c and vec.c at llama.cpp c392e50,
// the non-SIMD branches). Float expressions keep ggml's order; the file is compiled with
// -ffp-contract=off so a*b + c rounds twice, as in ggml's (FMA-less) reference build.

#include <cstdint>
#include <cstring>

#include "engine/quant/blocks.h"
#include "engine/half.h"
#include "vec_dot.h"

namespace parity::cpu {

namespace {

using namespace quant_detail;

template <class Block>
Block block_at(const std::byte* p, std::int64_t i) noexcept {
    Block b;
    std::memcpy(&b, p + static_cast<std::size_t>(i) * sizeof(Block), sizeof(Block));
    return b;
}

float h2f(Half h) noexcept { return fp16_to_fp32(h); }

// ---- F32 / F16 / BF16: products in float, sums in double (ggml_float) ----

float dot_f32_ref(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        float x;
        float y;
        std::memcpy(&x, w + i * 4, 4);
        std::memcpy(&y, a + i * 4, 4);
        sum += static_cast<double>(x * y);
    }
    return static_cast<float>(sum);
}

template <float (*Conv)(std::uint16_t)>
float dot_half_ref(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint16_t x;
        std::uint16_t y;
        std::memcpy(&x, w + i * 2, 2);
        std::memcpy(&y, a + i * 2, 2);
        sum += static_cast<double>(Conv(x) * Conv(y));
    }
    return static_cast<float>(sum);
}

float f16(std::uint16_t h) { return fp16_to_fp32(h); }
float bf16(std::uint16_t h) { return bf16_to_fp32(h); }

// ---- legacy quants x Q8_0 / Q8_1 ----

float dot_q4_0_q8_0(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK8_0;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockQ4_0>(vx, ib);
        const auto y = block_at<BlockQ8_0>(vy, ib);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < kQK8_0 / 2; ++j) {
            const int v0 = (x.qs[j] & 0x0F) - 8;
            const int v1 = (x.qs[j] >> 4) - 8;
            sumi0 += v0 * y.qs[j];
            sumi1 += v1 * y.qs[j + kQK8_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += static_cast<float>(sumi) * h2f(x.d) * h2f(y.d);
    }
    return sumf;
}

float dot_q4_1_q8_1(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK8_1;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockQ4_1>(vx, ib);
        const auto y = block_at<BlockQ8_1>(vy, ib);
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < kQK8_1 / 2; ++j) {
            const int v0 = x.qs[j] & 0x0F;
            const int v1 = x.qs[j] >> 4;
            sumi0 += v0 * y.qs[j];
            sumi1 += v1 * y.qs[j + kQK8_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (h2f(x.d) * h2f(y.d)) * static_cast<float>(sumi) + h2f(x.m) * h2f(y.s);
    }
    return sumf;
}

float dot_q5_0_q8_0(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK8_0;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockQ5_0>(vx, ib);
        const auto y = block_at<BlockQ8_0>(vy, ib);
        std::uint32_t qh;
        std::memcpy(&qh, x.qh, sizeof(qh));
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < kQK8_0 / 2; ++j) {
            const auto xh_0 = static_cast<std::uint8_t>(((qh & (1u << (j + 0))) >> (j + 0)) << 4);
            const auto xh_1 = static_cast<std::uint8_t>((qh & (1u << (j + 16))) >> (j + 12));
            const auto x0 = static_cast<std::int32_t>(static_cast<std::int8_t>(((x.qs[j] & 0x0F) | xh_0) - 16));
            const auto x1 = static_cast<std::int32_t>(static_cast<std::int8_t>(((x.qs[j] >> 4) | xh_1) - 16));
            sumi0 += x0 * y.qs[j];
            sumi1 += x1 * y.qs[j + kQK8_0 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (h2f(x.d) * h2f(y.d)) * static_cast<float>(sumi);
    }
    return sumf;
}

float dot_q5_1_q8_1(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK8_1;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockQ5_1>(vx, ib);
        const auto y = block_at<BlockQ8_1>(vy, ib);
        std::uint32_t qh;
        std::memcpy(&qh, x.qh, sizeof(qh));
        int sumi0 = 0;
        int sumi1 = 0;
        for (int j = 0; j < kQK8_1 / 2; ++j) {
            const auto xh_0 = static_cast<std::uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const auto xh_1 = static_cast<std::uint8_t>((qh >> (j + 12)) & 0x10);
            const std::int32_t x0 = (x.qs[j] & 0xF) | xh_0;
            const std::int32_t x1 = (x.qs[j] >> 4) | xh_1;
            sumi0 += x0 * y.qs[j];
            sumi1 += x1 * y.qs[j + kQK8_1 / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (h2f(x.d) * h2f(y.d)) * static_cast<float>(sumi) + h2f(x.m) * h2f(y.s);
    }
    return sumf;
}

float dot_q8_0_q8_0(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK8_0;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockQ8_0>(vx, ib);
        const auto y = block_at<BlockQ8_0>(vy, ib);
        int sumi = 0;
        for (int j = 0; j < kQK8_0; j++) sumi += x.qs[j] * y.qs[j];
        sumf += static_cast<float>(sumi) * (h2f(x.d) * h2f(y.d));
    }
    return sumf;
}

float dot_iq4_nl_q8_0(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK4_NL;
    float sumf = 0;
    for (std::int64_t ib = 0; ib < nb; ++ib) {
        const auto x = block_at<BlockIQ4_NL>(vx, ib);
        const auto y = block_at<BlockQ8_0>(vy, ib);
        const float d = h2f(y.d) * h2f(x.d);
        int sumi1 = 0;
        int sumi2 = 0;
        for (int j = 0; j < kQK4_NL / 2; ++j) {
            sumi1 += y.qs[j + 0] * kIQ4NLValues[x.qs[j] & 0xf];
            sumi2 += y.qs[j + kQK4_NL / 2] * kIQ4NLValues[x.qs[j] >> 4];
        }
        sumf += d * static_cast<float>(sumi1 + sumi2);
    }
    return sumf;
}

// ---- K-quants x Q8_K ----

/// The 8 six-bit scales and 8 mins of a Q4_K / Q5_K block (ggml's utmp shuffle).
void unpack_scales_k4(const std::uint8_t (&packed)[12], std::uint8_t (&scales)[8], std::uint8_t (&mins)[8]) noexcept {
    constexpr std::uint32_t kmask1 = 0x3f3f3f3f;
    constexpr std::uint32_t kmask2 = 0x0f0f0f0f;
    constexpr std::uint32_t kmask3 = 0x03030303;
    std::uint32_t utmp[4];
    std::memcpy(utmp, packed, 12);
    utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
    const std::uint32_t uaux = utmp[1] & kmask1;
    utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
    utmp[2] = uaux;
    utmp[0] &= kmask1;
    std::memcpy(scales, &utmp[0], 8);
    std::memcpy(mins, &utmp[2], 8);
}

float dot_q2_k_q8_k(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK_K;
    float sumf = 0;
    for (std::int64_t i = 0; i < nb; ++i) {
        const auto x = block_at<BlockQ2_K>(vx, i);
        const auto y = block_at<BlockQ8_K>(vy, i);
        const std::uint8_t* q2 = x.qs;
        const std::int8_t* q8 = y.qs;
        const std::uint8_t* sc = x.scales;
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += y.bsums[j] * (sc[j] >> 4);
        const float dall = y.d * h2f(x.d);
        const float dmin = y.d * h2f(x.dmin);
        int isum = 0;
        int is = 0;
        for (int k = 0; k < kQK_K / 128; ++k) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                int d = sc[is++] & 0xF;
                int isuml = 0;
                for (int l = 0; l < 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                d = sc[is++] & 0xF;
                isuml = 0;
                for (int l = 16; l < 32; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                shift += 2;
                q8 += 32;
            }
            q2 += 32;
        }
        sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sumf;
}

float dot_q3_k_q8_k(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    constexpr std::uint32_t kmask1 = 0x03030303;
    constexpr std::uint32_t kmask2 = 0x0f0f0f0f;
    const std::int64_t nb = n / kQK_K;
    std::int8_t aux8[kQK_K];
    std::int16_t aux16[8];
    float sums[8] = {};
    std::int32_t aux32[8];
    std::uint32_t auxs[4];
    float sumf = 0;
    for (std::int64_t i = 0; i < nb; ++i) {
        const auto x = block_at<BlockQ3_K>(vx, i);
        const auto y = block_at<BlockQ8_K>(vy, i);
        const std::uint8_t* q3 = x.qs;
        const std::uint8_t* hm = x.hmask;
        const std::int8_t* q8 = y.qs;
        std::memset(aux32, 0, sizeof aux32);
        std::int8_t* a = aux8;
        std::uint8_t m = 1;
        for (int j = 0; j < kQK_K; j += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>((q3[l] >> shift) & 3);
                for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>(a[l] - ((hm[l] & m) ? 0 : 4));
                a += 32;
                m = static_cast<std::uint8_t>(m << 1);
            }
            q3 += 32;
        }
        a = aux8;
        std::memcpy(auxs, x.scales, 12);
        const std::uint32_t tmp = auxs[2];
        auxs[2] = ((auxs[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        auxs[3] = ((auxs[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        auxs[0] = (auxs[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        auxs[1] = (auxs[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        std::int8_t scales[16];
        std::memcpy(scales, auxs, 16);
        for (int j = 0; j < kQK_K / 16; ++j) {
            for (int half = 0; half < 2; ++half) {
                for (int l = 0; l < 8; ++l) aux16[l] = static_cast<std::int16_t>(q8[l] * a[l]);
                for (int l = 0; l < 8; ++l) aux32[l] += (scales[j] - 32) * aux16[l];
                q8 += 8;
                a += 8;
            }
        }
        const float d = h2f(x.d) * y.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

/// Q4_K and Q5_K share everything but the 5th bit (Q5_K: qh).
template <bool kFive, class Block>
float dot_q45_k_q8_k(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK_K;
    std::int8_t aux8[kQK_K];
    std::int16_t aux16[8];
    float sums[8] = {};
    std::int32_t aux32[8];
    float sumf = 0;
    for (std::int64_t i = 0; i < nb; ++i) {
        const auto x = block_at<Block>(vx, i);
        const auto y = block_at<BlockQ8_K>(vy, i);
        const std::uint8_t* q4 = x.qs;
        const std::int8_t* q8 = y.qs;
        std::memset(aux32, 0, sizeof aux32);
        std::int8_t* a = aux8;
        std::uint8_t m = 1;
        for (int j = 0; j < kQK_K / 64; ++j) {
            for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>(q4[l] & 0xF);
            if constexpr (kFive) {
                for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>(a[l] + ((x.qh[l] & m) ? 16 : 0));
                m = static_cast<std::uint8_t>(m << 1);
            }
            a += 32;
            for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>(q4[l] >> 4);
            if constexpr (kFive) {
                for (int l = 0; l < 32; ++l) a[l] = static_cast<std::int8_t>(a[l] + ((x.qh[l] & m) ? 16 : 0));
                m = static_cast<std::uint8_t>(m << 1);
            }
            a += 32;
            q4 += 32;
        }
        std::uint8_t scales[8];
        std::uint8_t mins[8];
        unpack_scales_k4(x.scales, scales, mins);
        int sumi = 0;
        for (int j = 0; j < kQK_K / 16; ++j) sumi += y.bsums[j] * mins[j / 2];
        a = aux8;
        for (int j = 0; j < kQK_K / 32; ++j) {
            const std::int32_t scale = scales[j];
            for (int k = 0; k < 4; ++k) {
                for (int l = 0; l < 8; ++l) aux16[l] = static_cast<std::int16_t>(q8[l] * a[l]);
                for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                q8 += 8;
                a += 8;
            }
        }
        const float d = h2f(x.d) * y.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
        const float dmin = h2f(x.dmin) * y.d;
        sumf -= dmin * static_cast<float>(sumi);
    }
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

float dot_q6_k_q8_k(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK_K;
    std::int8_t aux8[kQK_K];
    std::int16_t aux16[8];
    float sums[8] = {};
    std::int32_t aux32[8];
    float sumf = 0;
    for (std::int64_t i = 0; i < nb; ++i) {
        const auto x = block_at<BlockQ6_K>(vx, i);
        const auto y = block_at<BlockQ8_K>(vy, i);
        const std::uint8_t* q4 = x.ql;
        const std::uint8_t* qh = x.qh;
        const std::int8_t* q8 = y.qs;
        std::memset(aux32, 0, sizeof aux32);
        std::int8_t* a = aux8;
        for (int j = 0; j < kQK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                a[l + 0] = static_cast<std::int8_t>(((q4[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                a[l + 32] = static_cast<std::int8_t>(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                a[l + 64] = static_cast<std::int8_t>(((q4[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                a[l + 96] = static_cast<std::int8_t>(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
            a += 128;
            q4 += 64;
            qh += 32;
        }
        a = aux8;
        int is = 0;
        for (int j = 0; j < kQK_K / 16; ++j) {
            const int scale = x.scales[is++];
            for (int k = 0; k < 2; ++k) {
                for (int l = 0; l < 8; ++l) aux16[l] = static_cast<std::int16_t>(q8[l] * a[l]);
                for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                q8 += 8;
                a += 8;
            }
        }
        const float d = h2f(x.d) * y.d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

float dot_iq4_xs_q8_k(std::int64_t n, const std::byte* vx, const std::byte* vy) noexcept {
    const std::int64_t nb = n / kQK_K;
    float sumf = 0;
    for (std::int64_t ibl = 0; ibl < nb; ++ibl) {
        const auto x = block_at<BlockIQ4_XS>(vx, ibl);
        const auto y = block_at<BlockQ8_K>(vy, ibl);
        const float d4d8 = h2f(x.d) * y.d;
        std::uint16_t h = x.scales_h;
        const std::uint8_t* qs = x.qs;
        const std::int8_t* q8 = y.qs;
        for (int ib = 0; ib < kQK_K / 32; ib += 2) {
            const auto ls1 = static_cast<std::uint8_t>((x.scales_l[ib / 2] & 0xf) | ((h << 4) & 0x30));
            const auto ls2 = static_cast<std::uint8_t>((x.scales_l[ib / 2] >> 4) | ((h << 2) & 0x30));
            h = static_cast<std::uint16_t>(h >> 4);
            const float d1 = d4d8 * static_cast<float>(ls1 - 32);
            const float d2 = d4d8 * static_cast<float>(ls2 - 32);
            int sumi1 = 0;
            int sumi2 = 0;
            for (int j = 0; j < 16; ++j) {
                sumi1 += q8[j + 0] * kIQ4NLValues[qs[j] & 0xf];
                sumi2 += q8[j + 16] * kIQ4NLValues[qs[j] >> 4];
            }
            sumf += d1 * static_cast<float>(sumi1 + sumi2);
            qs += 16;
            q8 += 32;
            sumi1 = sumi2 = 0;
            for (int j = 0; j < 16; ++j) {
                sumi1 += q8[j + 0] * kIQ4NLValues[qs[j] & 0xf];
                sumi2 += q8[j + 16] * kIQ4NLValues[qs[j] >> 4];
            }
            sumf += d2 * static_cast<float>(sumi1 + sumi2);
            qs += 16;
            q8 += 32;
        }
    }
    return sumf;
}

}  // namespace

VecDotFn vec_dot_ref(GgmlType weight) noexcept {
    switch (weight) {
        case GgmlType::F32: return dot_f32_ref;
        case GgmlType::F16: return dot_half_ref<f16>;
        case GgmlType::BF16: return dot_half_ref<bf16>;
        case GgmlType::Q4_0: return dot_q4_0_q8_0;
        case GgmlType::Q4_1: return dot_q4_1_q8_1;
        case GgmlType::Q5_0: return dot_q5_0_q8_0;
        case GgmlType::Q5_1: return dot_q5_1_q8_1;
        case GgmlType::Q8_0: return dot_q8_0_q8_0;
        case GgmlType::IQ4_NL: return dot_iq4_nl_q8_0;
        case GgmlType::Q2_K: return dot_q2_k_q8_k;
        case GgmlType::Q3_K: return dot_q3_k_q8_k;
        case GgmlType::Q4_K: return dot_q45_k_q8_k<false, BlockQ4_K>;
        case GgmlType::Q5_K: return dot_q45_k_q8_k<true, BlockQ5_K>;
        case GgmlType::Q6_K: return dot_q6_k_q8_k;
        case GgmlType::IQ4_XS: return dot_iq4_xs_q8_k;
        default: return nullptr;
    }
}

VecDotFn vec_dot(GgmlType weight) noexcept {
    if (VecDotFn f = vec_dot_simd(weight)) return f;
    return vec_dot_ref(weight);
}

}  // namespace parity::cpu
