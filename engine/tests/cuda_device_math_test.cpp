// The scalar math of the CUDA kernels (engine/src/runtime/cuda/device_math.h), run on the host: every
// function the kernels call to decode a weight unit, round an activation through a dot type or
// convert fp16/bf16 must give the CPU backend's bits. These tests need no GPU (label cpu); the
// GPU tests (cuda_kernels_test.cpp) then check that the kernels apply them correctly.

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cuda/device_math.h"
#include "engine/half.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

namespace dm = cuda::dm;

std::uint32_t bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

/// Bitwise equality (so -0.0 vs +0.0 and NaN payloads count), naming the first difference.
::testing::AssertionResult same_bits(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (bits(got[i]) != bits(want[i])) {
            return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " (0x" << std::hex << bits(got[i])
                                                 << ") vs " << want[i] << " (0x" << bits(want[i]) << ")";
        }
    }
    return ::testing::AssertionSuccess();
}

std::mt19937 make_rng() {
    const unsigned seed = std::random_device{}();
    std::printf("seed %u\n", seed);
    return std::mt19937(seed);
}

/// n values with a scale that changes per 32-block (so block scales differ), some exact zeros,
/// some large outliers.
std::vector<float> random_values(std::mt19937& rng, std::size_t n) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 99);
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float scale = 0.01f + static_cast<float>((i / 32) % 9) * 0.7f;
        const int p = pick(rng);
        x[i] = p == 0 ? 0.0f : p == 1 ? normal(rng) * 100.0f : normal(rng) * scale;
    }
    return x;
}

class DecodeUnit : public ::testing::TestWithParam<GgmlType> {};

TEST_P(DecodeUnit, MatchesDequantizeRowBitForBit) {
    const GgmlType type = GetParam();
    auto rng = make_rng();
    const std::int64_t n = 256 * 6;
    const auto values = random_values(rng, static_cast<std::size_t>(n));
    std::vector<std::byte> row(row_size(type, n));
    quantize_row(type, values, row);
    std::vector<float> want(static_cast<std::size_t>(n));
    dequantize_row(type, row, want);

    ASSERT_TRUE(dm::decodable(static_cast<int>(type)));
    ASSERT_EQ(dm::row_bytes(static_cast<int>(type), n), static_cast<std::int64_t>(row.size()));
    std::vector<float> got(static_cast<std::size_t>(n), std::numeric_limits<float>::quiet_NaN());
    const auto* p = reinterpret_cast<const std::uint8_t*>(row.data());
    for (std::int64_t u = 0; u < n / dm::kUnit; ++u) {
        float* out = got.data() + u * dm::kUnit;
        switch (type) {
            case GgmlType::F32: dm::decode_unit<dm::kF32>(p, u, out); break;
            case GgmlType::F16: dm::decode_unit<dm::kF16>(p, u, out); break;
            case GgmlType::Q4_0: dm::decode_unit<dm::kQ4_0>(p, u, out); break;
            case GgmlType::Q8_0: dm::decode_unit<dm::kQ8_0>(p, u, out); break;
            case GgmlType::Q4_K: dm::decode_unit<dm::kQ4_K>(p, u, out); break;
            case GgmlType::Q6_K: dm::decode_unit<dm::kQ6_K>(p, u, out); break;
            default: FAIL() << "no decoder";
        }
    }
    EXPECT_TRUE(same_bits(got, want)) << type_name(type);
}

INSTANTIATE_TEST_SUITE_P(Types, DecodeUnit,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K,
                                           GgmlType::Q6_K),
                         [](const auto& tp) { return std::string(type_name(tp.param)); });

TEST(DecodeUnit, OtherTypesAreNotDecodedOnTheDevice) {
    for (GgmlType t : {GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_K, GgmlType::BF16, GgmlType::IQ4_XS}) {
        EXPECT_FALSE(dm::decodable(static_cast<int>(t))) << type_name(t);
    }
}

/// CPU reference of the round trip: quantize_row then dequantize_row.
std::vector<float> cpu_roundtrip(GgmlType type, const std::vector<float>& x) {
    std::vector<std::byte> q(row_size(type, static_cast<std::int64_t>(x.size())));
    quantize_row(type, x, q);
    std::vector<float> y(x.size());
    dequantize_row(type, q, y);
    return y;
}

std::vector<float> dm_roundtrip(GgmlType type, const std::vector<float>& x) {
    std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
    if (type == GgmlType::Q8_K) {
        for (std::size_t b = 0; b < x.size() / 256; ++b) dm::roundtrip_q8_k(x.data() + 256 * b, y.data() + 256 * b);
    } else if (type == GgmlType::Q8_0 || type == GgmlType::Q8_1) {
        for (std::size_t b = 0; b < x.size() / 32; ++b) dm::roundtrip_q8_0(x.data() + 32 * b, y.data() + 32 * b);
    } else if (type == GgmlType::F16) {
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = dm::round_f16(x[i]);
    } else {
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = dm::bf16_to_fp32(dm::fp32_to_bf16(x[i]));
    }
    return y;
}

class Roundtrip : public ::testing::TestWithParam<GgmlType> {};

TEST_P(Roundtrip, MatchesQuantizeThenDequantize) {
    const GgmlType type = GetParam();
    auto rng = make_rng();
    auto x = random_values(rng, 256 * 8);
    // Edge blocks: all zero; a tie of the largest magnitude with both signs; exact halves.
    for (std::size_t i = 0; i < 256; ++i) x[i] = 0.0f;
    x[256] = -3.0f;
    x[257] = 3.0f;
    for (std::size_t i = 512; i < 768; ++i) x[i] = static_cast<float>(static_cast<int>(i) - 640) * 0.5f;
    EXPECT_TRUE(same_bits(dm_roundtrip(type, x), cpu_roundtrip(type, x))) << type_name(type);
}

INSTANTIATE_TEST_SUITE_P(DotTypes, Roundtrip,
                         ::testing::Values(GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K, GgmlType::F16, GgmlType::BF16),
                         [](const auto& tp) { return std::string(type_name(tp.param)); });

TEST(HalfConversions, EveryFp16ValueDecodesAsHalfH) {
    for (std::uint32_t h = 0; h <= 0xFFFFu; ++h) {
        const auto v = static_cast<std::uint16_t>(h);
        ASSERT_EQ(bits(dm::fp16_to_fp32(v)), bits(fp16_to_fp32(v))) << "fp16 0x" << std::hex << h;
        ASSERT_EQ(bits(dm::bf16_to_fp32(v)), bits(bf16_to_fp32(v))) << "bf16 0x" << std::hex << h;
    }
}

TEST(HalfConversions, RandomFloatBitsEncodeAsHalfH) {
    auto rng = make_rng();
    std::uniform_int_distribution<std::uint32_t> any;
    for (int i = 0; i < 2'000'000; ++i) {
        std::uint32_t u = any(rng);
        if (i % 2 == 0) u = (u & 0x8FFFFFFFu) | 0x30000000u;  // half of them near fp16's range
        float f;
        std::memcpy(&f, &u, 4);
        ASSERT_EQ(dm::fp32_to_fp16(f), fp32_to_fp16(f)) << "0x" << std::hex << u;
        ASSERT_EQ(dm::fp32_to_bf16(f), fp32_to_bf16(f)) << "0x" << std::hex << u;
    }
}

TEST(Rounding, NearestIntIsHalfToEven) {
    EXPECT_EQ(dm::nearest_int(0.5f), 0);
    EXPECT_EQ(dm::nearest_int(1.5f), 2);
    EXPECT_EQ(dm::nearest_int(-2.5f), -2);
    EXPECT_EQ(dm::round_to_i8(2.5f), 3);  // roundf: half away from zero
    EXPECT_EQ(dm::round_to_i8(-2.5f), -3);
    EXPECT_EQ(dm::trunc_to_int(std::numeric_limits<float>::quiet_NaN()), std::numeric_limits<std::int32_t>::min());
}

}  // namespace
}  // namespace parity
