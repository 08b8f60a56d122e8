// IQ4_NL and IQ4_XS: 4-bit indices into 16 non-linear levels (kIQ4NLValues).
// Quantization is ggml's quantize_row_iq4_nl_impl with ntry = 7 and weights x^2, i.e. what
// quantize_iq4_nl / quantize_iq4_xs (ggml_quantize_chunk, llama-quantize) do without an
// importance matrix; it is NOT quantize_row_iq4_nl_ref (ntry = -1, the CPU backend's
// from_float for IQ4_NL), which gives different bytes.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/quant/blocks.h"
#include "codecs.h"
#include "engine/half.h"

namespace parity::quant_detail {

namespace {

constexpr float kGroupMaxEps = 1e-15f;  // GROUP_MAX_EPS
constexpr int kNTry = 7;

/// best_index_int8 as of llama.cpp c392e50: the index of the level nearest to x
/// (the larger level on a tie), by bisection over the sorted levels.
int best_index_int8(float x) {
    const auto& val = kIQ4NLValues;
    constexpr int n = static_cast<int>(kIQ4NLValues.size());
    if (x <= static_cast<float>(val[0])) return 0;
    if (x >= static_cast<float>(val[n - 1])) return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        const int mav = (ml + mu) / 2;
        if (x < static_cast<float>(val[mav])) {
            mu = mav;
        } else {
            ml = mav;
        }
    }
    return x - static_cast<float>(val[mu - 1]) < static_cast<float>(val[mu]) - x ? mu - 1 : mu;
}

/// The scale search of quantize_row_iq4_nl_impl for one 32-value block (ntry = 7, weights
/// x^2). Writes the block's indices to Lb and returns its scale (0 for an all-zero block,
/// whose Lb is left untouched).
float search_block_scale(const float* xb, std::uint8_t* Lb) {
    constexpr int block_size = 32;
    std::array<float, block_size> weight{};
    for (int j = 0; j < block_size; ++j) weight[j] = xb[j] * xb[j];
    float amax = 0, max = 0;
    for (int j = 0; j < block_size; ++j) {
        const float ax = std::fabs(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax < kGroupMaxEps) return 0;
    const auto v0 = static_cast<float>(kIQ4NLValues[0]);
    float d = -max / v0;  // ntry > 0
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < block_size; ++j) {
        const float al = id * xb[j];
        const int l = best_index_int8(al);
        Lb[j] = static_cast<std::uint8_t>(l);
        const auto q = static_cast<float>(kIQ4NLValues[l]);
        const float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
    }
    d = sumqx / sumq2;
    float best = d * sumqx;
    for (int itry = -kNTry; itry <= kNTry; ++itry) {
        id = static_cast<float>(itry + kIQ4NLValues[0]) / max;
        sumqx = sumq2 = 0;
        for (int j = 0; j < block_size; ++j) {
            const float al = id * xb[j];
            const int l = best_index_int8(al);
            const auto q = static_cast<float>(kIQ4NLValues[l]);
            const float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/// Packs 32 indices per 16 bytes: byte j holds index j (low nibble) and j + 16 (high).
void pack_nibbles(const std::uint8_t* L, std::uint8_t* q4, int n) {
    for (int i = 0; i < n / 32; ++i) {
        for (int j = 0; j < 16; ++j) {
            q4[16 * i + j] = static_cast<std::uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
        }
    }
}

}  // namespace

void quantize_iq4_nl(Src x, Dst y) {
    const std::size_t nb = x.size() / kQK4_NL;
    for (std::size_t i = 0; i < nb; ++i) {
        const float* xb = x.data() + i * kQK4_NL;
        std::array<std::uint8_t, kQK4_NL> L{};
        BlockIQ4_NL b{};
        const float scale = search_block_scale(xb, L.data());
        b.d = fp32_to_fp16(scale);
        // ntry > 0: re-pick every index with the final float32 scale
        const float id = scale != 0.f ? 1 / scale : 0;
        for (int j = 0; j < kQK4_NL; ++j) L[j] = static_cast<std::uint8_t>(best_index_int8(id * xb[j]));
        pack_nibbles(L.data(), b.qs, kQK4_NL);
        store_block(y, i, b);
    }
}

void quantize_iq4_xs(Src x_all, Dst y) {
    constexpr int nsub = kQK_K / 32;
    const std::size_t nb = x_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; ++i) {
        const float* x = x_all.data() + i * kQK_K;
        std::array<std::uint8_t, kQK_K> L{};
        std::array<float, nsub> scales{};
        BlockIQ4_XS b{};

        float max_scale = 0, amax_scale = 0;
        for (int ib = 0; ib < nsub; ++ib) {
            scales[ib] = search_block_scale(x + 32 * ib, L.data() + 32 * ib);
            const float abs_d = std::fabs(scales[ib]);
            if (abs_d > amax_scale) {
                amax_scale = abs_d;
                max_scale = scales[ib];
            }
        }

        // 6-bit sub-block scales l in [-32, 31] against d = -max_scale/32 (stored as l + 32);
        // all-zero super-block: d = -0.0 (fp16 0x8000) and every l = 0.
        std::uint16_t scales_h = 0;
        const float d = -max_scale / 32;
        b.d = fp32_to_fp16(d);
        const float id = d != 0.f ? 1 / d : 0.f;
        for (int ib = 0; ib < nsub; ++ib) {
            int l = nearest_int(id * scales[ib]);
            l = std::max(-32, std::min(31, l));
            const float dl = d * static_cast<float>(l);
            const float idl = dl != 0.f ? 1 / dl : 0.f;
            std::uint8_t* Lb = L.data() + 32 * ib;
            const float* xb = x + 32 * ib;
            for (int j = 0; j < 32; ++j) Lb[j] = static_cast<std::uint8_t>(best_index_int8(idl * xb[j]));
            l += 32;
            const auto l_l = static_cast<std::uint8_t>(l & 0xf);
            const auto l_h = static_cast<std::uint16_t>(l >> 4);
            if (ib % 2 == 0) {
                b.scales_l[ib / 2] = l_l;
            } else {
                b.scales_l[ib / 2] = static_cast<std::uint8_t>(b.scales_l[ib / 2] | (l_l << 4));
            }
            scales_h = static_cast<std::uint16_t>(scales_h | (l_h << 2 * (ib % 8)));
        }
        b.scales_h = scales_h;
        pack_nibbles(L.data(), b.qs, kQK_K);
        store_block(y, i, b);
    }
}

void dequantize_iq4_nl(Bytes x, Out y) {
    const std::size_t nb = y.size() / kQK4_NL;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockIQ4_NL>(x, i);
        const float d = fp16_to_fp32(b.d);
        float* yb = y.data() + i * kQK4_NL;
        for (int j = 0; j < kQK4_NL / 2; ++j) {
            yb[j + 0] = d * static_cast<float>(kIQ4NLValues[b.qs[j] & 0xf]);
            yb[j + kQK4_NL / 2] = d * static_cast<float>(kIQ4NLValues[b.qs[j] >> 4]);
        }
    }
}

// One decoder, two precisions: T = float is ggml's dequantize_row_iq4_xs; T = double is exact.
template <class T>
void decode_iq4_xs(Bytes x, std::span<T> y_all) {
    const std::size_t nb = y_all.size() / kQK_K;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockIQ4_XS>(x, i);
        T* y = y_all.data() + i * kQK_K;
        const std::uint8_t* qs = b.qs;
        const T d = fp16_to_fp32(b.d);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const int ls = ((b.scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b.scales_h >> 2 * ib) & 3) << 4);
            const T dl = d * static_cast<T>(ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j + 0] = dl * static_cast<T>(kIQ4NLValues[qs[j] & 0xf]);
                y[j + 16] = dl * static_cast<T>(kIQ4NLValues[qs[j] >> 4]);
            }
            y += 32;
            qs += 16;
        }
    }
}

void dequantize_iq4_xs(Bytes x, Out y) { decode_iq4_xs<float>(x, y); }
void dequantize_iq4_xs_exact(Bytes x, OutExact y) { decode_iq4_xs<double>(x, y); }

}  // namespace parity::quant_detail
