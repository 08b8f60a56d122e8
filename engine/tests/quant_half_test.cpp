// fp16 / bf16 conversions (engine/half.h) against IEEE bit patterns worked out by hand, and,
// where the CPU has F16C, against the hardware round-to-nearest-even conversion.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/half.h"
#include "engine/quant/quant.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace parity {
namespace {

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }
float from_bits(std::uint32_t u) { return std::bit_cast<float>(u); }

struct F16Case {
    std::uint16_t h;
    std::uint32_t f;  // the binary32 bits of the same value
};

// Each pair is exact: value(h) == value(f).
constexpr F16Case kExact[] = {
    {0x0000, 0x00000000},  // +0
    {0x8000, 0x80000000},  // -0
    {0x3C00, 0x3F800000},  // 1
    {0xBC00, 0xBF800000},  // -1
    {0xC000, 0xC0000000},  // -2
    {0x3555, 0x3EAAA000},  // 0.333251953125 (fp16 nearest to 1/3)
    {0x7BFF, 0x477FE000},  // 65504, the largest finite fp16
    {0x0400, 0x38800000},  // 2^-14, the smallest normal
    {0x03FF, 0x387FC000},  // 1023 * 2^-24, the largest subnormal
    {0x0200, 0x38000000},  // 2^-15
    {0x0001, 0x33800000},  // 2^-24, the smallest subnormal
    {0x8001, 0xB3800000},  // -2^-24
    {0x0003, 0x34400000},  // 3 * 2^-24
    {0x7C00, 0x7F800000},  // +inf
    {0xFC00, 0xFF800000},  // -inf
};

TEST(QuantHalf, Fp16ToFp32ExactValues) {
    for (const auto& c : kExact) {
        EXPECT_EQ(bits(fp16_to_fp32(c.h)), c.f) << std::hex << "h=0x" << c.h;
    }
}

TEST(QuantHalf, Fp32ToFp16ExactValues) {
    for (const auto& c : kExact) {
        EXPECT_EQ(fp32_to_fp16(from_bits(c.f)), c.h) << std::hex << "f=0x" << c.f;
    }
}

TEST(QuantHalf, Fp16NaNs) {
    // ggml's table makes every NaN quiet (bit 22) and keeps the 10 payload bits.
    EXPECT_EQ(bits(fp16_to_fp32(0x7E00)), 0x7FC00000u);
    EXPECT_EQ(bits(fp16_to_fp32(0xFE00)), 0xFFC00000u);
    EXPECT_EQ(bits(fp16_to_fp32(0x7C01)), 0x7FC02000u);  // signalling NaN made quiet
    EXPECT_EQ(bits(fp16_to_fp32(0x7FFF)), 0x7FFFE000u);
    // fp32 -> fp16: every NaN becomes sign | 0x7E00, payload dropped.
    EXPECT_EQ(fp32_to_fp16(from_bits(0x7FC00000)), 0x7E00);
    EXPECT_EQ(fp32_to_fp16(from_bits(0x7F800001)), 0x7E00);
    EXPECT_EQ(fp32_to_fp16(from_bits(0xFFC12345)), 0xFE00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
}

TEST(QuantHalf, Fp32ToFp16Overflow) {
    EXPECT_EQ(fp32_to_fp16(from_bits(0x477FEFFF)), 0x7BFF);  // just below 65520: 65504
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);                // the tie 65504 | 65536 goes to inf
    EXPECT_EQ(fp32_to_fp16(-65520.0f), 0xFC00);
    EXPECT_EQ(fp32_to_fp16(1e10f), 0x7C00);
    EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::max()), 0x7C00);
    EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xFC00);
}

TEST(QuantHalf, Fp32ToFp16RoundsHalfToEven) {
    // Normal range: fp16 has 10 mantissa bits, so 1 + k * 2^-11 with k odd is a tie.
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F801000)), 0x3C00);  // 1 + 1*2^-11 -> 1 (even)
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F803000)), 0x3C02);  // 1 + 3*2^-11 -> mantissa 2
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F805000)), 0x3C02);  // 1 + 5*2^-11 -> mantissa 2
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F807000)), 0x3C04);  // 1 + 7*2^-11 -> mantissa 4
    EXPECT_EQ(fp32_to_fp16(from_bits(0xBF803000)), 0xBC02);  // negative tie, same rule
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F801001)), 0x3C01);  // just above a tie: up
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3F802FFF)), 0x3C01);  // just below a tie: down
    EXPECT_EQ(fp32_to_fp16(from_bits(0x3FFFF000)), 0x4000);  // 2 - 2^-11: carries into 2.0
    // Subnormal range: the unit is 2^-24.
    EXPECT_EQ(fp32_to_fp16(from_bits(0x33000000)), 0x0000);  // 2^-25 = 0.5 units: tie -> 0
    EXPECT_EQ(fp32_to_fp16(from_bits(0xB3000000)), 0x8000);  // -2^-25 -> -0
    EXPECT_EQ(fp32_to_fp16(from_bits(0x33000001)), 0x0001);  // just above: 1 unit
    EXPECT_EQ(fp32_to_fp16(from_bits(0x33C00000)), 0x0002);  // 1.5 units: tie -> 2
    EXPECT_EQ(fp32_to_fp16(from_bits(0x34200000)), 0x0002);  // 2.5 units: tie -> 2
    EXPECT_EQ(fp32_to_fp16(from_bits(0x32800000)), 0x0000);  // 2^-26
    EXPECT_EQ(fp32_to_fp16(from_bits(0x00000001)), 0x0000);  // smallest fp32 subnormal
    EXPECT_EQ(fp32_to_fp16(from_bits(0x387FE000)), 0x0400);  // 1023.5 units: tie -> 1024 = 2^-14
    EXPECT_EQ(fp32_to_fp16(from_bits(0x387FA000)), 0x03FE);  // 1022.5 units: tie -> 1022
}

TEST(QuantHalf, Fp16RoundTripOfEveryFiniteValue) {
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7C00) == 0x7C00) continue;  // inf / NaN
        const auto hh = static_cast<std::uint16_t>(h);
        ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(hh)), hh) << std::hex << "h=0x" << h;
    }
}

TEST(QuantHalf, Fp32ToFp16MidpointsOfEveryFp16Pair) {
    // The exact midpoint between consecutive positive fp16 values is a tie and must go to the
    // even one; one binary32 ulp either side must go to the nearer one.
    for (std::uint32_t h = 0; h < 0x7BFF; ++h) {
        const float lo = fp16_to_fp32(static_cast<std::uint16_t>(h));
        const float hi = fp16_to_fp32(static_cast<std::uint16_t>(h + 1));
        const float mid = lo + (hi - lo) / 2;  // exact: needs one more bit than fp16 has
        const auto even = static_cast<std::uint16_t>((h & 1) == 0 ? h : h + 1);
        ASSERT_EQ(fp32_to_fp16(mid), even) << std::hex << "h=0x" << h;
        ASSERT_EQ(fp32_to_fp16(from_bits(bits(mid) + 1)), h + 1) << std::hex << "h=0x" << h;
        ASSERT_EQ(fp32_to_fp16(from_bits(bits(mid) - 1)), h) << std::hex << "h=0x" << h;
        ASSERT_EQ(fp32_to_fp16(-mid), even | 0x8000) << std::hex << "h=0x" << h;
    }
}

#if defined(__F16C__)
TEST(QuantHalf, MatchesF16CHardware) {
    // vcvtps2ph with round-to-nearest-even; NaNs excluded (F16C keeps the payload, ggml does not).
    std::uint64_t checked = 0;
    for (std::uint64_t u = 0; u <= 0xFFFFFFFFu; u += 251) {
        const float f = from_bits(static_cast<std::uint32_t>(u));
        if (f != f) continue;
        const auto hw = static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
        ASSERT_EQ(fp32_to_fp16(f), hw) << std::hex << "f=0x" << u;
        ++checked;
    }
    EXPECT_GT(checked, 16000000u);
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const auto hh = static_cast<std::uint16_t>(h);
        ASSERT_EQ(bits(fp16_to_fp32(hh)), bits(_cvtsh_ss(hh))) << std::hex << "h=0x" << h;
    }
}
#endif

// quantize_row(F16) converts 8 values at a time where it can: every value must still be
// fp32_to_fp16's, NaNs (in some groups of 8, not others), infinities, overflow, subnormals and
// exact ties included, and the row's tail.
TEST(QuantHalf, F16RowsAreFp32ToFp16PerValue) {
    std::vector<float> x;
    std::uint32_t state = 99;
    for (int i = 0; i < 4099; ++i) {
        state = state * 1664525u + 1013904223u;
        x.push_back(from_bits(state));  // every kind of bit pattern, NaNs among them
    }
    const float special[] = {65504.0f, 65519.99f, 65520.0f, 1e-8f, -5.96e-8f, 2.9802322e-8f, 1.0009766f, -0.0f,
                             std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
    for (std::size_t i = 0; i < std::size(special); ++i) x[8 * 3 + i] = special[i];
    for (int i = 64; i < 128; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i) * 0.37f;  // NaN-free groups
    std::vector<std::byte> q(x.size() * 2);
    quantize_row(GgmlType::F16, x, q);
    for (std::size_t i = 0; i < x.size(); ++i) {
        std::uint16_t h;
        std::memcpy(&h, q.data() + 2 * i, 2);
        ASSERT_EQ(h, fp32_to_fp16(x[i])) << "value " << i << " bits 0x" << std::hex << bits(x[i]);
    }
}

TEST(QuantHalf, Bf16ToFp32IsTheUpperHalf) {
    EXPECT_EQ(bits(bf16_to_fp32(0x3F80)), 0x3F800000u);
    EXPECT_EQ(bits(bf16_to_fp32(0x8000)), 0x80000000u);
    EXPECT_EQ(bits(bf16_to_fp32(0x0001)), 0x00010000u);  // subnormal
    EXPECT_EQ(bits(bf16_to_fp32(0xFF80)), 0xFF800000u);
    EXPECT_EQ(bits(bf16_to_fp32(0x7FC1)), 0x7FC10000u);
}

TEST(QuantHalf, Fp32ToBf16) {
    EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
    // bf16 keeps 7 mantissa bits: 1 + k * 2^-8 with k odd is a tie, to even.
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // 1 + 2^-8 -> 1
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // 1 + 3*2^-8 -> mantissa 2
    EXPECT_EQ(fp32_to_bf16(from_bits(0xBF818000)), 0xBF82);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001)), 0x3F81);  // above a tie: up
    EXPECT_EQ(fp32_to_bf16(from_bits(0x3F807FFF)), 0x3F80);  // below a tie: down
    // Subnormals are rounded, not flushed.
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00010000)), 0x0001);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00008000)), 0x0000);  // tie -> 0 (even)
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00018000)), 0x0002);  // tie -> 2 (even)
    EXPECT_EQ(fp32_to_bf16(from_bits(0x00008001)), 0x0001);
    // Overflow rounds to inf; inf stays inf.
    EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7F7F7FFF)), 0x7F7F);
    EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
    EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
    // NaN: upper half with the quiet bit (0x40) forced.
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7F800001)), 0x7FC0);
    EXPECT_EQ(fp32_to_bf16(from_bits(0xFF812345)), 0xFFC1);
    EXPECT_EQ(fp32_to_bf16(from_bits(0x7FC00000)), 0x7FC0);
}

}  // namespace
}  // namespace parity
