// Model loading errors, session behaviour, greedy generation, and every weight type end to end.

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "engine/runtime/cuda_device.h"
#include "engine/error.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "engine/model/model.h"
#include "forward_test_util.h"

// Counts operator new calls while armed (the decode-loop allocation check below). Not under
// AddressSanitizer, which owns operator new itself.
#if defined(__SANITIZE_ADDRESS__)
#define PARITY_ALLOC_PROBE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARITY_ALLOC_PROBE 0
#endif
#endif
#ifndef PARITY_ALLOC_PROBE
#define PARITY_ALLOC_PROBE 1
#endif

namespace alloc_probe {
std::atomic<bool> armed{false};
std::atomic<long> count{0};
}  // namespace alloc_probe

#if PARITY_ALLOC_PROBE
#if defined(__GNUC__) && !defined(__clang__)
// malloc/free behind operator new/delete is the standard replacement; GCC's inliner cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    if (alloc_probe::armed.load(std::memory_order_relaxed)) alloc_probe::count.fetch_add(1);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace parity {
namespace {

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

/// A copy of `src` with the tensor `drop` left out and metadata key `key` set to `value`.
std::string rewrite(const std::string& src, const std::string& dst, const std::string& drop,
                    const std::string& key = "", const std::string& value = "") {
    const gguf::File g = gguf::File::open(src);
    std::vector<gguf::MetadataEntry> meta = g.metadata();
    for (auto& e : meta) {
        if (!key.empty() && e.key == key) e.value = gguf::Value(value);
    }
    std::vector<gguf::TensorData> tensors;
    for (const auto& t : g.tensors()) {
        if (t.name == drop) continue;
        const auto bytes = g.tensor_data(t);
        tensors.push_back({t.name, t.type, t.ne, std::vector<std::byte>(bytes.begin(), bytes.end())});
    }
    gguf::write_file(dst, meta, tensors);
    return dst;
}

TEST(ModelLoad, ReadsBothFamilies) {
    const Model q = Model::load(testing::synth_model("qwen2", FileType::MOSTLY_Q4_K_M));
    EXPECT_EQ(q.config().arch, "qwen2");
    EXPECT_EQ(q.config().rope, RopeType::Neox);
    EXPECT_FALSE(q.config().tied);
    EXPECT_EQ(q.layers().size(), 4u);
    EXPECT_FALSE(q.layers()[0].bq.empty());
    EXPECT_EQ(&q.output(), &q.output());
    EXPECT_EQ(q.output().name, "output.weight");
    const Model l = Model::load(testing::synth_model("llama", FileType::MOSTLY_Q4_K_M));
    EXPECT_EQ(l.config().rope, RopeType::Norm);
    EXPECT_TRUE(l.config().tied);
    EXPECT_TRUE(l.layers()[0].bq.empty());
    EXPECT_EQ(l.output().name, "token_embd.weight");
    EXPECT_EQ(l.config().n_head_kv, 1);
}

TEST(ModelLoad, UnsupportedArchitectureIsNamed) {
    testing::TempDir dir;
    const auto path = rewrite(testing::synth_model("qwen2", FileType::ALL_F32), (dir / "gpt2.gguf").string(), "",
                              "general.architecture", "gpt2");
    const std::string e = error_of([&] { (void)Model::load(path); });
    EXPECT_NE(e.find("gpt2.gguf: architecture 'gpt2' is not supported"), std::string::npos) << e;
}

TEST(ModelLoad, MissingTensorIsNamed) {
    testing::TempDir dir;
    const auto path =
        rewrite(testing::synth_model("qwen2", FileType::ALL_F32), (dir / "m.gguf").string(), "blk.1.ffn_up.weight");
    const std::string e = error_of([&] { (void)Model::load(path); });
    EXPECT_NE(e.find("m.gguf: tensor 'blk.1.ffn_up.weight' is missing"), std::string::npos) << e;
}

TEST(ModelLoad, MissingFileIsAnIoError) { EXPECT_THROW((void)Model::load("/nonexistent/x.gguf"), IoError); }

TEST(SessionErrors, CudaBackendIsAClearError) {
    if (cuda::device_count() > 0) GTEST_SKIP() << "a CUDA device is present: backend cuda works here";
    const Model m = Model::load(testing::synth_model("qwen2", FileType::ALL_F32));
    SessionOptions o;
    o.backend = BackendKind::Cuda;
    const std::string e = error_of([&] { (void)create_session(m, o); });
    EXPECT_NE(e.find("cuda"), std::string::npos) << e;
    EXPECT_TRUE(e.find("not built with CUDA") != std::string::npos || e.find("no CUDA device") != std::string::npos ||
                e.find("CUDA module not found at ") != std::string::npos)
        << e;
}

TEST(SessionErrors, BadInputsAreUsageErrors) {
    const Model m = Model::load(testing::synth_model("qwen2", FileType::ALL_F32));
    SessionOptions o;
    o.threads = 2;
    o.max_context = 4;
    auto s = create_session(m, o);
    std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
    const std::vector<std::int32_t> bad = {5, 1024};
    EXPECT_NE(error_of([&] { s->evaluate(bad, LogitsWanted::Last, logits, nullptr); }).find("token id 1024"),
              std::string::npos);
    EXPECT_THROW(s->evaluate({}, LogitsWanted::Last, logits, nullptr), UsageError);
    const std::vector<std::int32_t> five = {1, 2, 3, 4, 5};
    EXPECT_NE(error_of([&] { s->evaluate(five, LogitsWanted::Last, logits, nullptr); }).find("KV cache full"),
              std::string::npos);
    std::vector<float> small(3);
    EXPECT_THROW(s->evaluate(bad, LogitsWanted::All, small, nullptr), UsageError);
    EXPECT_EQ(s->n_past(), 0);
    const std::vector<std::int32_t> two = {1, 2};
    s->evaluate(two, LogitsWanted::None, {}, nullptr);
    EXPECT_EQ(s->n_past(), 2);
    s->reset();
    EXPECT_EQ(s->n_past(), 0);
}

TEST(Generate, GreedyThroughTheCacheMatchesRecomputation) {
    const Model m = Model::load(testing::synth_model("qwen2", FileType::MOSTLY_Q8_0));
    SessionOptions o;
    o.threads = 2;
    o.max_context = 64;
    auto s = create_session(m, o);
    const std::vector<std::int32_t> prompt = {1021, 17, 263};
    const GenerationResult r = generate_greedy(*s, prompt, 8);
    ASSERT_EQ(r.tokens.size(), 8u);
    EXPECT_FALSE(r.stopped);
    // Recompute every position from scratch in one batch: each generated token is the argmax.
    std::vector<std::int32_t> all = prompt;
    all.insert(all.end(), r.tokens.begin(), r.tokens.end() - 1);
    const auto logits = forward_logits(*s, all, ForwardMode::FullSequence);
    const auto v = static_cast<std::size_t>(m.config().n_vocab);
    for (std::size_t i = 0; i < r.tokens.size(); ++i) {
        const std::size_t pos = prompt.size() - 1 + i;
        EXPECT_EQ(argmax(std::span<const float>(logits).subspan(pos * v, v)), r.tokens[i]) << "token " << i;
    }
    // Deterministic, and the stop predicate ends early.
    const GenerationResult again = generate_greedy(*s, prompt, 8);
    EXPECT_EQ(again.tokens, r.tokens);
    const GenerationResult stopped =
        generate_greedy(*s, prompt, 8, [&](std::int32_t id) { return id == r.tokens[2]; });
    EXPECT_TRUE(stopped.stopped);
    EXPECT_EQ(stopped.tokens.size(), 3u);
}

TEST(Session, DecodeStepsDoNotAllocate) {
    if (!PARITY_ALLOC_PROBE) GTEST_SKIP() << "allocation probe disabled under AddressSanitizer";
    for (FileType type : {FileType::MOSTLY_Q4_K_M, FileType::MOSTLY_Q8_0, FileType::ALL_F32}) {
        for (MatmulPolicy policy : {MatmulPolicy::Ggml, MatmulPolicy::Dequant}) {
            const Model m = Model::load(testing::synth_model("qwen2", type));
            SessionOptions o;
            o.threads = 2;
            o.max_context = 32;
            o.matmul = policy;
            auto s = create_session(m, o);
            std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
            TraceRecorder rec(m.config().n_layers);
            const std::vector<std::int32_t> prompt = {1, 2, 3, 4};
            s->evaluate(prompt, LogitsWanted::Last, logits, nullptr);
            std::int32_t id = 5;
            s->evaluate({&id, 1}, LogitsWanted::Last, logits, &rec);  // warm-up (thread pool, first use)
            alloc_probe::count = 0;
            alloc_probe::armed = true;
            for (int i = 0; i < 8; ++i) {
                id = argmax(logits);
                rec.begin();
                s->evaluate({&id, 1}, LogitsWanted::Last, logits, i % 2 ? &rec : nullptr);
            }
            alloc_probe::armed = false;
            EXPECT_EQ(alloc_probe::count.load(), 0) << file_type_name(type) << " " << to_string(policy);
        }
    }
}

TEST(Generate, ArgmaxPicksFirstMaximumAndSkipsNaN) {
    const float nan = std::nanf("");
    const std::vector<float> v = {nan, 1.0f, 3.0f, 3.0f, -1.0f};
    EXPECT_EQ(argmax(v), 2);
}

// Every weight type pv synth can write, through both policies: the ggml policy agrees with
// the dequant policy up to the activation quantization, and both follow the F32 model.
class EveryWeightType : public ::testing::TestWithParam<FileType> {};

double rms(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    return std::sqrt(s / static_cast<double>(a.size()));
}

TEST_P(EveryWeightType, PoliciesAgreeAndFollowF32) {
    const std::vector<std::int32_t> prompt = {1021, 17, 263, 500};
    auto logits = [&](FileType t, MatmulPolicy p) {
        const Model m = Model::load(testing::synth_model("llama", t));
        SessionOptions o;
        o.threads = 2;
        o.max_context = 16;
        o.matmul = p;
        auto s = create_session(m, o);
        return forward_logits(*s, prompt, ForwardMode::FullSequence);
    };
    const auto ref = logits(FileType::ALL_F32, MatmulPolicy::Dequant);
    const auto ggml = logits(GetParam(), MatmulPolicy::Ggml);
    const auto deq = logits(GetParam(), MatmulPolicy::Dequant);
    const double logit_std = rms(ref, std::vector<float>(ref.size(), 0.0f));
    std::cout << "[ measured ] " << file_type_name(GetParam()) << ": rms(ggml - dequant) = " << rms(ggml, deq)
              << ", rms(dequant - F32) = " << rms(deq, ref) << " (logit rms " << logit_std << ")\n";
    EXPECT_LT(rms(ggml, deq), 0.1 * logit_std);
    EXPECT_LT(rms(deq, ref), 0.5 * logit_std);
}

INSTANTIATE_TEST_SUITE_P(Synth, EveryWeightType,
                         ::testing::Values(FileType::MOSTLY_F16, FileType::MOSTLY_BF16, FileType::MOSTLY_Q4_0,
                                           FileType::MOSTLY_Q4_1, FileType::MOSTLY_Q5_0, FileType::MOSTLY_Q5_1,
                                           FileType::MOSTLY_Q8_0, FileType::MOSTLY_Q2_K, FileType::MOSTLY_Q3_K_S,
                                           FileType::MOSTLY_Q4_K_S, FileType::MOSTLY_Q5_K_M, FileType::MOSTLY_Q6_K,
                                           FileType::MOSTLY_IQ4_NL, FileType::MOSTLY_IQ4_XS),
                         [](const ::testing::TestParamInfo<FileType>& i) {
                             return testing::param_name(std::string(file_type_name(i.param)));
                         });

}  // namespace
}  // namespace parity
