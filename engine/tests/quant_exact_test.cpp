// dequantize_row_exact: the exact values of stored weights, where ggml's float decoding rounds.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/error.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

void put_u16(std::vector<std::byte>& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::byte>(v & 0xFF);
    b[at + 1] = static_cast<std::byte>(v >> 8);
}

// One Q4_K super-block (d, dmin, 12 scale bytes, 128 nibble bytes): sub-block 0 has scale 63
// and min 1, every level 15; d = 1.0 (fp16 0x3C00) and dmin = 2^-20 (fp16 subnormal 0x0010).
// Its first value is 63 * 15 - 2^-20 = 945 - 2^-20, which needs 30 significant bits: ggml's
// float expression d1 * q - m1 rounds it to 945.
TEST(QuantExact, Q4KValueThatFloatRounds) {
    std::vector<std::byte> block(144, std::byte{0});
    put_u16(block, 0, 0x3C00);
    put_u16(block, 2, 0x0010);
    block[4 + 0] = std::byte{63};  // scale of sub-block 0
    block[4 + 4] = std::byte{1};   // min of sub-block 0
    for (int l = 0; l < 32; ++l) block[16 + static_cast<std::size_t>(l)] = std::byte{0x0F};
    std::vector<double> exact(256);
    std::vector<float> rounded(256);
    dequantize_row_exact(GgmlType::Q4_K, block, exact);
    dequantize_row(GgmlType::Q4_K, block, rounded);
    EXPECT_EQ(exact[0], 945.0 - std::ldexp(1.0, -20));
    EXPECT_EQ(rounded[0], 945.0f);
    // sub-block 1 (scale 0, min 0): zeros in both
    EXPECT_EQ(exact[32], 0.0);
}

// On random quantized rows the exact decode is within half a float ulp of ggml's float decode
// (it is the value ggml's float expression rounds), for every type with an exact decoder.
TEST(QuantExact, WithinHalfAFloatUlpOfTheFloatDecode) {
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(512);
    for (float& v : x) v = dist(rng);
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                       GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                       GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS}) {
        ASSERT_TRUE(can_dequantize_exact(t));
        std::vector<std::byte> q(row_size(t, static_cast<std::int64_t>(x.size())));
        quantize_row(t, x, q);
        std::vector<float> f(x.size());
        std::vector<double> d(x.size());
        dequantize_row(t, q, f);
        dequantize_row_exact(t, q, d);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double ulp = std::nextafter(std::fabs(f[i]), INFINITY) - std::fabs(f[i]);
            ASSERT_LE(std::fabs(d[i] - static_cast<double>(f[i])), 0.5 * ulp) << traits(t).name << " value " << i;
        }
    }
}

TEST(QuantExact, RefusesATypeWithoutAnExactDecoder) {
    EXPECT_FALSE(can_dequantize_exact(GgmlType::Q8_K));
    std::vector<std::byte> q(row_size(GgmlType::Q8_K, 256));
    std::vector<double> d(256);
    EXPECT_THROW(dequantize_row_exact(GgmlType::Q8_K, q, d), UsageError);
}

}  // namespace
}  // namespace parity
