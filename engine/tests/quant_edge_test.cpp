// Edge cases of ggml's quantizers (quant-zoo.md, section 4) on small hand-made blocks, with
// the expected bytes and values worked out from ggml's rules, plus the API's error handling.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <climits>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/half.h"
#include "engine/quant/ggml_type.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

std::vector<std::byte> quantize(GgmlType type, const std::vector<float>& x, std::byte fill = std::byte{0xFF}) {
    std::vector<std::byte> q(row_size(type, static_cast<std::int64_t>(x.size())), fill);
    quantize_row(type, x, q);
    return q;
}

std::vector<float> dequantize(GgmlType type, const std::vector<std::byte>& q, std::size_t n) {
    std::vector<float> y(n);
    dequantize_row(type, q, y);
    return y;
}

std::uint16_t u16_at(const std::vector<std::byte>& q, std::size_t off) {
    std::uint16_t v;
    std::memcpy(&v, q.data() + off, sizeof v);
    return v;
}

std::int8_t i8_at(const std::vector<std::byte>& q, std::size_t off) { return std::to_integer<std::int8_t>(q[off]); }

/// One 32-value Q4_0 / Q5_0 / Q8_0 test block starting with `head`, padded with `pad`.
std::vector<float> block32(std::initializer_list<float> head, float pad = 0.0f) {
    std::vector<float> x(head);
    x.resize(32, pad);
    return x;
}

// --------------------------------------------------------------------- negative zero

struct ZeroCase {
    GgmlType type;
    std::uint32_t zero_bits;  // 0x80000000: -0.0, 0: +0.0
};
void PrintTo(const ZeroCase& c, std::ostream* os) { *os << type_name(c.type); }

class QuantZeroRow : public ::testing::TestWithParam<ZeroCase> {};

TEST_P(QuantZeroRow, AllZeroRowDecodesToSignedZero) {
    const auto [type, zero_bits] = GetParam();
    const std::vector<float> x(256, 0.0f);
    const auto y = dequantize(type, quantize(type, x), x.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        ASSERT_EQ(bits(y[i]), zero_bits) << type_name(type) << " value " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Quant, QuantZeroRow,
    ::testing::Values(
        // -0.0: d = max / -8 (-16) = -0.0, stored as fp16 0x8000; (q - 8) * -0.0 = -0.0.
        ZeroCase{GgmlType::Q4_0, 0x80000000u}, ZeroCase{GgmlType::Q5_0, 0x80000000u},
        // -0.0: all-zero bytes, 0 * scale * (0 - 32) = -0.0.
        ZeroCase{GgmlType::Q6_K, 0x80000000u},
        // -0.0: d = -max_scale / 32 = -0.0, scales 32 (l = 0), index 8 (value +1).
        ZeroCase{GgmlType::IQ4_XS, 0x80000000u},
        // +0.0 for the others.
        ZeroCase{GgmlType::IQ4_NL, 0u}, ZeroCase{GgmlType::Q4_1, 0u}, ZeroCase{GgmlType::Q5_1, 0u},
        ZeroCase{GgmlType::Q8_0, 0u}, ZeroCase{GgmlType::Q8_1, 0u}, ZeroCase{GgmlType::Q2_K, 0u},
        ZeroCase{GgmlType::Q3_K, 0u}, ZeroCase{GgmlType::Q4_K, 0u}, ZeroCase{GgmlType::Q5_K, 0u},
        ZeroCase{GgmlType::Q8_K, 0u}, ZeroCase{GgmlType::F16, 0u}, ZeroCase{GgmlType::BF16, 0u}),
    [](const auto& p) { return std::string(type_name(p.param.type)); });

TEST(QuantEdge, ZeroBlockStorage) {
    const std::vector<float> x(256, 0.0f);
    EXPECT_EQ(u16_at(quantize(GgmlType::Q4_0, x), 0), 0x8000);  // d = -0.0
    EXPECT_EQ(u16_at(quantize(GgmlType::IQ4_XS, x), 0), 0x8000);
    const auto nl = quantize(GgmlType::IQ4_NL, x);
    EXPECT_EQ(u16_at(nl, 0), 0x0000);  // d = +0
    for (std::size_t i = 2; i < 18; ++i) EXPECT_EQ(std::to_integer<int>(nl[i]), 0x88) << i;  // index 8 twice
    for (const auto b : quantize(GgmlType::Q6_K, x)) ASSERT_EQ(std::to_integer<int>(b), 0);
}

TEST(QuantEdge, Q8KZeroBlockWritesZeroBsums) {
    // ggml leaves bsums of an all-zero block unwritten; we write 0 (buffer prefilled with 0xFF).
    const std::vector<float> x(256, 0.0f);
    for (const auto b : quantize(GgmlType::Q8_K, x, std::byte{0xFF})) ASSERT_EQ(std::to_integer<int>(b), 0);
}

// --------------------------------------------------------------------- rounding rules

TEST(QuantEdge, Q8_0RoundsHalfAwayFromZero) {
    // amax = 127 -> d = 1, id = 1: the quants are roundf(x).
    const auto x = block32({127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.5f, 2.4999998f});
    for (const GgmlType type : {GgmlType::Q8_0, GgmlType::Q8_1}) {
        const auto q = quantize(type, x);
        const std::size_t qs = type == GgmlType::Q8_0 ? 2 : 4;
        EXPECT_EQ(u16_at(q, 0), 0x3C00);  // fp16(1.0)
        const std::int8_t want[] = {127, 3, -3, 1, -1, 2, -2, 127, 2};
        for (std::size_t j = 0; j < std::size(want); ++j) {
            EXPECT_EQ(i8_at(q, qs + j), want[j]) << type_name(type) << " value " << j;
        }
    }
}

// ggml's quantize_row_q8_0_ref, written out here: amax by std::max over |x|, d = amax / 127,
// id = 1 / d (0 when d is 0), q = roundf(x * id) converted as x86 does (NaN -> INT32_MIN, whose
// low byte is 0). The row mixes ordinary values, exact halves and non-finite values.
TEST(QuantEdge, Q8_0MatchesGgmlsFormulaOnMixedRows) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(32 * 64);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t block = i / 32;
        x[i] = normal(rng) * (0.01f + static_cast<float>(block % 9));
        if (block % 8 == 1) x[i] = std::round(x[i]) + 0.5f;  // ties once id is 1 (block max 127)
        if (block % 8 == 1 && i % 32 == 0) x[i] = 127.0f;
        if (block % 8 == 2 && i % 7 == 0) x[i] = NAN;
        if (block % 8 == 3 && i % 32 == 5) x[i] = -INFINITY;
        if (block % 8 == 4) x[i] = 0.0f;
    }
    const auto q = quantize(GgmlType::Q8_0, x);
    for (std::size_t b = 0; b < x.size() / 32; ++b) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
        const float d = amax / 127;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        EXPECT_EQ(u16_at(q, b * 34), fp32_to_fp16(d)) << "block " << b;
        for (int j = 0; j < 32; ++j) {
            const float r = std::round(x[b * 32 + j] * id);
            const std::int32_t v = std::isnan(r) || std::fabs(r) >= 2147483648.0f ? INT32_MIN : static_cast<std::int32_t>(r);
            EXPECT_EQ(i8_at(q, b * 34 + 2 + j), static_cast<std::int8_t>(static_cast<std::uint8_t>(v & 0xFF)))
                << "block " << b << " value " << j << " x " << x[b * 32 + j];
        }
    }
}

TEST(QuantEdge, Q8_1SumUsesFloatScale) {
    // amax = 1 -> float d = 1/127, fp16(d) = 0x2008; the quants are 127, -127, 64 and zeros,
    // sum = 64; s = fp16(64 * (1/127 in float32)).
    const auto x = block32({1.0f, -1.0f, 0.5f});
    const auto q = quantize(GgmlType::Q8_1, x);
    EXPECT_EQ(u16_at(q, 0), 0x2008);
    EXPECT_EQ(i8_at(q, 4 + 2), 64);
    const float d = 1.0f / 127.0f;
    const float s = 64.0f * d;  // 0.503937..., fp16: 0x3808 (0.50390625)
    EXPECT_EQ(u16_at(q, 2), 0x3808) << s;
}

TEST(QuantEdge, Q4_0RoundsHalfUpAfterOffset) {
    // max = -8 -> d = max / -8 = 1, id = 1: q = (int8_t)(x + 8.5f), clamped to 15.
    const auto x = block32({-8.0f, -7.5f, -0.5f, 0.5f, 6.5f, 7.5f, 7.0f, -6.5f});
    const auto q = quantize(GgmlType::Q4_0, x);
    EXPECT_EQ(u16_at(q, 0), 0x3C00);
    const int want[] = {0, 1, 8, 9, 15, 15, 15, 2};  // -7.5 -> 1 (i.e. -7), 6.5 -> 15 (i.e. 7)
    for (std::size_t j = 0; j < std::size(want); ++j) {
        EXPECT_EQ(std::to_integer<int>(q[2 + j]) & 0xF, want[j]) << "value " << j;
    }
    const auto y = dequantize(GgmlType::Q4_0, q, 32);
    EXPECT_EQ(y[1], -7.0f);
    EXPECT_EQ(y[2], 0.0f);
    EXPECT_EQ(y[3], 1.0f);
}

TEST(QuantEdge, Q5_0RoundsHalfUpAfterOffset) {
    // max = -16 -> d = 1: q = (int8_t)(x + 16.5f), clamped to 31.
    const auto x = block32({-16.0f, -15.5f, -0.5f, 0.5f, 14.5f, 15.5f});
    const auto y = dequantize(GgmlType::Q5_0, quantize(GgmlType::Q5_0, x), 32);
    const float want[] = {-16.0f, -15.0f, 0.0f, 1.0f, 15.0f, 15.0f};
    for (std::size_t j = 0; j < std::size(want); ++j) EXPECT_EQ(y[j], want[j]) << "value " << j;
}

TEST(QuantEdge, Q8KRoundsHalfToEven) {
    // max = -127 -> iscale = -127 / max = 1: q = nearest_int(x) (ties to even), d = 1.
    std::vector<float> x(256, 0.0f);
    const float head[] = {-127.0f, 2.5f, 3.5f, -2.5f, -3.5f, 0.5f, 1.5f};
    std::copy(std::begin(head), std::end(head), x.begin());
    const auto q = quantize(GgmlType::Q8_K, x);
    float d;
    std::memcpy(&d, q.data(), sizeof d);
    EXPECT_EQ(d, 1.0f);
    const std::int8_t want[] = {-127, 2, 4, -2, -4, 0, 2};
    for (std::size_t j = 0; j < std::size(want); ++j) EXPECT_EQ(i8_at(q, 4 + j), want[j]) << "value " << j;
    std::int16_t bsum0;
    std::memcpy(&bsum0, q.data() + 4 + 256, sizeof bsum0);
    EXPECT_EQ(bsum0, -127 + 2 + 4 - 2 - 4 + 0 + 2);
}

TEST(QuantEdge, F16AndBf16RowsRoundHalfToEven) {
    const std::vector<float> x = {1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, -(1.0f + 3.0f / 2048), 1.0f + 1.0f / 256,
                                  1.0f + 3.0f / 256};
    const auto h = quantize(GgmlType::F16, x);
    EXPECT_EQ(u16_at(h, 0), 0x3C00);
    EXPECT_EQ(u16_at(h, 2), 0x3C02);
    EXPECT_EQ(u16_at(h, 4), 0xBC02);
    const auto b = quantize(GgmlType::BF16, x);
    EXPECT_EQ(u16_at(b, 6), 0x3F80);
    EXPECT_EQ(u16_at(b, 8), 0x3F82);
}

TEST(QuantEdge, ConstantRowQ4_1) {
    // max == min -> d = 0, m = fp16(0.3): every value decodes to 0.30004883.
    const std::vector<float> x(32, 0.3f);
    const auto y = dequantize(GgmlType::Q4_1, quantize(GgmlType::Q4_1, x), 32);
    for (const float v : y) EXPECT_EQ(v, 0.30004883f);
}

// --------------------------------------------------------------------- plain types

TEST(QuantEdge, IntegerAndF64RowsCastToFloat) {
    const std::int8_t i8[] = {-128, 0, 127};
    const std::int16_t i16[] = {-32768, 1, 32767};
    const std::int32_t i32[] = {-5, 16777217, 2147483647};
    const std::int64_t i64[] = {-1, 1LL << 40, 9007199254740993LL};
    const double f64[] = {0.1, -1e300, 3.0};
    const auto check = [](GgmlType type, const void* data, std::size_t size, std::array<float, 3> want) {
        std::vector<std::byte> raw(size);
        std::memcpy(raw.data(), data, size);
        const auto y = dequantize(type, raw, 3);
        for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(bits(y[i]), bits(want[i])) << type_name(type) << " " << i;
    };
    check(GgmlType::I8, i8, sizeof i8, {-128.0f, 0.0f, 127.0f});
    check(GgmlType::I16, i16, sizeof i16, {-32768.0f, 1.0f, 32767.0f});
    check(GgmlType::I32, i32, sizeof i32, {-5.0f, 16777216.0f, 2147483648.0f});
    check(GgmlType::I64, i64, sizeof i64, {-1.0f, 1099511627776.0f, 9007199254740992.0f});
    check(GgmlType::F64, f64, sizeof f64, {0.1f, -INFINITY, 3.0f});
}

TEST(QuantEdge, F32RoundTripIsIdentity) {
    const std::vector<float> x = {1.5f, -0.0f, 3e-42f, INFINITY};
    const auto y = dequantize(GgmlType::F32, quantize(GgmlType::F32, x), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(bits(y[i]), bits(x[i]));
}

// --------------------------------------------------------------------- API contract

TEST(QuantApi, SupportedTypes) {
    for (const GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                             GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K,
                             GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K,
                             GgmlType::IQ4_NL, GgmlType::IQ4_XS}) {
        EXPECT_TRUE(can_quantize(t)) << type_name(t);
        EXPECT_TRUE(can_dequantize(t)) << type_name(t);
    }
    for (const GgmlType t : {GgmlType::F64, GgmlType::I8, GgmlType::I16, GgmlType::I32, GgmlType::I64}) {
        EXPECT_FALSE(can_quantize(t)) << type_name(t);
        EXPECT_TRUE(can_dequantize(t)) << type_name(t);
    }
    for (const GgmlType t : {GgmlType::IQ2_XXS, GgmlType::IQ3_S, GgmlType::IQ1_M, GgmlType::TQ2_0}) {
        EXPECT_FALSE(can_quantize(t)) << type_name(t);
        EXPECT_FALSE(can_dequantize(t)) << type_name(t);
    }
    EXPECT_FALSE(can_dequantize(static_cast<GgmlType>(4)));  // retired id
}

TEST(QuantApi, RejectsUnsupportedTypesAndBadSizes) {
    std::vector<float> x(256, 1.0f);
    std::vector<std::byte> q(1024);
    EXPECT_THROW(quantize_row(GgmlType::IQ2_XXS, x, std::span(q).first(66)), UsageError);
    EXPECT_THROW(dequantize_row(GgmlType::IQ2_XXS, std::span(q).first(66), x), UsageError);
    EXPECT_THROW(dequantize_row(static_cast<GgmlType>(99), q, x), UsageError);
    // 256 Q4_0 values take 8 * 18 = 144 bytes.
    EXPECT_THROW(quantize_row(GgmlType::Q4_0, x, std::span(q).first(143)), UsageError);
    EXPECT_THROW(dequantize_row(GgmlType::Q4_0, std::span(q).first(145), x), UsageError);
    // 48 values are not a whole number of 32-blocks.
    EXPECT_THROW(quantize_row(GgmlType::Q8_0, std::span(x).first(48), std::span(q).first(51)), UsageError);
    EXPECT_NO_THROW(quantize_row(GgmlType::Q4_0, x, std::span(q).first(144)));
    EXPECT_NO_THROW(quantize_row(GgmlType::Q4_K, std::span(x).first(0), std::span(q).first(0)));
    try {
        quantize_row(GgmlType::Q4_K, std::span(x).first(128), std::span(q).first(72));
        FAIL() << "no exception";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("Q4_K"), std::string::npos) << e.what();
    }
}

TEST(QuantApi, MultiBlockRowsAreBlockwise) {
    // A row of several blocks encodes like its blocks one by one.
    std::vector<float> x(1024);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 0.37f) * static_cast<float>(i % 97);
    for (const GgmlType t : {GgmlType::Q4_0, GgmlType::Q5_1, GgmlType::Q3_K, GgmlType::Q5_K, GgmlType::IQ4_XS,
                             GgmlType::Q8_K, GgmlType::IQ4_NL}) {
        const auto whole = quantize(t, x);
        std::vector<std::byte> parts;
        const auto block = static_cast<std::size_t>(traits(t).block_size);
        for (std::size_t b = 0; b < x.size(); b += block) {
            const auto q = quantize(t, std::vector<float>(x.begin() + static_cast<std::ptrdiff_t>(b),
                                                          x.begin() + static_cast<std::ptrdiff_t>(b + block)));
            parts.insert(parts.end(), q.begin(), q.end());
        }
        EXPECT_EQ(whole, parts) << type_name(t);
        const auto y = dequantize(t, whole, x.size());
        for (std::size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << type_name(t) << " " << i;
    }
}

TEST(QuantApi, ArbitraryInputsAreSafe) {
    // Run under ASan/UBSan: non-finite and out-of-range inputs and random block bytes must
    // neither crash nor hit undefined behaviour (ggml's output for them is meaningless).
    std::vector<float> x(512);
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e-45f, 0.0f, -0.0f, 5e6f};
    std::uint32_t state = 12345;
    const auto next = [&state] {
        state = state * 1664525u + 1013904223u;
        return state;
    };
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = i % 3 == 0 ? specials[next() % std::size(specials)] : std::bit_cast<float>(next());
    }
    for (const GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                             GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K, GgmlType::Q3_K,
                             GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K, GgmlType::IQ4_NL,
                             GgmlType::IQ4_XS}) {
        auto q = quantize(t, x);
        (void)dequantize(t, q, x.size());
        for (auto& b : q) b = static_cast<std::byte>(next() >> 24);
        (void)dequantize(t, q, x.size());
    }
}

}  // namespace
}  // namespace parity
