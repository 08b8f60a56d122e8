// pv synth for every family: the tiny presets have the fixtures' tensors and keys, load, run
// and are deterministic; the real-shape presets have the published configurations (checked as
// tables only: they are far too big to write in a test).

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "engine/synth/synth.h"
#include "forward_test_util.h"

namespace parity {
namespace {

const std::vector<std::string> kFamilies = {"qwen2", "llama", "qwen3", "qwen3moe", "gemma3", "phi3"};

std::string family_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

std::map<std::string, std::vector<std::int64_t>> plan_shapes(const synth::ModelShape& s) {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& t : synth::tensor_plan(s)) out[t.name] = t.ne;
    return out;
}

std::vector<float> logits(const std::string& path, MatmulPolicy policy) {
    const Model m = Model::load(path);
    SessionOptions opts;
    opts.matmul = policy;
    opts.threads = 2;
    opts.max_context = 16;
    auto session = create_session(m, opts);
    const std::vector<std::int32_t> tokens = {1, 300, 17, 1023, 512, 9, 700, 64, 2, 1000, 33, 5};
    return forward_logits(*session, tokens, ForwardMode::FullSequence);
}

class SynthFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(SynthFamily, TinyWritesTheSameBytesTwiceAndRunsFromGgufAndApr) {
    const auto shape = synth::preset(GetParam(), "tiny");
    testing::TempDir dir;
    const auto g1 = dir / "a.gguf";
    const auto g2 = dir / "b.gguf";
    const auto a1 = dir / "a.apr";
    const auto a2 = dir / "b.apr";
    const auto q8 = dir / "q8.gguf";
    synth::write_gguf(shape, 42, FileType::ALL_F32, g1.string());
    synth::write_gguf(shape, 42, FileType::ALL_F32, g2.string());
    synth::write_apr_f32(shape, 42, a1.string());
    synth::write_apr_f32(shape, 42, a2.string());
    synth::write_gguf(shape, 42, FileType::MOSTLY_Q8_0, q8.string());
    EXPECT_EQ(testing::read_file(g1), testing::read_file(g2));
    EXPECT_EQ(testing::read_file(a1), testing::read_file(a2));

    const auto lg = logits(g1.string(), MatmulPolicy::Ggml);
    ASSERT_EQ(lg.size(), 12u * static_cast<std::size_t>(shape.n_vocab));
    double sum2 = 0.0;
    for (float x : lg) {
        ASSERT_TRUE(std::isfinite(x));
        sum2 += static_cast<double>(x) * x;
    }
    // Logits of a sane size: neither collapsed nor blown up by the depth or the family's norms.
    const double rms = std::sqrt(sum2 / static_cast<double>(lg.size()));
    EXPECT_GT(rms, 0.1);
    EXPECT_LT(rms, 20.0);
    // The APR twin holds the same F32 values: the same logits, bit for bit.
    EXPECT_EQ(logits(a1.string(), MatmulPolicy::Ggml), lg);
    for (float x : logits(q8.string(), MatmulPolicy::Ggml)) ASSERT_TRUE(std::isfinite(x));
    // The router stays F32 in quantized files, as llama-quantize leaves it.
    const ModelFile f = ModelFile::open(q8.string());
    for (const auto& t : f.tensors()) {
        if (t.name.find("ffn_gate_inp") != std::string::npos) {
            EXPECT_EQ(t.type, GgmlType::F32) << t.name;
        }
    }
}

// Tiny with the fixture's vocabulary size has the fixture's tensors (names and shapes), the same
// hyper-parameters and the same `<arch>.` keys as llama.cpp's tiny-<arch>-ref file.
TEST_P(SynthFamily, TinyHasTheFixtureTensorsAndKeys) {
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/models/tiny-" + GetParam() + "-ref-F32.gguf");
    const ModelFile fixture = ModelFile::open(path.string());
    auto shape = synth::preset(GetParam(), "tiny");
    shape.n_vocab = fixture.config().n_vocab;
    std::map<std::string, std::vector<std::int64_t>> expected;
    for (const auto& t : fixture.tensors()) expected[t.name] = t.ne;
    EXPECT_EQ(plan_shapes(shape), expected);

    testing::TempDir dir;
    const auto out = (dir / "synth.gguf").string();
    synth::write_gguf(shape, 1, FileType::ALL_F32, out);
    const ModelFile ours = ModelFile::open(out);
    const ModelConfig a = ours.config();
    const ModelConfig b = fixture.config();
    EXPECT_EQ(a.n_layers, b.n_layers);
    EXPECT_EQ(a.n_ff, b.n_ff);
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.n_ctx, b.n_ctx);
    EXPECT_EQ(a.rope_base, b.rope_base);
    EXPECT_EQ(a.rms_eps, b.rms_eps);
    EXPECT_EQ(a.tied, b.tied);
    EXPECT_EQ(a.n_expert, b.n_expert);
    EXPECT_EQ(a.n_expert_used, b.n_expert_used);
    EXPECT_EQ(a.n_ff_expert, b.n_ff_expert);
    EXPECT_EQ(a.sliding_window, b.sliding_window);
    EXPECT_EQ(a.sliding_window_pattern, b.sliding_window_pattern);
    EXPECT_EQ(a.rope_base_local, b.rope_base_local);
    const std::string prefix = GetParam() + ".";
    for (const auto& e : fixture.gguf()->metadata()) {
        if (e.key.rfind(prefix, 0) != 0 || e.key == "phi3.rope.scaling.original_context_length") continue;
        EXPECT_NE(ours.gguf()->find(e.key), nullptr) << "missing " << e.key;
    }
    for (const auto& e : ours.gguf()->metadata()) {
        if (e.key.rfind(prefix, 0) == 0) {
            EXPECT_NE(fixture.gguf()->find(e.key), nullptr) << "extra " << e.key;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Families, SynthFamily, ::testing::ValuesIn(kFamilies), family_name);

// The real shapes, from each model's published config.json.
TEST(SynthRealShapes, PresetsHaveThePublishedConfigurations) {
    struct Row {
        std::string preset, arch;
        int layers, embd, ff, heads, kv, head_dim, vocab;
        float rope;
        bool tied;
    };
    const std::vector<Row> rows = {
        {"llama3-8b", "llama", 32, 4096, 14336, 32, 8, 128, 128256, 5e5f, false},
        {"qwen3-8b", "qwen3", 36, 4096, 12288, 32, 8, 128, 151936, 1e6f, false},
        {"qwen3-30b-a3b", "qwen3moe", 48, 2048, 6144, 32, 4, 128, 151936, 1e6f, false},
        {"gemma3-4b", "gemma3", 34, 2560, 10240, 8, 4, 256, 262144, 1e6f, true},
        {"phi3-mini", "phi3", 32, 3072, 8192, 32, 32, 96, 32064, 1e4f, false},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.preset);
        EXPECT_EQ(synth::preset_arch(r.preset), r.arch);
        const auto s = synth::preset(r.arch, r.preset);
        EXPECT_NO_THROW(synth::validate(s));
        EXPECT_EQ(s.n_layers, r.layers);
        EXPECT_EQ(s.n_embd, r.embd);
        EXPECT_EQ(s.n_ff, r.ff);
        EXPECT_EQ(s.n_head, r.heads);
        EXPECT_EQ(s.n_head_kv, r.kv);
        EXPECT_EQ(s.head_dim(), r.head_dim);
        EXPECT_EQ(s.n_vocab, r.vocab);
        EXPECT_EQ(s.rope_base, r.rope);
        EXPECT_EQ(s.tied, r.tied);
    }
    const auto moe = synth::to_config(synth::preset("qwen3moe", "qwen3-30b-a3b"));
    EXPECT_EQ(moe.n_expert, 128);
    EXPECT_EQ(moe.n_expert_used, 8);
    EXPECT_EQ(moe.n_ff_expert, 768);
    const auto gemma = synth::to_config(synth::preset("gemma3", "gemma3-4b"));
    EXPECT_EQ(gemma.sliding_window, 1024);
    EXPECT_EQ(gemma.sliding_window_pattern, 6);
    EXPECT_EQ(gemma.rope_base_local, 1e4f);
    EXPECT_EQ(gemma.rope_freq_scale, 0.125f);
    EXPECT_EQ(synth::to_config(synth::preset("phi3", "phi3-mini")).n_ctx, 4096);
}

TEST(SynthRealShapes, TensorPlansHaveTheModelsShapes) {
    auto moe = synth::preset("qwen3moe", "qwen3-30b-a3b");
    moe.n_layers = 1;  // as --layers 1
    auto p = plan_shapes(moe);
    EXPECT_EQ(p.size(), 3u + 12u);  // token_embd, output_norm, output; 12 per layer
    EXPECT_EQ(p["blk.0.attn_q.weight"], (std::vector<std::int64_t>{2048, 4096}));
    EXPECT_EQ(p["blk.0.attn_k.weight"], (std::vector<std::int64_t>{2048, 512}));
    EXPECT_EQ(p["blk.0.attn_output.weight"], (std::vector<std::int64_t>{4096, 2048}));
    EXPECT_EQ(p["blk.0.attn_q_norm.weight"], (std::vector<std::int64_t>{128}));
    EXPECT_EQ(p["blk.0.ffn_gate_inp.weight"], (std::vector<std::int64_t>{2048, 128}));
    EXPECT_EQ(p["blk.0.ffn_gate_exps.weight"], (std::vector<std::int64_t>{2048, 768, 128}));
    EXPECT_EQ(p["blk.0.ffn_up_exps.weight"], (std::vector<std::int64_t>{2048, 768, 128}));
    EXPECT_EQ(p["blk.0.ffn_down_exps.weight"], (std::vector<std::int64_t>{768, 2048, 128}));
    EXPECT_EQ(p["output.weight"], (std::vector<std::int64_t>{2048, 151936}));

    p = plan_shapes(synth::preset("gemma3", "gemma3-4b"));
    EXPECT_EQ(p.size(), 2u + 34u * 13u);  // tied: no output.weight
    EXPECT_EQ(p["blk.33.attn_q.weight"], (std::vector<std::int64_t>{2560, 2048}));
    EXPECT_EQ(p["blk.33.attn_k.weight"], (std::vector<std::int64_t>{2560, 1024}));
    EXPECT_EQ(p["blk.33.post_attention_norm.weight"], (std::vector<std::int64_t>{2560}));
    EXPECT_EQ(p["blk.33.post_ffw_norm.weight"], (std::vector<std::int64_t>{2560}));
    EXPECT_EQ(p["token_embd.weight"], (std::vector<std::int64_t>{2560, 262144}));

    p = plan_shapes(synth::preset("phi3", "phi3-mini"));
    EXPECT_EQ(p.size(), 3u + 32u * 6u);
    EXPECT_EQ(p["blk.31.attn_qkv.weight"], (std::vector<std::int64_t>{3072, 9216}));
    EXPECT_EQ(p["blk.31.ffn_up.weight"], (std::vector<std::int64_t>{3072, 16384}));
    EXPECT_EQ(p["blk.31.ffn_down.weight"], (std::vector<std::int64_t>{8192, 3072}));

    p = plan_shapes(synth::preset("qwen3", "qwen3-8b"));
    EXPECT_EQ(p.size(), 3u + 36u * 11u);
    EXPECT_EQ(p["blk.35.attn_k.weight"], (std::vector<std::int64_t>{4096, 1024}));
    EXPECT_EQ(p["blk.35.attn_k_norm.weight"], (std::vector<std::int64_t>{128}));
    EXPECT_EQ(p["blk.35.ffn_gate.weight"], (std::vector<std::int64_t>{4096, 12288}));

    p = plan_shapes(synth::preset("llama", "llama3-8b"));
    EXPECT_EQ(p.size(), 3u + 32u * 9u);
    EXPECT_EQ(p["blk.31.attn_v.weight"], (std::vector<std::int64_t>{4096, 1024}));
    EXPECT_EQ(p["blk.31.ffn_down.weight"], (std::vector<std::int64_t>{14336, 4096}));
}

TEST(SynthRealShapes, WrongArchitecturesAndShapesAreRefused) {
    EXPECT_THROW(synth::preset("qwen2", "qwen3-8b"), UsageError);
    EXPECT_THROW(synth::preset("qwen3", "gemma3-4b"), UsageError);
    EXPECT_THROW(synth::preset("gemma3", "bench-7b"), UsageError);
    EXPECT_THROW(synth::preset_arch("qwen4-1t"), UsageError);
    EXPECT_EQ(synth::preset_arch("tiny"), "");
    auto moe = synth::preset("qwen3moe", "tiny");
    moe.n_expert_used = 9;  // more than the 8 experts
    EXPECT_THROW(synth::validate(moe), UsageError);
    auto dense = synth::preset("qwen3", "tiny");
    dense.n_expert = 4;
    EXPECT_THROW(synth::validate(dense), UsageError);
    auto gemma = synth::preset("gemma3", "tiny");
    gemma.sliding_window = 0;
    EXPECT_THROW(synth::validate(gemma), UsageError);
    auto qwen = synth::preset("qwen2", "tiny");
    qwen.sliding_window = 64;
    EXPECT_THROW(synth::validate(qwen), UsageError);
}

}  // namespace
}  // namespace parity
