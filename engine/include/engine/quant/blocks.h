#pragma once
// ggml's quantization blocks (ggml/src/ggml-common.h at llama.cpp c392e50), byte for byte,
// and the helpers every codec shares. Used by the quant codecs and the CPU dot products.
//
// The structs mirror ggml's layout exactly (little-endian, no padding: see the static_asserts).
// Codecs never alias the tensor bytes as a struct: they memcpy a block in (load_block) or out
// (store_block), so the source and destination spans need no particular alignment.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace parity::quant_detail {

static_assert(std::endian::native == std::endian::little, "ggml blocks are little-endian");

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK4_NL = 32;
inline constexpr int kQK_K = 256;  // super-block size of the K-quants and IQ4_XS

/// ggml_half: fp16 bits.
using Half = std::uint16_t;

struct BlockQ4_0 {
    Half d;                          // delta
    std::uint8_t qs[kQK4_0 / 2];     // nibbles: low = value j, high = value j + 16
};
struct BlockQ4_1 {
    Half d;                          // delta
    Half m;                          // min
    std::uint8_t qs[kQK4_1 / 2];
};
struct BlockQ5_0 {
    Half d;
    std::uint8_t qh[4];              // 5th bit of each quant (bit j = value j)
    std::uint8_t qs[kQK5_0 / 2];     // low 4 bits
};
struct BlockQ5_1 {
    Half d;
    Half m;
    std::uint8_t qh[4];
    std::uint8_t qs[kQK5_1 / 2];
};
struct BlockQ8_0 {
    Half d;
    std::int8_t qs[kQK8_0];
};
struct BlockQ8_1 {
    Half d;                          // delta
    Half s;                          // d * sum(qs), d the float32 delta before fp16 rounding
    std::int8_t qs[kQK8_1];
};
struct BlockQ2_K {
    std::uint8_t scales[kQK_K / 16]; // low nibble: scale, high nibble: min (4 bits each)
    std::uint8_t qs[kQK_K / 4];      // 2-bit quants
    Half d;                          // super-block scale of the scales
    Half dmin;                       // super-block scale of the mins
};
struct BlockQ3_K {
    std::uint8_t hmask[kQK_K / 8];   // high bit of each quant
    std::uint8_t qs[kQK_K / 4];      // low 2 bits
    std::uint8_t scales[12];         // 16 scales of 6 bits
    Half d;
};
struct BlockQ4_K {
    Half d;
    Half dmin;
    std::uint8_t scales[12];         // 8 scales + 8 mins of 6 bits (get_scale_min_k4)
    std::uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
    Half d;
    Half dmin;
    std::uint8_t scales[12];
    std::uint8_t qh[kQK_K / 8];
    std::uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
    std::uint8_t ql[kQK_K / 2];      // low 4 bits
    std::uint8_t qh[kQK_K / 4];      // high 2 bits
    std::int8_t scales[kQK_K / 16];  // 8-bit scales
    Half d;
};
struct BlockQ8_K {
    float d;                         // float32 delta (not fp16)
    std::int8_t qs[kQK_K];
    std::int16_t bsums[kQK_K / 16];  // sum of each group of 16 quants
};
struct BlockIQ4_NL {
    Half d;
    std::uint8_t qs[kQK4_NL / 2];    // indices into kIQ4NLValues
};
struct BlockIQ4_XS {
    Half d;
    std::uint16_t scales_h;          // high 2 bits of the 8 sub-block scales
    std::uint8_t scales_l[kQK_K / 64];  // low 4 bits of the 8 sub-block scales
    std::uint8_t qs[kQK_K / 2];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);

/// The 16 non-linear levels of IQ4_NL / IQ4_XS (kvalues_iq4nl).
inline constexpr std::array<std::int8_t, 16> kIQ4NLValues{
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

template <class Block>
Block load_block(std::span<const std::byte> src, std::size_t index) noexcept {
    static_assert(std::is_trivially_copyable_v<Block>);
    Block b;
    std::memcpy(&b, src.data() + index * sizeof(Block), sizeof(Block));
    return b;
}

template <class Block>
void store_block(std::span<std::byte> dst, std::size_t index, const Block& b) noexcept {
    static_assert(std::is_trivially_copyable_v<Block>);
    std::memcpy(dst.data() + index * sizeof(Block), &b, sizeof(Block));
}

/// ggml's nearest_int: round half to even through the 1.5 * 2^23 magic number
/// (valid for |x| <= 4194303; the result is garbage, not UB, outside that range).
inline int nearest_int(float fval) noexcept {
    const float val = fval + 12582912.f;
    const auto i = std::bit_cast<std::int32_t>(val);
    return (i & 0x007fffff) - 0x00400000;
}

/// C's float -> integer conversion (truncation toward zero), as the x86 code ggml was built
/// into performs it (cvttss2si): defined for every input, INT32_MIN for NaN / out of range.
inline std::int32_t trunc_to_int(float f) noexcept {
#if defined(__SSE__) || defined(_M_X64)
    return _mm_cvtt_ss2si(_mm_set_ss(f));
#else
    if (!(f > -2147483904.0f && f < 2147483648.0f)) return INT32_MIN;
    return static_cast<std::int32_t>(f);
#endif
}

}  // namespace parity::quant_detail
