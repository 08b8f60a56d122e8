// Each CUDA kernel of the forward pass against the CPU implementation it mirrors, on fresh
// random inputs every run (the seed is printed). Outputs are poisoned with NaN before each run
// so an element a kernel never writes fails, and NaN never passes a comparison. Every tolerance
// has its reason next to it. Without a CUDA device (or without CUDA in the build) every test
// exits 77, which CTest reports as skipped.
//
// Under compute-sanitizer: docs/cuda.md, "Kernel tests".

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cpu/attention.h"
#include "runtime/cpu/kernels.h"
#include "runtime/cpu/vec_dot.h"
#include "runtime/cuda/ops.h"
#include "engine/runtime/cuda_device.h"
#include "engine/half.h"
#include "engine/runtime/gelu.h"
#include "engine/quant/quant.h"
#include "require_gpu.h"

namespace parity {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::mt19937 make_rng() {
    const unsigned seed = std::random_device{}();
    std::printf("seed %u\n", seed);
    return std::mt19937(seed);
}

std::vector<float> normal_values(std::mt19937& rng, std::size_t n, float stddev = 1.0f) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

std::vector<float> poisoned(std::size_t n) { return std::vector<float>(n, kNaN); }

/// |gpu - cpu| <= atol + rtol * |cpu| for every element; a NaN on the GPU side always fails.
::testing::AssertionResult close(const std::vector<float>& gpu, const std::vector<float>& cpu, double atol, double rtol) {
    if (gpu.size() != cpu.size()) return ::testing::AssertionFailure() << "sizes " << gpu.size() << " vs " << cpu.size();
    for (std::size_t i = 0; i < gpu.size(); ++i) {
        const double g = gpu[i];
        const double c = cpu[i];
        if (std::isnan(g) || !(std::fabs(g - c) <= atol + rtol * std::fabs(c))) {
            return ::testing::AssertionFailure() << "element " << i << ": gpu " << g << " cpu " << c << " |diff| "
                                                 << std::fabs(g - c) << " > " << atol << " + " << rtol << " * |cpu|";
        }
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult identical(const std::vector<float>& gpu, const std::vector<float>& cpu) {
    if (gpu.size() != cpu.size()) return ::testing::AssertionFailure() << "sizes";
    for (std::size_t i = 0; i < gpu.size(); ++i) {
        if (std::isnan(gpu[i]) || gpu[i] != cpu[i]) {
            return ::testing::AssertionFailure() << "element " << i << ": gpu " << gpu[i] << " cpu " << cpu[i];
        }
    }
    return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------- weights

/// A weight matrix of `type` with random values (the scale varies per 32-block).
struct RandomMatrix {
    std::vector<std::byte> bytes;
    std::vector<float> values;  // dequantized
    WeightMatrix w;
};

RandomMatrix random_matrix(std::mt19937& rng, GgmlType type, std::int64_t n_in, std::int64_t n_out) {
    RandomMatrix m;
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> src(static_cast<std::size_t>(n_in * n_out));
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = normal(rng) * (0.02f + static_cast<float>((i / 32) % 5) * 0.03f);
    const std::size_t rb = row_size(type, n_in);
    m.bytes.resize(rb * static_cast<std::size_t>(n_out));
    m.values.resize(src.size());
    for (std::int64_t r = 0; r < n_out; ++r) {
        const auto off = static_cast<std::size_t>(r * n_in);
        const std::span<const float> row(src.data() + off, static_cast<std::size_t>(n_in));
        const std::span<std::byte> dst(m.bytes.data() + static_cast<std::size_t>(r) * rb, rb);
        quantize_row(type, row, dst);
        dequantize_row(type, dst, std::span<float>(m.values.data() + off, static_cast<std::size_t>(n_in)));
    }
    m.w.name = "test." + std::string(type_name(type));
    m.w.type = type;
    m.w.n_in = n_in;
    m.w.n_out = n_out;
    m.w.data = m.bytes;
    return m;
}

const std::vector<GgmlType>& gpu_weight_types() {
    static const std::vector<GgmlType> t = {GgmlType::F32, GgmlType::F16, GgmlType::Q4_0,
                                            GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K};
    return t;
}

std::string type_param_name(const ::testing::TestParamInfo<GgmlType>& info) { return std::string(type_name(info.param)); }

class CudaDequantize : public ::testing::TestWithParam<GgmlType> {};

TEST_P(CudaDequantize, RowsMatchTheCpuBitForBit) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const GgmlType type = GetParam();
    const std::int64_t n_in = 512;
    const RandomMatrix m = random_matrix(rng, type, n_in, 40);
    std::uniform_int_distribution<std::int32_t> pick(0, 39);
    std::vector<std::int32_t> rows(23);
    for (auto& r : rows) r = pick(rng);  // repeats allowed, as in a prompt
    std::vector<float> gpu = poisoned(rows.size() * static_cast<std::size_t>(n_in));
    cuda::ops::dequantize_rows(type, m.bytes, n_in, rows, gpu);
    std::vector<float> cpu;
    for (const std::int32_t r : rows) {
        cpu.insert(cpu.end(), m.values.begin() + r * n_in, m.values.begin() + (r + 1) * n_in);
    }
    // Exact: the same decoder (device_math.h, checked on the host) and no FMA contraction.
    EXPECT_TRUE(identical(gpu, cpu));
}

INSTANTIATE_TEST_SUITE_P(Types, CudaDequantize, ::testing::ValuesIn(gpu_weight_types()), type_param_name);

/// Reference y = W . x per token: the CPU's dequant policy (f32 weights and activations, sum in
/// double here) or its ggml policy (vec_dot_ref on the activation quantized by quantize_row).
/// abs_sum: sum |w_i x_i| per output, the scale of the rounding error of any summation order.
struct Reference {
    std::vector<float> y;
    std::vector<double> abs_sum;
};

Reference reference_matmul(const RandomMatrix& m, MatmulPolicy policy, const std::vector<float>& x, std::int64_t n_tok) {
    const std::int64_t n_in = m.w.n_in;
    const std::int64_t n_out = m.w.n_out;
    Reference ref;
    ref.y.resize(static_cast<std::size_t>(n_tok * n_out));
    ref.abs_sum.resize(ref.y.size());
    const GgmlType at = *dot_type(m.w.type);
    const std::size_t arb = row_size(at, n_in);
    std::vector<std::byte> act(arb);
    std::vector<float> act_values(static_cast<std::size_t>(n_in));
    const auto dot = cpu::vec_dot_ref(m.w.type);
    for (std::int64_t t = 0; t < n_tok; ++t) {
        const std::span<const float> xt(x.data() + t * n_in, static_cast<std::size_t>(n_in));
        quantize_row(at, xt, act);
        dequantize_row(at, act, act_values);
        for (std::int64_t r = 0; r < n_out; ++r) {
            const float* wr = m.values.data() + r * n_in;
            const float* a = policy == MatmulPolicy::Ggml ? act_values.data() : xt.data();
            double s = 0.0;
            double abs_s = 0.0;
            for (std::int64_t i = 0; i < n_in; ++i) {
                s += static_cast<double>(wr[i]) * a[i];
                abs_s += std::fabs(static_cast<double>(wr[i]) * a[i]);
            }
            const auto k = static_cast<std::size_t>(t * n_out + r);
            ref.y[k] = policy == MatmulPolicy::Ggml
                           ? dot(n_in, m.bytes.data() + static_cast<std::size_t>(r) * m.w.row_bytes(), act.data())
                           : static_cast<float>(s);
            ref.abs_sum[k] = abs_s;
        }
    }
    return ref;
}

struct MatmulCase {
    GgmlType type;
    MatmulPolicy policy;
    std::int64_t n_tok;  // 1: the GEMV kernel; more: cuBLAS
};

class CudaMatmul : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(CudaMatmul, MatchesTheCpuPolicy) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const MatmulCase c = GetParam();
    const std::int64_t n_in = 768;  // 3 super-blocks; 24 units, so some GEMV lanes idle
    const std::int64_t n_out = 77;  // not a multiple of the rows per block
    const RandomMatrix m = random_matrix(rng, c.type, n_in, n_out);
    const auto x = normal_values(rng, static_cast<std::size_t>(c.n_tok * n_in));
    std::vector<float> gpu = poisoned(static_cast<std::size_t>(c.n_tok * n_out));
    cuda::ops::matmul(m.w, c.policy, x, c.n_tok, gpu);
    const Reference ref = reference_matmul(m, c.policy, x, c.n_tok);
    // The weights (decoded exactly) and, for ggml, the rounded activations (exact, see
    // cuda_device_math_test) are the CPU's, so only the summation order differs: float
    // accumulation of 768 terms in another order moves the result by a few 2^-24 * sum|w x|.
    // 2e-6 * sum|w x| leaves a margin of ~30. cuBLAS GemmEx (ggml, F16, batches) accumulates
    // fp16 x fp16 products in f32 on tensor cores, possibly in blocks: 1e-5.
    const double rel = (c.type == GgmlType::F16 && c.policy == MatmulPolicy::Ggml && c.n_tok > 1) ? 1e-5 : 2e-6;
    for (std::size_t i = 0; i < gpu.size(); ++i) {
        const double tol = rel * ref.abs_sum[i] + 1e-30;
        ASSERT_FALSE(std::isnan(gpu[i])) << "output " << i;
        ASSERT_LE(std::fabs(static_cast<double>(gpu[i]) - ref.y[i]), tol)
            << "output " << i << " (token " << static_cast<std::int64_t>(i) / n_out << ", row "
            << static_cast<std::int64_t>(i) % n_out << "): gpu " << gpu[i] << " cpu " << ref.y[i];
    }
    if (c.policy == MatmulPolicy::Ggml && c.type != GgmlType::F32 && c.type != GgmlType::F16) {
        // The 8-bit rounding really happened: the f32 product is farther away than the
        // tolerance (Q8 steps of amax/127 move a product by ~2e-4 * sum|w x|; fp16's 2^-11
        // steps would be too close to the tolerance to tell).
        const Reference plain = reference_matmul(m, MatmulPolicy::Dequant, x, c.n_tok);
        double worst = 0.0;
        for (std::size_t i = 0; i < gpu.size(); ++i) {
            worst = std::max(worst, std::fabs(static_cast<double>(plain.y[i]) - ref.y[i]) / ref.abs_sum[i]);
        }
        EXPECT_GT(worst, 10 * rel) << "the ggml policy's activation rounding made no measurable difference";
    }
}

std::vector<MatmulCase> matmul_cases() {
    std::vector<MatmulCase> v;
    for (GgmlType t : gpu_weight_types()) {
        for (MatmulPolicy p : {MatmulPolicy::Dequant, MatmulPolicy::Ggml}) {
            for (std::int64_t n : {1, 5}) v.push_back({t, p, n});
        }
    }
    // Types without a device decoder (stored as f32 on the device; ggml rounds through their
    // own dot type: Q8_0 for Q5_0, Q8_K for Q5_K).
    for (GgmlType t : {GgmlType::Q5_0, GgmlType::Q5_K}) {
        for (std::int64_t n : {1, 5}) v.push_back({t, MatmulPolicy::Ggml, n});
    }
    return v;
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaMatmul, ::testing::ValuesIn(matmul_cases()), [](const auto& tp) {
    return std::string(type_name(tp.param.type)) + "_" + std::string(to_string(tp.param.policy)) + "_" +
           std::to_string(tp.param.n_tok) + "tok";
});

// ---------------------------------------------------------------- activations

class CudaRoundtrip : public ::testing::TestWithParam<GgmlType> {};

TEST_P(CudaRoundtrip, MatchesQuantizeThenDequantize) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const GgmlType type = GetParam();
    auto x = normal_values(rng, 256 * 33, 3.0f);
    for (std::size_t i = 0; i < 256; ++i) x[i] = 0.0f;  // an all-zero block
    std::vector<float> gpu = poisoned(x.size());
    cuda::ops::quantize_roundtrip(type, x, gpu);
    std::vector<std::byte> q(row_size(type, static_cast<std::int64_t>(x.size())));
    quantize_row(type, x, q);
    std::vector<float> cpu(x.size());
    dequantize_row(type, q, cpu);
    EXPECT_TRUE(identical(gpu, cpu)) << type_name(type);  // exact: the same float operations
}

INSTANTIATE_TEST_SUITE_P(DotTypes, CudaRoundtrip,
                         ::testing::Values(GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K, GgmlType::F16, GgmlType::BF16),
                         type_param_name);

// ---------------------------------------------------------------- norm, rope

TEST(CudaRmsNorm, MatchesTheCpu) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const std::int64_t n = 896;
    const std::int64_t rows = 9;
    const auto x = normal_values(rng, static_cast<std::size_t>(n * rows), 2.0f);
    auto w = normal_values(rng, static_cast<std::size_t>(n), 0.1f);
    for (auto& v : w) v += 1.0f;
    std::vector<float> gpu = poisoned(x.size());
    cuda::ops::rms_norm(x, w, rows, 1e-6f, gpu);
    std::vector<float> cpu(x.size());
    for (std::int64_t r = 0; r < rows; ++r) cpu::rms_norm(x.data() + r * n, w.data(), cpu.data() + r * n, n, 1e-6f);
    // Only the order of the double sum of squares differs: the float mean, hence the scale,
    // can move by one ulp (<= 2^-23 relative), and y by that plus its own two roundings:
    // 4 * 2^-23 allowed. (Almost always the result is bit-identical.)
    EXPECT_TRUE(close(gpu, cpu, 0.0, 4 * 1.1921e-7));
}

class CudaRope : public ::testing::TestWithParam<RopeType> {};

TEST_P(CudaRope, MatchesTheCpu) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const int n_heads = 6;
    const int head_dim = 64;
    const std::int64_t n_tok = 7;
    const int pos0 = std::uniform_int_distribution<int>(0, 3000)(rng);
    const float base = 1e6f;
    auto gpu = normal_values(rng, static_cast<std::size_t>(n_tok * n_heads * head_dim));
    auto cpu = gpu;
    cuda::ops::rope(gpu, n_tok, n_heads, head_dim, pos0, base, GetParam());
    std::vector<float> cs(static_cast<std::size_t>(head_dim));
    for (std::int64_t t = 0; t < n_tok; ++t) {
        rope_cache(cs.data(), pos0 + t, head_dim, base);
        cpu::rope(cpu.data() + t * n_heads * head_dim, n_heads, head_dim, head_dim, cs.data(), GetParam());
    }
    // The same cos/sin table (the CPU's rope_cache) and the same float operations, so NEOX is
    // bit-identical. NORM: GCC vectorizes the CPU's NORM loop into vfmaddsub (a fused
    // x0*c -/+ x1*s, despite fp-contract=off), the GPU rounds both products: 1 ulp of a product
    // (|x| <= ~5 here: <= 4.8e-7) apart, 1e-6 allowed.
    if (GetParam() == RopeType::Neox) {
        EXPECT_TRUE(identical(gpu, cpu)) << "pos0 " << pos0;
    } else {
        EXPECT_TRUE(close(gpu, cpu, 1e-6, 0.0)) << "pos0 " << pos0;
    }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaRope, ::testing::Values(RopeType::Neox, RopeType::Norm),
                         [](const auto& tp) { return std::string(tp.param == RopeType::Neox ? "neox" : "norm"); });

// ---------------------------------------------------------------- attention

struct AttentionCase {
    KvType kv;
    int head_dim;
    int n_head;
    int n_head_kv;
    std::int64_t n_tok;
    int pos0;
    int window = 0;    ///< sliding window (gemma3's local layers); 0: none
    float scale = 0;   ///< 0: 1 / sqrt(head_dim); 1: q prescaled (gemma3, phi3)
};

class CudaAttention : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(CudaAttention, MatchesTheCpu) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const AttentionCase c = GetParam();
    const int qd = c.n_head * c.head_dim;
    const int kvd = c.n_head_kv * c.head_dim;
    const std::int64_t n_kv = c.pos0 + c.n_tok;
    const auto q = normal_values(rng, static_cast<std::size_t>(c.n_tok * qd), 1.5f);
    const auto k = normal_values(rng, static_cast<std::size_t>(n_kv * kvd), 1.5f);
    const auto v = normal_values(rng, static_cast<std::size_t>(n_kv * kvd));
    std::vector<float> gpu = poisoned(q.size());
    const float scale = c.scale != 0.0f ? c.scale : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    cuda::ops::attention(q, k, v, c.n_tok, c.pos0, c.n_head, c.n_head_kv, c.head_dim, c.kv, scale, c.window, gpu);

    cpu::KvCache cache(c.kv, 1, static_cast<int>(n_kv), kvd);
    for (int p = 0; p < n_kv; ++p) cache.store(0, p, k.data() + p * kvd, v.data() + p * kvd);
    const cpu::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, scale};
    std::vector<float> scratch(cpu::attention_scratch_floats(static_cast<int>(n_kv), c.head_dim));
    std::vector<float> cpu(q.size());
    for (std::int64_t t = 0; t < c.n_tok; ++t) {
        const int pos = c.pos0 + static_cast<int>(t);
        const int first = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
        cpu::attend(cache, 0, shape, q.data() + t * qd, first, pos, 0, c.n_head, scratch.data(), cpu.data() + t * qd);
    }
    // f32: the scores and sums match to double precision; expf differs from glibc's by <= 2 ulp,
    // so each weight p_j by a few 2^-24 relative: 1e-6 relative plus 1e-6 absolute (outputs are
    // O(1) averages of N(0,1) values). f16: q and p are rounded to fp16 first; a weight that
    // differs by an ulp in float can round to the neighbouring fp16 value (2^-11 relative), which
    // moves an output by at most p_j * 2^-11 * |v|: 1e-3 absolute.
    const bool f16 = c.kv == KvType::F16;
    EXPECT_TRUE(close(gpu, cpu, f16 ? 1e-3 : 1e-6, f16 ? 1e-3 : 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaAttention,
                         ::testing::Values(AttentionCase{KvType::F32, 64, 8, 2, 1, 0},     // first token
                                           AttentionCase{KvType::F32, 64, 8, 2, 1, 300},   // decode
                                           AttentionCase{KvType::F32, 128, 4, 4, 9, 20},   // prefill, MHA
                                           AttentionCase{KvType::F32, 160, 6, 1, 3, 70},   // head_dim > threads
                                           AttentionCase{KvType::F16, 64, 8, 2, 1, 300},
                                           AttentionCase{KvType::F16, 128, 4, 2, 12, 0},
                                           AttentionCase{KvType::F32, 128, 4, 1, 12, 20, 8, 1.0f},  // gemma3 local
                                           AttentionCase{KvType::F16, 64, 4, 4, 1, 300, 8, 1.0f}),
                         [](const auto& tp) {
                             const auto& c = tp.param;
                             return std::string(c.kv == KvType::F16 ? "f16" : "f32") + "_hd" +
                                    std::to_string(c.head_dim) + "_h" + std::to_string(c.n_head) + "x" +
                                    std::to_string(c.n_head_kv) + "_t" + std::to_string(c.n_tok) + "_p" +
                                    std::to_string(c.pos0) + (c.window > 0 ? "_w" + std::to_string(c.window) : "");
                         });

TEST(CudaAttention, LongContextUsesTheRaisedSharedMemoryLimit) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const int hd = 64;
    const int pos0 = 20000;  // 80 KB of scores: above the default 48 KB
    const auto q = normal_values(rng, static_cast<std::size_t>(2 * hd));
    const auto k = normal_values(rng, static_cast<std::size_t>((pos0 + 1) * hd));
    const auto v = normal_values(rng, k.size());
    std::vector<float> gpu = poisoned(q.size());
    cuda::ops::attention(q, k, v, 1, pos0, 2, 1, hd, KvType::F32, 1.0f / 8.0f, 0, gpu);
    cpu::KvCache cache(KvType::F32, 1, pos0 + 1, hd);
    for (int p = 0; p <= pos0; ++p) cache.store(0, p, k.data() + p * hd, v.data() + p * hd);
    std::vector<float> scratch(cpu::attention_scratch_floats(pos0 + 1, hd));
    std::vector<float> cpu(q.size());
    cpu::attend(cache, 0, {2, 1, hd, 1.0f / 8.0f}, q.data(), 0, pos0, 0, 2, scratch.data(), cpu.data());
    // As above (f32); outputs average 20001 values, so they are ~1e-2: the same 1e-6 bounds.
    EXPECT_TRUE(close(gpu, cpu, 1e-6, 1e-6));
}

// ---------------------------------------------------------------- element-wise

TEST(CudaSwiglu, MatchesTheCpu) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const auto gate = normal_values(rng, 4864 * 3, 3.0f);
    const auto up = normal_values(rng, gate.size());
    std::vector<float> silu_gpu = poisoned(gate.size());
    std::vector<float> prod_gpu = poisoned(gate.size());
    cuda::ops::swiglu(gate, up, silu_gpu, prod_gpu);
    std::vector<float> silu_cpu(gate.size());
    cpu::silu(gate.data(), silu_cpu.data(), static_cast<std::int64_t>(gate.size()));
    std::vector<float> prod_cpu = up;
    cpu::mul_inplace(prod_cpu.data(), silu_cpu.data(), static_cast<std::int64_t>(up.size()));
    // CUDA's expf is within 2 ulp of the exact value, glibc's within 1; 1 + e and the division
    // round once each: about 5 ulp (<= 5 * 2^-23 = 6e-7) relative, 1e-6 allowed; the product
    // adds one more rounding of the same size.
    EXPECT_TRUE(close(silu_gpu, silu_cpu, 1e-30, 1e-6));
    EXPECT_TRUE(close(prod_gpu, prod_cpu, 1e-30, 1.2e-6));
}

TEST(CudaGelu, TableIsTheCpusAndFloatIsClose) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    std::vector<float> x = normal_values(rng, 4096, 4.0f);
    x.insert(x.end(), {-10.5f, -10.0f, 10.0f, 12.0f, 0.0f});
    std::vector<float> table_gpu = x;
    std::vector<float> float_gpu = x;
    cuda::ops::gelu(table_gpu, true);
    cuda::ops::gelu(float_gpu, false);
    std::vector<float> table_cpu(x.size()), float_cpu(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        table_cpu[i] = gelu_ggml(x[i]);
        float_cpu[i] = gelu_tanh(x[i]);
    }
    // The table path is a lookup of the same table after the same fp16 rounding: identical.
    EXPECT_TRUE(identical(table_gpu, table_cpu));
    // tanhf: CUDA's within 2 ulp, glibc's within 1, then three roundings: 1e-6 relative.
    EXPECT_TRUE(close(float_gpu, float_cpu, 1e-30, 1e-6));
}

TEST(CudaMoeRows, GatherScatterAndGroupSumsAreExact) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const std::int64_t width = 96;
    const int n = 5;
    const int k = 2;
    const auto src = normal_values(rng, static_cast<std::size_t>(n * width));
    const std::vector<std::int32_t> rows = {4, 0, 3};
    std::vector<float> gathered = poisoned(rows.size() * static_cast<std::size_t>(width));
    cuda::ops::gather_rows(src, rows, width, gathered);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::int64_t c = 0; c < width; ++c) {
            ASSERT_EQ(gathered[i * width + c], src[static_cast<std::size_t>(rows[i] * width + c)]) << i << " " << c;
        }
    }
    // Each token t owns slots 2t and 2t+1; scatter the 3 gathered rows, weighted, into slots 9, 0, 6.
    std::vector<float> slots(static_cast<std::size_t>(n * k * width), 0.0f);
    const std::vector<std::int32_t> slot_rows = {9, 0, 6};
    const std::vector<float> weights = {0.25f, 0.7f, 0.05f};
    cuda::ops::scatter_rows_scaled(gathered, slot_rows, weights, width, slots);
    for (std::size_t i = 0; i < slot_rows.size(); ++i) {
        for (std::int64_t c = 0; c < width; ++c) {
            ASSERT_EQ(slots[static_cast<std::size_t>(slot_rows[i] * width + c)], gathered[i * width + c] * weights[i]);
        }
    }
    std::vector<float> sums = poisoned(static_cast<std::size_t>(n * width));
    cuda::ops::sum_groups(slots, k, width, sums);
    for (int t = 0; t < n; ++t) {
        for (std::int64_t c = 0; c < width; ++c) {
            const float want = slots[static_cast<std::size_t>((t * k) * width + c)] +
                               slots[static_cast<std::size_t>((t * k + 1) * width + c)];
            ASSERT_EQ(sums[static_cast<std::size_t>(t * width + c)], want) << t << " " << c;
        }
    }
}

TEST(CudaElementwise, ResidualAddFaultScaleAndBiasAreExact) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    const auto x = normal_values(rng, 1024 * 5);
    const auto y0 = normal_values(rng, x.size());
    std::vector<float> gpu = y0;
    cuda::ops::add_scale(gpu, x, 3.0f);
    std::vector<float> cpu = y0;
    cpu::add_inplace(cpu.data(), x.data(), static_cast<std::int64_t>(x.size()));
    for (auto& v : cpu) v *= 3.0f;
    EXPECT_TRUE(identical(gpu, cpu));  // one IEEE operation per element each

    const auto b = normal_values(rng, 1024);
    std::vector<float> gpu_b = y0;
    cuda::ops::add_rows(gpu_b, b);
    std::vector<float> cpu_b = y0;
    for (std::size_t r = 0; r < 5; ++r) cpu::add_inplace(cpu_b.data() + r * 1024, b.data(), 1024);
    EXPECT_TRUE(identical(gpu_b, cpu_b));
}

// ---------------------------------------------------------------- statistics

void expect_stats_match(const ActivationStats& gpu, const ActivationStats& cpu, const char* what) {
    // Counts, min and max are exact. mean and std come from double sums (the GPU's plain sums,
    // the CPU's shifted pairwise sums) rounded to float: 1e-6 of the spread covers both.
    EXPECT_EQ(gpu.count, cpu.count) << what;
    EXPECT_EQ(gpu.nan_count, cpu.nan_count) << what;
    EXPECT_EQ(gpu.inf_count, cpu.inf_count) << what;
    EXPECT_EQ(gpu.zero_count, cpu.zero_count) << what;
    EXPECT_EQ(gpu.min, cpu.min) << what;
    EXPECT_EQ(gpu.max, cpu.max) << what;
    const double spread = std::max(1e-30, static_cast<double>(cpu.std_dev));
    EXPECT_NEAR(gpu.mean, cpu.mean, 1e-6 * spread + 1e-6 * std::fabs(cpu.mean)) << what;
    EXPECT_NEAR(gpu.std_dev, cpu.std_dev, 1e-6 * spread) << what;
}

TEST(CudaStats, MatchTheCpuAccumulator) {
    PARITY_REQUIRE_GPU();
    auto rng = make_rng();
    for (const std::int64_t rows : {1, 7, 300}) {  // 300 x 4864: more elements than one grid pass
        const std::int64_t width = 4864;
        auto x = normal_values(rng, static_cast<std::size_t>(rows * width), 2.0f);
        std::uniform_int_distribution<std::size_t> at(0, x.size() - 1);
        for (int i = 0; i < 5; ++i) x[at(rng)] = kNaN;
        for (int i = 0; i < 3; ++i) x[at(rng)] = i % 2 == 0 ? INFINITY : -INFINITY;
        for (int i = 0; i < 11; ++i) x[at(rng)] = i % 2 == 0 ? 0.0f : -0.0f;
        x.back() = kNaN;  // the last row has one
        const auto gpu = cuda::ops::stats(x, rows, width);
        const ActivationStats whole = compute_stats(x);
        const ActivationStats last = compute_stats(std::span<const float>(x).subspan(x.size() - width));
        expect_stats_match(gpu.rows, whole, "all rows");
        expect_stats_match(gpu.last_row, last, "last row");
    }
}

TEST(CudaStats, AllNonFiniteGivesCpuSentinels) {
    PARITY_REQUIRE_GPU();
    const std::vector<float> x = {kNaN, INFINITY, -INFINITY, kNaN};
    const auto gpu = cuda::ops::stats(x, 2, 2);
    const ActivationStats cpu = compute_stats(x);
    EXPECT_EQ(gpu.rows.count, 4u);
    EXPECT_EQ(gpu.rows.min, cpu.min);
    EXPECT_EQ(gpu.rows.max, cpu.max);
    EXPECT_EQ(gpu.rows.mean, 0.0f);
    EXPECT_EQ(gpu.rows.std_dev, 0.0f);
    EXPECT_EQ(gpu.last_row.nan_count, 1u);
    EXPECT_EQ(gpu.last_row.inf_count, 1u);
}

}  // namespace
}  // namespace parity
