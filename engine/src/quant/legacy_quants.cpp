// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1: ggml's quantize_row_*_ref and dequantize_row_*
// (ggml-quants.c), with ggml's float expressions and rounding rules:
//  * Q4_0 / Q5_0: d = max / -8 (-16) with max the signed value of largest |x|; quants
//    (int8_t)(x*id + 8.5f) (+16.5f), i.e. truncation after the offset (round half up).
//  * Q4_1 / Q5_1: d = (max - min) / 15 (31); quants (int8_t)((x - min)*id + 0.5f).
//  * Q8_0 / Q8_1: d = amax / 127; quants roundf(x*id) (half away from zero).
// All quantize with the float32 id = 1/d and then store fp16(d).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "engine/quant/blocks.h"
#include "codecs.h"
#include "engine/half.h"

namespace parity::quant_detail {

namespace {

/// The signed value of largest |x| in a block (the first on ties), as Q4_0 / Q5_0 pick it.
float signed_absmax(const float* x, int n) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < n; j++) {
        const float v = x[j];
        if (amax < std::fabs(v)) {
            amax = std::fabs(v);
            max = v;
        }
    }
    return max;
}

struct MinMax {
    float min = FLT_MAX;
    float max = -FLT_MAX;
};

MinMax min_max(const float* x, int n) {
    MinMax r;
    for (int j = 0; j < n; j++) {
        const float v = x[j];
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
    }
    return r;
}

float abs_max(const float* x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) amax = std::max(amax, std::fabs(x[j]));
    return amax;
}

/// roundf(v) converted to int8_t the way C does it on x86 (values here are in [-127, 127]).
std::int8_t round_to_i8(float v) { return static_cast<std::int8_t>(trunc_to_int(std::round(v))); }

std::uint32_t load_u32(const std::uint8_t (&b)[4]) {
    std::uint32_t v;
    std::memcpy(&v, b, sizeof v);
    return v;
}

}  // namespace

void quantize_q4_0(Src x, Dst y) {
    constexpr int qk = kQK4_0;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        const float d = signed_absmax(xb, qk) / -8;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        BlockQ4_0 b{};
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = xb[0 + j] * id;
            const float x1 = xb[qk / 2 + j] * id;
            const int xi0 = std::min(15, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x0 + 8.5f))));
            const int xi1 = std::min(15, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x1 + 8.5f))));
            b.qs[j] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(xi0) | (static_cast<std::uint8_t>(xi1) << 4));
        }
        store_block(y, i, b);
    }
}

void quantize_q4_1(Src x, Dst y) {
    constexpr int qk = kQK4_1;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        const auto [min, max] = min_max(xb, qk);
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        BlockQ4_1 b{};
        b.d = fp32_to_fp16(d);
        b.m = fp32_to_fp16(min);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (xb[0 + j] - min) * id;
            const float x1 = (xb[qk / 2 + j] - min) * id;
            const int xi0 = std::min(15, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x0 + 0.5f))));
            const int xi1 = std::min(15, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x1 + 0.5f))));
            b.qs[j] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(xi0) | (static_cast<std::uint8_t>(xi1) << 4));
        }
        store_block(y, i, b);
    }
}

void quantize_q5_0(Src x, Dst y) {
    constexpr int qk = kQK5_0;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        const float d = signed_absmax(xb, qk) / -16;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        BlockQ5_0 b{};
        b.d = fp32_to_fp16(d);
        std::uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = xb[0 + j] * id;
            const float x1 = xb[qk / 2 + j] * id;
            const auto xi0 = static_cast<std::uint8_t>(
                std::min(31, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x0 + 16.5f)))));
            const auto xi1 = static_cast<std::uint8_t>(
                std::min(31, static_cast<int>(static_cast<std::int8_t>(trunc_to_int(x1 + 16.5f)))));
            b.qs[j] = static_cast<std::uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            // the 5th bit of each quant goes to qh bit j (first half) or j + 16 (second half)
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
        }
        std::memcpy(b.qh, &qh, sizeof qh);
        store_block(y, i, b);
    }
}

void quantize_q5_1(Src x, Dst y) {
    constexpr int qk = kQK5_1;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        const auto [min, max] = min_max(xb, qk);
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        BlockQ5_1 b{};
        b.d = fp32_to_fp16(d);
        b.m = fp32_to_fp16(min);
        std::uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (xb[0 + j] - min) * id;
            const float x1 = (xb[qk / 2 + j] - min) * id;
            // ggml: (uint8_t)(x0 + 0.5f), no clamp to 31
            const auto xi0 = static_cast<std::uint8_t>(trunc_to_int(x0 + 0.5f));
            const auto xi1 = static_cast<std::uint8_t>(trunc_to_int(x1 + 0.5f));
            b.qs[j] = static_cast<std::uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
        }
        std::memcpy(b.qh, &qh, sizeof qh);
        store_block(y, i, b);
    }
}

#if defined(__AVX2__)
namespace {

/// The 32 values of one Q8_0 block: abs_max, then round_to_i8(x * id) per value, vectorized
/// with the same results (the activation quantization of every Q8_0/Q4_0 matmul).
void quantize_block_q8_0(const float* xb, BlockQ8_0& b) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
        v[k] = _mm256_loadu_ps(xb + 8 * k);
        // max(|x|, amax) keeps amax when |x| is NaN, as std::max(amax, |x|) does.
        amax = _mm256_max_ps(_mm256_andnot_ps(sign, v[k]), amax);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, amax);
    float m = 0.0f;
    for (const float l : lanes) m = std::max(m, l);
    const float d = m / ((1 << 7) - 1);
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b.d = fp32_to_fp16(d);
    alignas(32) std::int32_t q[32];
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int k = 0; k < 4; ++k) {
        // roundf: truncate, then step away from zero when the dropped part is at least 1/2.
        const __m256 p = _mm256_mul_ps(v[k], _mm256_set1_ps(id));
        const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(p, t)), half, _CMP_GE_OQ);
        const __m256 step = _mm256_and_ps(away, _mm256_or_ps(_mm256_and_ps(p, sign), one));
        _mm256_store_si256(reinterpret_cast<__m256i*>(q + 8 * k), _mm256_cvttps_epi32(_mm256_add_ps(t, step)));
    }
    // The low byte of each int32, as the scalar int8_t conversion keeps it.
    for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<std::int8_t>(q[j]);
}

}  // namespace
#endif

void quantize_q8_0(Src x, Dst y) {
    constexpr int qk = kQK8_0;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        BlockQ8_0 b{};
#if defined(__AVX2__)
        quantize_block_q8_0(xb, b);
#else
        const float d = abs_max(xb, qk) / ((1 << 7) - 1);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        b.d = fp32_to_fp16(d);
        for (int j = 0; j < qk; ++j) b.qs[j] = round_to_i8(xb[j] * id);
#endif
        store_block(y, i, b);
    }
}

void quantize_q8_1(Src x, Dst y) {
    constexpr int qk = kQK8_1;
    const std::size_t nb = x.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const float* xb = x.data() + i * qk;
        const float d = abs_max(xb, qk) / ((1 << 7) - 1);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        BlockQ8_1 b{};
        b.d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < qk / 2; ++j) {
            b.qs[j] = round_to_i8(xb[j] * id);
            b.qs[qk / 2 + j] = round_to_i8(xb[qk / 2 + j] * id);
            sum += b.qs[j];
            sum += b.qs[qk / 2 + j];
        }
        // s uses the float32 d, not the stored fp16 one
        b.s = fp32_to_fp16(static_cast<float>(sum) * d);
        store_block(y, i, b);
    }
}

void dequantize_q4_0(Bytes x, Out y) {
    constexpr int qk = kQK4_0;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ4_0>(x, i);
        const float d = fp16_to_fp32(b.d);
        float* yb = y.data() + i * qk;
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = (b.qs[j] & 0x0F) - 8;
            const int x1 = (b.qs[j] >> 4) - 8;
            yb[j + 0] = static_cast<float>(x0) * d;
            yb[j + qk / 2] = static_cast<float>(x1) * d;
        }
    }
}

// One decoder, two precisions: T = float is ggml's dequantize_row_q4_1; T = double is exact.
template <class T>
void decode_q4_1(Bytes x, std::span<T> y) {
    constexpr int qk = kQK4_1;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ4_1>(x, i);
        const T d = fp16_to_fp32(b.d);
        const T m = fp16_to_fp32(b.m);
        T* yb = y.data() + i * qk;
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = b.qs[j] & 0x0F;
            const int x1 = b.qs[j] >> 4;
            yb[j + 0] = static_cast<T>(x0) * d + m;
            yb[j + qk / 2] = static_cast<T>(x1) * d + m;
        }
    }
}

void dequantize_q4_1(Bytes x, Out y) { decode_q4_1<float>(x, y); }
void dequantize_q4_1_exact(Bytes x, OutExact y) { decode_q4_1<double>(x, y); }

void dequantize_q5_0(Bytes x, Out y) {
    constexpr int qk = kQK5_0;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ5_0>(x, i);
        const float d = fp16_to_fp32(b.d);
        const std::uint32_t qh = load_u32(b.qh);
        float* yb = y.data() + i * qk;
        for (int j = 0; j < qk / 2; ++j) {
            const auto xh_0 = static_cast<std::uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const auto xh_1 = static_cast<std::uint8_t>((qh >> (j + 12)) & 0x10);
            const std::int32_t x0 = ((b.qs[j] & 0x0F) | xh_0) - 16;
            const std::int32_t x1 = ((b.qs[j] >> 4) | xh_1) - 16;
            yb[j + 0] = static_cast<float>(x0) * d;
            yb[j + qk / 2] = static_cast<float>(x1) * d;
        }
    }
}

// One decoder, two precisions: T = float is ggml's dequantize_row_q5_1; T = double is exact.
template <class T>
void decode_q5_1(Bytes x, std::span<T> y) {
    constexpr int qk = kQK5_1;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ5_1>(x, i);
        const T d = fp16_to_fp32(b.d);
        const T m = fp16_to_fp32(b.m);
        const std::uint32_t qh = load_u32(b.qh);
        T* yb = y.data() + i * qk;
        for (int j = 0; j < qk / 2; ++j) {
            const auto xh_0 = static_cast<std::uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const auto xh_1 = static_cast<std::uint8_t>((qh >> (j + 12)) & 0x10);
            const int x0 = (b.qs[j] & 0x0F) | xh_0;
            const int x1 = (b.qs[j] >> 4) | xh_1;
            yb[j + 0] = static_cast<T>(x0) * d + m;
            yb[j + qk / 2] = static_cast<T>(x1) * d + m;
        }
    }
}

void dequantize_q5_1(Bytes x, Out y) { decode_q5_1<float>(x, y); }
void dequantize_q5_1_exact(Bytes x, OutExact y) { decode_q5_1<double>(x, y); }

void dequantize_q8_0(Bytes x, Out y) {
    constexpr int qk = kQK8_0;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ8_0>(x, i);
        const float d = fp16_to_fp32(b.d);
        float* yb = y.data() + i * qk;
        for (int j = 0; j < qk; ++j) yb[j] = static_cast<float>(b.qs[j]) * d;
    }
}

// ggml has no Q8_1 dequantizer; this is d * q, the same expression as Q8_0 (s is not used).
void dequantize_q8_1(Bytes x, Out y) {
    constexpr int qk = kQK8_1;
    const std::size_t nb = y.size() / qk;
    for (std::size_t i = 0; i < nb; i++) {
        const auto b = load_block<BlockQ8_1>(x, i);
        const float d = fp16_to_fp32(b.d);
        float* yb = y.data() + i * qk;
        for (int j = 0; j < qk; ++j) yb[j] = static_cast<float>(b.qs[j]) * d;
    }
}

}  // namespace parity::quant_detail
