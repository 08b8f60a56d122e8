// The CPU dot-product kernels: each scalar reference against the dequantized float dot product,
// and each SIMD kernel against its scalar reference.

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cpu/vec_dot.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

const std::vector<GgmlType>& dot_weight_types() {
    static const std::vector<GgmlType> types = {
        GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,   GgmlType::Q5_0,
        GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,   GgmlType::Q5_K,
        GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS,
    };
    return types;
}

struct Rows {
    std::vector<std::byte> w;
    std::vector<std::byte> a;
    std::vector<float> w_values;  // dequantized
    std::vector<float> a_values;
    double abs_sum = 0.0;         // sum |w_i a_i| of the dequantized values
    double exact = 0.0;           // sum w_i a_i in double
};

Rows make_rows(GgmlType type, std::int64_t n, std::uint32_t seed, float offset) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(static_cast<std::size_t>(n));
    std::vector<float> a(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        // Vary the scale per 32-block so block scales differ.
        const float scale = 0.05f + static_cast<float>((i / 32) % 7) * 0.3f;
        w[static_cast<std::size_t>(i)] = normal(rng) * scale + offset;
        a[static_cast<std::size_t>(i)] = normal(rng) * 2.0f;
    }
    const GgmlType at = *dot_type(type);
    Rows r;
    r.w.resize(row_size(type, n));
    r.a.resize(row_size(at, n));
    quantize_row(type, w, r.w);
    quantize_row(at, a, r.a);
    r.w_values.resize(w.size());
    r.a_values.resize(a.size());
    dequantize_row(type, r.w, r.w_values);
    dequantize_row(at, r.a, r.a_values);
    for (std::size_t i = 0; i < w.size(); ++i) {
        r.exact += static_cast<double>(r.w_values[i]) * r.a_values[i];
        r.abs_sum += std::fabs(static_cast<double>(r.w_values[i]) * r.a_values[i]);
    }
    return r;
}

std::string type_param_name(const ::testing::TestParamInfo<GgmlType>& i) { return std::string(type_name(i.param)); }

/// The weight types this build has a SIMD kernel for.
std::vector<GgmlType> simd_weight_types() {
    std::vector<GgmlType> out;
    for (GgmlType t : dot_weight_types()) {
        if (cpu::vec_dot_simd(t) != nullptr) out.push_back(t);
    }
    return out;
}

class VecDot : public ::testing::TestWithParam<GgmlType> {};
class VecDotSimd : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VecDot, ReferenceEqualsDequantizedDot) {
    const GgmlType type = GetParam();
    ASSERT_TRUE(dot_type(type).has_value());
    const cpu::VecDotFn ref = cpu::vec_dot_ref(type);
    ASSERT_NE(ref, nullptr);
    for (std::uint32_t seed = 1; seed <= 8; ++seed) {
        const float offset = seed % 2 == 0 ? 0.0f : 0.3f;  // Q4_1 / K-quant mins get exercised
        const Rows r = make_rows(type, 1024, seed, offset);
        const float got = ref(1024, r.w.data(), r.a.data());
        // Q8_1's s is d * sum(q) with d before fp16 rounding: a relative 1e-3 difference in the
        // weight-min term (Q4_1, Q5_1); every other kernel is exact up to float rounding.
        const double tol = 2e-3 * r.abs_sum + 1e-5;
        EXPECT_NEAR(got, r.exact, tol) << type_name(type) << " seed " << seed;
    }
}

/// Whether the SIMD kernel keeps the reference's float order (exact integer block sums, then the
/// reference's scalar or per-lane float steps), and so returns its bits.
bool simd_is_bit_exact(GgmlType type) {
    switch (type) {
        case GgmlType::Q4_0:
        case GgmlType::Q4_1:
        case GgmlType::Q5_0:
        case GgmlType::Q5_1:
        case GgmlType::Q8_0:
        case GgmlType::IQ4_NL:
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K:
        case GgmlType::IQ4_XS:
            return true;
        default:
            return false;
    }
}

TEST_P(VecDotSimd, AgreesWithReference) {
    const GgmlType type = GetParam();
    const cpu::VecDotFn simd = cpu::vec_dot_simd(type);
    ASSERT_NE(simd, nullptr);
    const cpu::VecDotFn ref = cpu::vec_dot_ref(type);
    // Multiples of 256, and for the smaller blocks lengths whose block count leaves a remainder
    // (the kernels work through 8 blocks, or 8 / 16 / 32 values, at a time).
    std::vector<std::int64_t> lengths = {256, 512, 2816, 4096};
    if (traits(type).block_size == 32) {
        lengths.insert(lengths.end(), {32, 96, 224, 4096 + 5 * 32});
    } else if (traits(type).block_size == 1) {
        lengths.insert(lengths.end(), {1, 7, 15, 33, 4096 + 13});
    }
    for (std::uint32_t seed = 1; seed <= 16; ++seed) {
        for (std::int64_t n : lengths) {
            const Rows r = make_rows(type, n, seed * 31u + static_cast<std::uint32_t>(n), seed % 2 ? 0.2f : 0.0f);
            const float a = simd(n, r.w.data(), r.a.data());
            const float b = ref(n, r.w.data(), r.a.data());
            if (simd_is_bit_exact(type)) {
                // The reference's float order (block by block, or lane by lane): its bits exactly.
                EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << type_name(type) << " n " << n << " seed " << seed
                                                            << ": " << a << " vs " << b;
            } else {
                // F32, F16, BF16: the same products, summed in another order (and F16 in float).
                EXPECT_NEAR(a, b, 1e-5 * r.abs_sum + 1e-6) << type_name(type) << " n " << n << " seed " << seed;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, VecDot, ::testing::ValuesIn(dot_weight_types()), type_param_name);
// Empty in a build without AVX2 (the references are then used everywhere).
INSTANTIATE_TEST_SUITE_P(Types, VecDotSimd, ::testing::ValuesIn(simd_weight_types()), type_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(VecDotSimd);

TEST(VecDot, DotTypesAreGgmls) {
    EXPECT_EQ(dot_type(GgmlType::F32), GgmlType::F32);
    EXPECT_EQ(dot_type(GgmlType::F16), GgmlType::F16);
    EXPECT_EQ(dot_type(GgmlType::BF16), GgmlType::BF16);
    for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::IQ4_NL}) {
        EXPECT_EQ(dot_type(t), GgmlType::Q8_0);
    }
    for (GgmlType t : {GgmlType::Q4_1, GgmlType::Q5_1}) EXPECT_EQ(dot_type(t), GgmlType::Q8_1);
    for (GgmlType t : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_XS}) {
        EXPECT_EQ(dot_type(t), GgmlType::Q8_K);
    }
    EXPECT_FALSE(dot_type(GgmlType::IQ2_XXS).has_value());
    EXPECT_FALSE(dot_type(GgmlType::Q8_K).has_value());
}

TEST(VecDot, PlainF32DotMatchesDouble) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::int64_t n : {1, 7, 16, 33, 1024, 1031}) {
        std::vector<float> x(static_cast<std::size_t>(n));
        std::vector<float> y(static_cast<std::size_t>(n));
        double exact = 0.0;
        double abs_sum = 0.0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] = normal(rng);
            y[i] = normal(rng);
            exact += static_cast<double>(x[i]) * y[i];
            abs_sum += std::fabs(static_cast<double>(x[i]) * y[i]);
        }
        EXPECT_NEAR(cpu::dot_f32(n, x.data(), y.data()), exact, 1e-6 * abs_sum + 1e-6) << "n " << n;
    }
}

}  // namespace
}  // namespace parity
