// The whole CUDA forward pass against the CPU backend on synthetic models (engine/synth/synth.h):
// every layer's ten slots (last-token values and sample counts), the trace statistics and the
// logits, for both matmul policies, both execution modes, f32 and f16 KV caches, the file
// types the GPU decodes in place and one it does not, and fault injection. Fresh random
// prompts each run (the seed is printed). Without a CUDA device every test exits 77 (skipped).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/runtime/cuda_device.h"
#include "engine/error.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/synth/synth.h"
#include "require_gpu.h"
#include "test_support.h"

namespace parity {
namespace {

std::vector<std::int32_t> random_tokens(std::size_t n, int n_vocab) {
    const unsigned seed = std::random_device{}();
    std::printf("token seed %u\n", seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::int32_t> pick(0, n_vocab - 1);
    std::vector<std::int32_t> t(n);
    for (auto& id : t) id = pick(rng);
    return t;
}

/// How two vectors of one slot are compared, and why.
struct Tolerance {
    // Element-wise: |gpu - cpu| <= atol_rms * rms(cpu) + rtol * |cpu|.
    double atol_rms = 0.0;
    double rtol = 0.0;
    // Norm-wise instead (when > 0): ||gpu - cpu|| <= rel_l2 * ||cpu||.
    double rel_l2 = 0.0;
};

Tolerance tolerance_for(MatmulPolicy policy, GgmlType weights, KvType kv) {
    const bool quantized = weights != GgmlType::F32 && weights != GgmlType::F16;
    if (policy == MatmulPolicy::Ggml && quantized) {
        // The activations are rounded to 8 bits before each matmul. Both backends do it bit for
        // bit alike on equal inputs, but the inputs differ by float-summation ulps, and an input
        // within an ulp of a rounding boundary lands one quantization step (amax/127) apart: that
        // moves every output of that matmul by step * w, ~2e-3 of the output's norm, and makes
        // later roundings part ways more often. 3e-2 relative L2 allows that cascade (about the
        // 8-bit rounding noise); without any flip the difference is ~1e-6. The check that the
        // rounding happens at all: QuantizedLogitsAreCloserToCpuGgmlThanDequant.
        return {0.0, 0.0, 3e-2};
    }
    if (kv == KvType::F16 || (policy == MatmulPolicy::Ggml && weights == GgmlType::F16)) {
        // Values rounded to fp16 (2^-11 relative) on both sides: K and V in an f16 cache, the
        // activations of F16 weights under ggml. An ulp of difference upstream picks the
        // neighbouring fp16 value now and then; that difference (~1e-4) makes later roundings
        // part ways more often, so after a few layers the two paths differ by about the fp16
        // rounding noise itself: ~1.5e-4 of a slot's rms per element, worst seen 6e-4 (logits,
        // host emulation of the kernels). 2e-3 of the rms plus 5e-3 relative.
        return {2e-3, 5e-3, 0.0};
    }
    // f32 everywhere: only the order of float sums differs (cuBLAS / the GEMV kernel vs the
    // CPU's 8-lane dot products), ~1e-6 of a slot's rms after a few layers, and expf's ulps.
    // 1e-4 of the rms plus 1e-3 relative leaves a margin of ~100.
    return {1e-4, 1e-3, 0.0};
}

double rms(std::span<const float> v) {
    double s = 0.0;
    for (const float x : v) s += static_cast<double>(x) * x;
    return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

::testing::AssertionResult vectors_close(std::span<const float> gpu, std::span<const float> cpu, const Tolerance& tol) {
    if (gpu.size() != cpu.size()) return ::testing::AssertionFailure() << "sizes " << gpu.size() << " vs " << cpu.size();
    if (gpu.empty()) return ::testing::AssertionFailure() << "no values";
    for (std::size_t i = 0; i < gpu.size(); ++i) {
        if (!std::isfinite(gpu[i])) return ::testing::AssertionFailure() << "element " << i << " is " << gpu[i];
    }
    if (tol.rel_l2 > 0.0) {
        double d = 0.0;
        double n = 0.0;
        for (std::size_t i = 0; i < gpu.size(); ++i) {
            const double e = static_cast<double>(gpu[i]) - cpu[i];
            d += e * e;
            n += static_cast<double>(cpu[i]) * cpu[i];
        }
        if (std::sqrt(d) <= tol.rel_l2 * std::sqrt(n)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "relative L2 difference " << std::sqrt(d / n) << " > " << tol.rel_l2;
    }
    const double atol = tol.atol_rms * rms(cpu);
    for (std::size_t i = 0; i < gpu.size(); ++i) {
        const double diff = std::fabs(static_cast<double>(gpu[i]) - cpu[i]);
        if (!(diff <= atol + tol.rtol * std::fabs(cpu[i]))) {
            return ::testing::AssertionFailure() << "element " << i << ": gpu " << gpu[i] << " cpu " << cpu[i]
                                                 << " |diff| " << diff << " > " << atol << " + " << tol.rtol << " * |cpu|";
        }
    }
    return ::testing::AssertionSuccess();
}

/// Every layer and slot: the same sample counts; last-token values within `tol`; no NaN/Inf on
/// the GPU. Then the final norm's count and the logits.
void expect_traces_agree(const ForwardTrace& gpu, const ForwardTrace& cpu, const Tolerance& tol) {
    ASSERT_EQ(gpu.layers.size(), cpu.layers.size());
    EXPECT_EQ(gpu.embed.count, cpu.embed.count);
    // The embedding rows are decoded exactly; only the statistics' double sums differ in form.
    EXPECT_NEAR(gpu.embed.std_dev, cpu.embed.std_dev, 1e-6 * cpu.embed.std_dev);
    for (std::size_t l = 0; l < cpu.layers.size(); ++l) {
        for (TraceSlot s : all_trace_slots()) {
            const auto& g = gpu.layers[l];
            const auto& c = cpu.layers[l];
            const std::string where = "layer " + std::to_string(l) + " slot " + std::string(slot_name(s));
            EXPECT_EQ(g[s].count, c[s].count) << where;
            if (c[s].count == 0) continue;  // a slot the family does not have (MoE: the dense FFN's)
            EXPECT_EQ(g.last(s).count, c.last(s).count) << where;
            EXPECT_EQ(g[s].nan_count + g[s].inf_count, 0u) << where;
            ASSERT_TRUE(vectors_close(g.values(s), c.values(s), tol)) << where;
            // The whole-sample statistics too (std of all positions, reduced on the device): the
            // values' own tolerance carried over to their spread.
            EXPECT_NEAR(g[s].std_dev, c[s].std_dev, std::max(1e-5, tol.rel_l2 + tol.atol_rms + tol.rtol) * c[s].std_dev)
                << where;
        }
    }
    EXPECT_EQ(gpu.final_norm.count, cpu.final_norm.count);
    EXPECT_TRUE(vectors_close(gpu.logits, cpu.logits, tol)) << "logits";
}

struct ModelCase {
    std::string arch;
    FileType type;
    GgmlType weights;  // the type of most matrices
};

std::string case_name(const ::testing::TestParamInfo<ModelCase>& info) {
    return info.param.arch + "_" + testing::param_name(std::string(type_name(info.param.weights)));
}

/// A tiny synthetic model of the case, written once per test into a temporary directory.
class CudaForward : public ::testing::TestWithParam<ModelCase> {
protected:
    void SetUp() override {
        PARITY_REQUIRE_GPU();
        auto shape = synth::preset(GetParam().arch, "tiny");
        shape.n_vocab = 320;
        path_ = (dir_ / "m.gguf").string();
        synth::write_gguf(shape, 1234, GetParam().type, path_);
        model_ = std::make_unique<Model>(Model::load(path_));
    }

    std::unique_ptr<Session> session(BackendKind b, MatmulPolicy p, KvType kv = KvType::F32,
                                     std::vector<FaultInjection> faults = {}) const {
        SessionOptions o;
        o.backend = b;
        o.matmul = p;
        o.kv_type = kv;
        o.threads = 2;
        o.max_context = 64;
        o.faults = std::move(faults);
        return create_session(*model_, o);
    }

    testing::TempDir dir_;
    std::string path_;
    std::unique_ptr<Model> model_;
};

TEST_P(CudaForward, TracesAgreeWithTheCpu) {
    const auto tokens = random_tokens(9, model_->config().n_vocab);
    for (MatmulPolicy p : {MatmulPolicy::Dequant, MatmulPolicy::Ggml}) {
        for (ForwardMode m : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
            SCOPED_TRACE(std::string(to_string(p)) + " " + std::string(to_string(m)));
            auto cpu = session(BackendKind::Cpu, p);
            auto gpu = session(BackendKind::Cuda, p);
            const ForwardTrace c = trace_forward(*cpu, tokens, m, true);
            const ForwardTrace g = trace_forward(*gpu, tokens, m, true);
            expect_traces_agree(g, c, tolerance_for(p, GetParam().weights, KvType::F32));
        }
    }
}

TEST_P(CudaForward, F16KvCacheAgreesWithTheCpu) {
    const auto tokens = random_tokens(12, model_->config().n_vocab);
    for (ForwardMode m : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
        SCOPED_TRACE(std::string(to_string(m)));
        auto cpu = session(BackendKind::Cpu, MatmulPolicy::Dequant, KvType::F16);
        auto gpu = session(BackendKind::Cuda, MatmulPolicy::Dequant, KvType::F16);
        expect_traces_agree(trace_forward(*gpu, tokens, m, true), trace_forward(*cpu, tokens, m, true),
                            tolerance_for(MatmulPolicy::Dequant, GetParam().weights, KvType::F16));
    }
}

TEST_P(CudaForward, AllLogitsAgreeWithTheCpu) {
    // forward_logits: full_sequence computes every position's logits in one batch (cuBLAS for the
    // output projection), incremental one GEMV per token through the cache.
    const auto tokens = random_tokens(10, model_->config().n_vocab);
    for (MatmulPolicy p : {MatmulPolicy::Dequant, MatmulPolicy::Ggml}) {
        for (ForwardMode m : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
            SCOPED_TRACE(std::string(to_string(p)) + " " + std::string(to_string(m)));
            auto cpu = session(BackendKind::Cpu, p);
            auto gpu = session(BackendKind::Cuda, p);
            const auto c = forward_logits(*cpu, tokens, m);
            const auto g = forward_logits(*gpu, tokens, m);
            EXPECT_TRUE(vectors_close(g, c, tolerance_for(p, GetParam().weights, KvType::F32)));
        }
    }
}

TEST_P(CudaForward, PrefillThenDecodeEqualsIncremental) {
    // The cache written by a batched prefill serves the following single-token steps: a prompt
    // in one batch then 3 decoded tokens gives the logits of the same tokens run one by one.
    const auto tokens = random_tokens(8, model_->config().n_vocab);
    auto gpu = session(BackendKind::Cuda, MatmulPolicy::Dequant);
    const auto n_vocab = static_cast<std::size_t>(model_->config().n_vocab);
    const auto inc = forward_logits(*gpu, tokens, ForwardMode::Incremental);
    gpu->reset();
    std::vector<float> last(n_vocab);
    gpu->evaluate(std::span(tokens).first(5), LogitsWanted::Last, last, nullptr);
    for (std::size_t i = 5; i < tokens.size(); ++i) {
        gpu->evaluate(std::span(tokens).subspan(i, 1), LogitsWanted::Last, last, nullptr);
    }
    EXPECT_EQ(gpu->n_past(), 8);
    const std::vector<float> want(inc.end() - static_cast<std::ptrdiff_t>(n_vocab), inc.end());
    // Same backend, same weights; the prefill's projections ran through cuBLAS and the
    // one-by-one path through the GEMV kernel, so f32 summation order differs: as CPU vs GPU.
    EXPECT_TRUE(vectors_close(last, want, tolerance_for(MatmulPolicy::Dequant, GetParam().weights, KvType::F32)));
}

TEST_P(CudaForward, GreedyGenerationMatchesTheCpu) {
    // Greedy tokens are a discontinuous function of the logits; on the dequant policy the two
    // backends differ by ~1e-6, so a tie closer than that (vanishingly rare with 320 random
    // logits of std ~2) is the only way this can fail without a bug.
    const auto prompt = random_tokens(6, model_->config().n_vocab);
    auto cpu = session(BackendKind::Cpu, MatmulPolicy::Dequant);
    auto gpu = session(BackendKind::Cuda, MatmulPolicy::Dequant);
    EXPECT_EQ(generate_greedy(*gpu, prompt, 16).tokens, generate_greedy(*cpu, prompt, 16).tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Models, CudaForward,
    ::testing::Values(ModelCase{"qwen2", FileType::ALL_F32, GgmlType::F32},
                      ModelCase{"qwen2", FileType::MOSTLY_F16, GgmlType::F16},
                      ModelCase{"qwen2", FileType::MOSTLY_Q8_0, GgmlType::Q8_0},
                      ModelCase{"qwen2", FileType::MOSTLY_Q4_0, GgmlType::Q4_0},
                      ModelCase{"qwen2", FileType::MOSTLY_Q4_K_M, GgmlType::Q4_K},  // Q4_K and Q6_K
                      ModelCase{"qwen2", FileType::MOSTLY_Q5_0, GgmlType::Q5_0},    // no device decoder
                      ModelCase{"llama", FileType::ALL_F32, GgmlType::F32},         // NORM rope, tied
                      ModelCase{"llama", FileType::MOSTLY_Q4_K_M, GgmlType::Q4_K}),
    case_name);

/// Every family of the llama.cpp fixtures (qwen3's q/k norms, qwen3moe's routed experts, gemma3's
/// local layers, post-norms and GELU table, phi3's fused tensors, Llama 3's rope_freqs): the GPU
/// runs the same graph as the CPU, slot for slot, with the tolerances above.
struct FamilyFile {
    std::string family;
    std::string variant;
};

class CudaFamily : public ::testing::TestWithParam<FamilyFile> {};

TEST_P(CudaFamily, TracesAndLogitsAgreeWithTheCpu) {
    PARITY_REQUIRE_GPU();
    const FamilyFile& f = GetParam();
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/models/tiny-" + f.family + "-ref-" + f.variant + ".gguf");
    const Model model = Model::load(path.string());
    const GgmlType weights = f.variant == "F32" ? GgmlType::F32 : f.variant == "Q8_0" ? GgmlType::Q8_0 : GgmlType::Q4_K;
    const auto tokens = random_tokens(12, model.config().n_vocab);
    for (MatmulPolicy p : {MatmulPolicy::Dequant, MatmulPolicy::Ggml}) {
        for (ForwardMode m : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
            SCOPED_TRACE(std::string(to_string(p)) + " " + std::string(to_string(m)));
            SessionOptions o;
            o.matmul = p;
            o.threads = 2;
            o.max_context = 64;
            o.backend = BackendKind::Cpu;
            auto cpu = create_session(model, o);
            o.backend = BackendKind::Cuda;
            auto gpu = create_session(model, o);
            expect_traces_agree(trace_forward(*gpu, tokens, m, true), trace_forward(*cpu, tokens, m, true),
                                tolerance_for(p, weights, KvType::F32));
            EXPECT_TRUE(vectors_close(forward_logits(*gpu, tokens, m), forward_logits(*cpu, tokens, m),
                                      tolerance_for(p, weights, KvType::F32)));
        }
    }
}

std::vector<FamilyFile> family_files() {
    std::vector<FamilyFile> out;
    for (const char* family : {"qwen3", "qwen3moe", "gemma3", "phi3", "llama3", "spm"}) {
        for (const char* variant : {"F32", "Q8_0", "Q4_K_M"}) out.push_back({family, variant});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaFamily, ::testing::ValuesIn(family_files()), [](const auto& tp) {
    return tp.param.family + "_" + testing::param_name(tp.param.variant);
});

/// The ggml policy's activation rounding really happens on the GPU: its logits are far closer to
/// the CPU's ggml logits than the CPU's dequant logits are (their distance is the rounding's
/// whole effect).
TEST(CudaForwardGgml, QuantizedLogitsAreCloserToCpuGgmlThanDequant) {
    PARITY_REQUIRE_GPU();
    testing::TempDir dir;
    auto shape = synth::preset("qwen2", "tiny");
    shape.n_vocab = 320;
    for (FileType ft : {FileType::MOSTLY_Q8_0, FileType::MOSTLY_Q4_K_M}) {
        const auto path = (dir / ("m" + std::to_string(static_cast<int>(ft)) + ".gguf")).string();
        synth::write_gguf(shape, 99, ft, path);
        const Model model = Model::load(path);
        const auto tokens = random_tokens(7, shape.n_vocab);
        auto logits = [&](BackendKind b, MatmulPolicy p) {
            SessionOptions o;
            o.backend = b;
            o.matmul = p;
            o.threads = 2;
            o.max_context = 32;
            auto s = create_session(model, o);
            return forward_logits(*s, tokens, ForwardMode::Incremental);
        };
        const auto cpu_ggml = logits(BackendKind::Cpu, MatmulPolicy::Ggml);
        const auto cpu_deq = logits(BackendKind::Cpu, MatmulPolicy::Dequant);
        const auto gpu_ggml = logits(BackendKind::Cuda, MatmulPolicy::Ggml);
        auto dist = [](const std::vector<float>& a, const std::vector<float>& b) {
            double d = 0.0;
            for (std::size_t i = 0; i < a.size(); ++i) d += (static_cast<double>(a[i]) - b[i]) * (a[i] - b[i]);
            return std::sqrt(d);
        };
        // A rounding flip or two (see tolerance_for) costs ~1/16 of the rounding's effect; a GPU
        // that did not round would sit at the full distance.
        EXPECT_LT(dist(gpu_ggml, cpu_ggml), dist(cpu_deq, cpu_ggml) / 3) << "file type " << static_cast<int>(ft);
    }
}

TEST(CudaForwardFaults, InjectionMatchesTheCpu) {
    PARITY_REQUIRE_GPU();
    testing::TempDir dir;
    auto shape = synth::preset("qwen2", "tiny");
    shape.n_layers = 3;
    shape.n_vocab = 300;
    const auto path = (dir / "m.gguf").string();
    synth::write_gguf(shape, 11, FileType::ALL_F32, path);
    const Model model = Model::load(path);
    const std::vector<std::int32_t> tokens = {5, 77, 130, 9};
    auto traced = [&](BackendKind b, std::vector<FaultInjection> faults) {
        SessionOptions o;
        o.backend = b;
        o.matmul = MatmulPolicy::Dequant;
        o.threads = 2;
        o.max_context = 16;
        o.faults = std::move(faults);
        auto s = create_session(model, o);
        return trace_forward(*s, tokens, ForwardMode::FullSequence, true);
    };
    const ForwardTrace clean = traced(BackendKind::Cuda, {});
    for (const FaultInjection& f : {FaultInjection{1, TraceSlot::FfnOut, 4.0f}, FaultInjection{0, TraceSlot::Qkv, 2.0f},
                                    FaultInjection{2, TraceSlot::AttnNorm, -1.0f}}) {
        SCOPED_TRACE("fault at layer " + std::to_string(f.layer) + " " + std::string(slot_name(f.slot)));
        const ForwardTrace hurt = traced(BackendKind::Cuda, {f});
        expect_traces_agree(hurt, traced(BackendKind::Cpu, {f}), tolerance_for(MatmulPolicy::Dequant, GgmlType::F32, KvType::F32));
        // The GPU is deterministic: everything before the fault is bit-identical, and the
        // faulted slot is exactly scaled (powers of two and -1 scale without rounding).
        for (int l = 0; l < f.layer; ++l) {
            for (TraceSlot s : all_trace_slots()) EXPECT_EQ(hurt.layers[l][s].std_dev, clean.layers[l][s].std_dev);
        }
        const auto& hs = hurt.layers[static_cast<std::size_t>(f.layer)][f.slot];
        const auto& cs = clean.layers[static_cast<std::size_t>(f.layer)][f.slot];
        EXPECT_EQ(hs.std_dev, std::fabs(f.scale) * cs.std_dev);
        EXPECT_NE(hurt.logits, clean.logits);
    }
}

TEST(CudaForwardErrors, BadInputsAreUsageErrors) {
    PARITY_REQUIRE_GPU();
    testing::TempDir dir;
    auto shape = synth::preset("llama", "tiny");
    shape.n_vocab = 300;
    const auto path = (dir / "m.gguf").string();
    synth::write_gguf(shape, 5, FileType::ALL_F32, path);
    const Model model = Model::load(path);
    SessionOptions o;
    o.backend = BackendKind::Cuda;
    o.max_context = 4;
    auto s = create_session(model, o);
    std::vector<float> logits(300);
    const std::vector<std::int32_t> bad = {1, 300};
    EXPECT_THROW(s->evaluate(bad, LogitsWanted::None, {}, nullptr), UsageError);
    const std::vector<std::int32_t> five = {1, 2, 3, 4, 5};
    EXPECT_THROW(s->evaluate(five, LogitsWanted::None, {}, nullptr), UsageError);  // cache of 4
    EXPECT_THROW(s->evaluate(std::span(five).first(2), LogitsWanted::Last, std::span(logits).first(10), nullptr),
                 UsageError);
    EXPECT_EQ(s->n_past(), 0);
    s->evaluate(std::span(five).first(4), LogitsWanted::Last, logits, nullptr);
    EXPECT_EQ(s->n_past(), 4);
}

}  // namespace
}  // namespace parity
