#pragma once
// Scalar math shared by the CUDA kernels and their host tests: fp16/bf16 conversions, ggml's
// rounding helpers, the decoding of one 32-value unit of each weight type the GPU reads in its
// stored form, and the activation-quantization round trip of the `ggml` matmul policy.
//
// Every function is __host__ __device__, so engine_cuda_host_tests checks each one bit for bit
// against the CPU code (engine/half.h, engine/quant/quant.h) on a machine without a GPU; the kernels
// call exactly these functions. C++17, no CUDA header needed on the host side.
//
// Float expressions keep the CPU code's order of operations. The CUDA target is compiled with
// -fmad=false, so `a * b - c` rounds twice on the device as it does on the CPU (host users
// compile with FP contraction off); dot products that want an FMA call fmaf() explicitly.
//
// Units: every weight row is decoded in units of 32 consecutive values (kUnit). A unit is a
// whole block of Q4_0 / Q8_0, one of the 8 sub-blocks of a Q4_K / Q6_K super-block (256), or 32
// plain F32 / F16 values.

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define PARITY_HD __host__ __device__ __forceinline__
#else
#define PARITY_HD inline
#endif

// Fully unrolled on the device (so 32-value arrays stay in registers); nothing on the host.
#if defined(__CUDA_ARCH__)
#define PARITY_UNROLL _Pragma("unroll")
#else
#define PARITY_UNROLL
#endif

namespace parity::cuda::dm {

// ggml type ids (the values of GgmlType in engine/quant/ggml_type.h; cuda_weights.cpp checks them).
enum : int {
    kF32 = 0,
    kF16 = 1,
    kQ4_0 = 2,
    kQ8_0 = 8,
    kQ8_1 = 9,
    kQ4_K = 12,
    kQ6_K = 14,
    kQ8_K = 15,
    kBF16 = 30,
};

constexpr int kUnit = 32;  ///< values per decoding unit

// Bytes per block and values per block of the weight types the GPU decodes in place.
constexpr int kQ4_0Bytes = 18;   // fp16 d, 16 bytes of nibbles
constexpr int kQ8_0Bytes = 34;   // fp16 d, 32 int8
constexpr int kQ4_KBytes = 144;  // fp16 d, fp16 dmin, 12 bytes scales/mins, 128 bytes nibbles
constexpr int kQ6_KBytes = 210;  // 128 ql, 64 qh, 16 int8 scales, fp16 d
constexpr int kSuper = 256;      // values per K-quant super-block

/// True for the weight types decode_unit() handles.
PARITY_HD bool decodable(int type) {
    return type == kF32 || type == kF16 || type == kQ4_0 || type == kQ8_0 || type == kQ4_K || type == kQ6_K;
}

/// Bytes of one row of n values (n a multiple of the type's block size) of a decodable type.
PARITY_HD std::int64_t row_bytes(int type, std::int64_t n) {
    switch (type) {
        case kF32: return n * 4;
        case kF16: return n * 2;
        case kQ4_0: return n / 32 * kQ4_0Bytes;
        case kQ8_0: return n / 32 * kQ8_0Bytes;
        case kQ4_K: return n / kSuper * kQ4_KBytes;
        case kQ6_K: return n / kSuper * kQ6_KBytes;
        default: return 0;
    }
}

// ---- bits ----

PARITY_HD std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
#endif
}

PARITY_HD float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, 4);
    return f;
#endif
}

PARITY_HD std::uint16_t load_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) | (static_cast<unsigned>(p[1]) << 8));
}

PARITY_HD bool is_finite(float f) { return (float_bits(f) & 0x7F800000u) != 0x7F800000u; }

// ---- fp16 / bf16 (engine/half.h, integer-only, bit-identical) ----

/// fp16 bits -> float (exact; NaNs come out quiet, keeping their payload).
PARITY_HD float fp16_to_fp32(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (static_cast<std::uint32_t>(h) >> 10) & 0x1Fu;
    const std::uint32_t mant = static_cast<std::uint32_t>(h) & 0x3FFu;
    if (exp == 0x1Fu) return bits_float(sign | (mant == 0 ? 0x7F800000u : (0x7FC00000u | (mant << 13))));
    if (exp != 0) return bits_float(sign | ((exp + (127u - 15u)) << 23) | (mant << 13));
    // Zero or subnormal: mant * 2^-24, exact in float (a normal float for mant != 0).
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign != 0 ? -v : v;
}

/// float -> fp16 bits, IEEE round-to-nearest-even; NaN -> sign | 0x7E00; >= 65520 -> inf.
PARITY_HD std::uint16_t fp32_to_fp16(float f) {
    const std::uint32_t w = float_bits(f);
    const auto sign = static_cast<std::uint16_t>((w >> 16) & 0x8000u);
    const std::uint32_t abs = w & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u);
    if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);
    if (abs >= 0x38800000u) {
        const std::uint32_t rebased = abs - ((127u - 15u) << 23);
        const std::uint32_t rounded = rebased + 0x0FFFu + ((rebased >> 13) & 1u);
        return static_cast<std::uint16_t>(sign | (rounded >> 13));
    }
    if (abs < 0x33000000u) return sign;
    const std::uint32_t e = abs >> 23;
    const std::uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126u - e;
    const std::uint32_t half = 1u << (shift - 1);
    const std::uint32_t rest = m & ((1u << shift) - 1u);
    std::uint32_t q = m >> shift;
    if (rest > half || (rest == half && (q & 1u) != 0)) ++q;
    return static_cast<std::uint16_t>(sign | q);
}

PARITY_HD float bf16_to_fp32(std::uint16_t h) { return bits_float(static_cast<std::uint32_t>(h) << 16); }

PARITY_HD std::uint16_t fp32_to_bf16(float f) {
    const std::uint32_t u = float_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 64u);
    return static_cast<std::uint16_t>((u + (0x7FFFu + ((u >> 16) & 1u))) >> 16);
}

PARITY_HD float round_f16(float x) { return fp16_to_fp32(fp32_to_fp16(x)); }

// ---- ggml's rounding helpers (engine/quant/blocks.h, legacy_quants.cpp) ----

/// C's float -> int conversion as x86's cvttss2si does it: INT32_MIN for NaN / out of range.
PARITY_HD std::int32_t trunc_to_int(float f) {
    if (!(f > -2147483904.0f && f < 2147483648.0f)) return static_cast<std::int32_t>(0x80000000u);
    return static_cast<std::int32_t>(f);
}

/// ggml's nearest_int: round half to even through the 1.5 * 2^23 magic number.
PARITY_HD int nearest_int(float fval) {
    const float val = fval + 12582912.f;
    const auto i = static_cast<std::int32_t>(float_bits(val));
    return (i & 0x007fffff) - 0x00400000;
}

/// roundf (half away from zero), then C's conversion to int8_t.
PARITY_HD std::int8_t round_to_i8(float v) {
#if defined(__CUDA_ARCH__)
    const float r = roundf(v);
#else
    const float r = std::round(v);
#endif
    return static_cast<std::int8_t>(trunc_to_int(r));
}

PARITY_HD float abs_f(float v) {
#if defined(__CUDA_ARCH__)
    return fabsf(v);
#else
    return std::fabs(v);
#endif
}

// ---- weight decoding: one unit of 32 values (dequantize_row_* of ggml, bit for bit) ----

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K super-block (get_scale_min_k4).
PARITY_HD void scale_min_k4(int j, const std::uint8_t* q, int& d, int& m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/// out[0..32) = values [32 * unit, 32 * unit + 32) of a row of `Type` starting at `row`.
template <int Type>
PARITY_HD void decode_unit(const std::uint8_t* row, std::int64_t unit, float* out) {
    if constexpr (Type == kF32) {
        const float* p = reinterpret_cast<const float*>(row) + unit * kUnit;
        PARITY_UNROLL
        for (int j = 0; j < kUnit; ++j) out[j] = p[j];
    } else if constexpr (Type == kF16) {
        const std::uint8_t* p = row + unit * kUnit * 2;
        PARITY_UNROLL
        for (int j = 0; j < kUnit; ++j) out[j] = fp16_to_fp32(load_u16(p + 2 * j));
    } else if constexpr (Type == kQ8_0) {
        const std::uint8_t* b = row + unit * kQ8_0Bytes;
        const float d = fp16_to_fp32(load_u16(b));
        PARITY_UNROLL
        for (int j = 0; j < kUnit; ++j) out[j] = static_cast<float>(static_cast<std::int8_t>(b[2 + j])) * d;
    } else if constexpr (Type == kQ4_0) {
        const std::uint8_t* b = row + unit * kQ4_0Bytes;
        const float d = fp16_to_fp32(load_u16(b));
        PARITY_UNROLL
        for (int j = 0; j < kUnit / 2; ++j) {
            const int x0 = (b[2 + j] & 0x0F) - 8;
            const int x1 = (b[2 + j] >> 4) - 8;
            out[j] = static_cast<float>(x0) * d;
            out[j + kUnit / 2] = static_cast<float>(x1) * d;
        }
    } else if constexpr (Type == kQ4_K) {
        const std::uint8_t* b = row + (unit / 8) * kQ4_KBytes;
        const int s = static_cast<int>(unit % 8);  // sub-block: 64-value chunk s/2, low (even) or high nibbles
        const float d = fp16_to_fp32(load_u16(b));
        const float dmin = fp16_to_fp32(load_u16(b + 2));
        int sc = 0;
        int m = 0;
        scale_min_k4(s, b + 4, sc, m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = dmin * static_cast<float>(m);
        const std::uint8_t* q = b + 16 + 32 * (s / 2);
        const int shift = (s % 2) * 4;
        PARITY_UNROLL
        for (int l = 0; l < kUnit; ++l) out[l] = d1 * static_cast<float>((q[l] >> shift) & 0xF) - m1;
    } else if constexpr (Type == kQ6_K) {
        const std::uint8_t* b = row + (unit / 8) * kQ6_KBytes;
        const int w = static_cast<int>(unit % 8);
        const int h = w / 4;  // 128-value half of the super-block
        const int g = w % 4;  // 32-value group inside the half
        const std::uint8_t* ql = b + h * 64 + ((g & 1) != 0 ? 32 : 0);
        const std::uint8_t* qh = b + 128 + h * 32;
        const auto* sc = reinterpret_cast<const std::int8_t*>(b + 192) + h * 8 + 2 * g;
        const float d = fp16_to_fp32(load_u16(b + 208));
        const int lo_shift = g >= 2 ? 4 : 0;
        PARITY_UNROLL
        for (int l = 0; l < kUnit; ++l) {
            const int q = (((ql[l] >> lo_shift) & 0xF) | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
            out[l] = d * static_cast<float>(sc[l / 16]) * static_cast<float>(q);
        }
    }
}

// ---- activation quantization round trip (the `ggml` policy) ----
//
// The values an activation takes after ggml's CPU converts it to the weight type's dot type:
// quantize_row_*_ref then dequantize_row_* (bit-identical with engine/quant/quant.h). Q8_1 quantizes
// exactly as Q8_0 (the same d and quants); only its `s` field, which this round trip does not
// carry, differs.

/// 32 values as Q8_0 (and Q8_1) sees them: d = amax / 127 (stored fp16), q = roundf(x / d).
PARITY_HD void roundtrip_q8_0(const float* x, float* y) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) {
        const float ax = abs_f(x[j]);
        amax = amax < ax ? ax : amax;
    }
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    const float dh = fp16_to_fp32(fp32_to_fp16(d));
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(round_to_i8(x[j] * id)) * dh;
}

/// 256 values as Q8_K sees them: iscale = -127 / (signed max), q = nearest_int(iscale * x)
/// capped at 127, d = 1 / iscale (float32); an all-zero block stays zero.
PARITY_HD void roundtrip_q8_k(const float* x, float* y) {
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kSuper; ++j) {
        const float ax = abs_f(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    if (amax == 0.f) {
        for (int j = 0; j < kSuper; ++j) y[j] = 0.0f;
        return;
    }
    const float iscale = -127.f / max;
    const float d = 1 / iscale;
    for (int j = 0; j < kSuper; ++j) {
        const int v = nearest_int(iscale * x[j]);
        y[j] = d * static_cast<float>(static_cast<std::int8_t>(v < 127 ? v : 127));
    }
}

}  // namespace parity::cuda::dm
