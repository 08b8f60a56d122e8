// The matrix-matrix kernels (runtime/cpu/gemm.h) against the per-pair dot products: every output of
// every tile shape, edges included, has the bits of its pair's dot, so a batch and a token-by-token
// pass agree; the reference-order types also have the scalar reference's bits. The reference is fed
// the plain activation rows, the kernel the layout it asks for.

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cpu/gemm.h"
#include "runtime/cpu/vec_dot.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

struct Operands {
    std::int64_t n = 0;
    std::size_t w_stride = 0;
    std::size_t a_stride = 0;
    std::vector<std::byte> w;  // n_rows rows
    std::vector<std::byte> a;  // n_tok rows, in dot_type(weight)
    std::vector<std::byte> a_kernel;  // the same in gemm_act_layout(weight)
};

Operands make_operands(GgmlType type, std::int64_t n, std::int64_t n_rows, std::int64_t n_tok, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Operands o;
    o.n = n;
    o.w_stride = row_size(type, n);
    o.a_stride = row_size(*dot_type(type), n);
    o.w.resize(o.w_stride * static_cast<std::size_t>(n_rows));
    o.a.resize(o.a_stride * static_cast<std::size_t>(n_tok));
    std::vector<float> row(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < n_rows; ++r) {
        const float scale = 0.02f + static_cast<float>(r % 5) * 0.4f;
        for (float& v : row) v = normal(rng) * scale;
        quantize_row(type, row, {o.w.data() + static_cast<std::size_t>(r) * o.w_stride, o.w_stride});
    }
    for (std::int64_t t = 0; t < n_tok; ++t) {
        for (float& v : row) v = normal(rng) * 3.0f;
        quantize_row(*dot_type(type), row, {o.a.data() + static_cast<std::size_t>(t) * o.a_stride, o.a_stride});
    }
    o.a_kernel = o.a;
    if (cpu::gemm_act_layout(type) == cpu::ActLayout::ClassOrder) {
        for (std::int64_t t = 0; t < n_tok; ++t) cpu::to_class_order(o.a_kernel.data() + static_cast<std::size_t>(t) * o.a_stride, n);
    }
    return o;
}

std::vector<GgmlType> gemm_types() {
    std::vector<GgmlType> out;
    for (GgmlType t : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
        if (cpu::gemm_simd(t) != nullptr) out.push_back(t);
    }
    return out;
}

class Gemm : public ::testing::TestWithParam<GgmlType> {};

TEST_P(Gemm, EveryOutputHasItsPairsDotBits) {
    const GgmlType type = GetParam();
    const cpu::GemmFn gemm = cpu::gemm_simd(type);
    ASSERT_NE(gemm, nullptr);
    // The per-pair computation a single output must equal: the reference for the reference-order
    // types; for F16 the SIMD dot for one token, and for a batch the same pair computed alone (a
    // one-row, two-token batch of the token twice): the tile it sits in must not matter.
    const cpu::VecDotFn ref = cpu::vec_dot_ref(type);
    auto pair = [&](const Operands& o, std::int64_t r, std::int64_t t, std::int64_t n_tok) {
        const std::byte* wr = o.w.data() + static_cast<std::size_t>(r) * o.w_stride;
        if (type != GgmlType::F16) return ref(o.n, wr, o.a.data() + static_cast<std::size_t>(t) * o.a_stride);
        if (n_tok == 1) return cpu::vec_dot_simd(type)(o.n, wr, o.a.data());
        std::vector<std::byte> twice(2 * o.a_stride);
        for (int k = 0; k < 2; ++k) {
            std::memcpy(twice.data() + k * o.a_stride,
                        o.a_kernel.data() + static_cast<std::size_t>(t) * o.a_stride, o.a_stride);
        }
        float y[2];
        gemm(o.n, wr, o.w_stride, 1, twice.data(), o.a_stride, 2, y, 1);
        return y[0];
    };
    std::uint32_t seed = 1;
    for (std::int64_t n : {256, 1024 + 256, 2816}) {
        // 1..19 rows and 1..7 tokens: whole tiles and every kind of edge.
        for (std::int64_t n_rows : {1, 3, 8, 9, 16, 19}) {
            for (std::int64_t n_tok : {1, 2, 3, 5, 7, 8, 15}) {
                const Operands o = make_operands(type, n, n_rows, n_tok, seed++);
                const std::int64_t ldy = n_rows + 3;  // outputs of a token are ldy apart
                std::vector<float> y(static_cast<std::size_t>(ldy * n_tok), -12345.0f);
                gemm(n, o.w.data(), o.w_stride, n_rows, o.a_kernel.data(), o.a_stride, n_tok, y.data(), ldy);
                for (std::int64_t t = 0; t < n_tok; ++t) {
                    for (std::int64_t r = 0; r < ldy; ++r) {
                        const float got = y[static_cast<std::size_t>(t * ldy + r)];
                        if (r >= n_rows) {
                            EXPECT_EQ(got, -12345.0f) << "wrote past the rows: r " << r;
                            continue;
                        }
                        const std::byte* wr = o.w.data() + static_cast<std::size_t>(r) * o.w_stride;
                        const std::byte* at = o.a.data() + static_cast<std::size_t>(t) * o.a_stride;
                        const float want = pair(o, r, t, n_tok);
                        ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0)
                            << type_name(type) << " n " << n << " rows " << n_rows << " tokens " << n_tok << " at (" << r
                            << ", " << t << "): " << got << " vs " << want;
                        if (type == GgmlType::F16) {
                            // F16: float accumulation instead of the reference's double sum.
                            std::vector<float> wv(static_cast<std::size_t>(n));
                            std::vector<float> av(static_cast<std::size_t>(n));
                            dequantize_row(type, {wr, o.w_stride}, wv);
                            dequantize_row(type, {at, o.a_stride}, av);
                            double abs_sum = 0.0;
                            for (std::size_t i = 0; i < wv.size(); ++i) abs_sum += std::fabs(double{wv[i]} * av[i]);
                            EXPECT_NEAR(got, ref(n, wr, at), 1e-6 * abs_sum);
                        }
                    }
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, Gemm, ::testing::ValuesIn(gemm_types()),
                         [](const ::testing::TestParamInfo<GgmlType>& i) { return std::string(type_name(i.param)); });
// Empty in a build without AVX2.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Gemm);

}  // namespace
}  // namespace parity
