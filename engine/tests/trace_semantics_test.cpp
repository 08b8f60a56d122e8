// Trace semantics: sample counts per mode, last_token vs the incremental trace, NaN/Inf
// accounting, and that tracing does not change the computation.

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/runtime/forward.h"
#include "engine/format/gguf.h"
#include "engine/model/model.h"
#include "forward_test_util.h"

namespace parity {
namespace {

const std::vector<std::int32_t> kPrompt = {1021, 17, 263, 500, 42};

std::unique_ptr<Session> session_for(const Model& m, KvType kv = KvType::F32) {
    SessionOptions o;
    o.threads = 2;
    o.max_context = 32;
    o.kv_type = kv;
    return create_session(m, o);
}

std::int64_t slot_width(const Model& m, TraceSlot s) {
    const ModelConfig& c = m.config();
    switch (s) {
        case TraceSlot::Qkv: return m.q_dim() + 2 * m.kv_dim();
        case TraceSlot::FfnGate:
        case TraceSlot::FfnUp:
        case TraceSlot::FfnSiluGate:
        case TraceSlot::FfnSwigluInner: return c.n_ff;
        default: return c.n_embd;
    }
}

class TraceCounts : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceCounts, FullSequenceCountsEveryPositionIncrementalTheLast) {
    const Model m = Model::load(testing::synth_model(GetParam(), FileType::ALL_F32));
    auto s = session_for(m);
    const auto n = static_cast<std::uint64_t>(kPrompt.size());
    const ForwardTrace full = trace_forward(*s, kPrompt, ForwardMode::FullSequence);
    const ForwardTrace inc = trace_forward(*s, kPrompt, ForwardMode::Incremental);
    const auto embd = static_cast<std::uint64_t>(m.config().n_embd);
    ASSERT_EQ(full.layers.size(), static_cast<std::size_t>(m.config().n_layers));
    ASSERT_EQ(inc.layers.size(), full.layers.size());
    EXPECT_EQ(full.input_tokens, kPrompt);
    EXPECT_EQ(full.embed.count, n * embd);
    EXPECT_EQ(inc.embed.count, embd);
    EXPECT_EQ(full.final_norm.count, n * embd);
    EXPECT_EQ(inc.final_norm.count, embd);
    EXPECT_EQ(full.logits_stats.count, static_cast<std::uint64_t>(m.config().n_vocab));
    EXPECT_EQ(full.logits.size(), static_cast<std::size_t>(m.config().n_vocab));
    for (std::size_t l = 0; l < full.layers.size(); ++l) {
        EXPECT_EQ(full.layers[l].layer_idx, static_cast<int>(l));
        for (TraceSlot slot : all_trace_slots()) {
            const auto w = static_cast<std::uint64_t>(slot_width(m, slot));
            EXPECT_EQ(full.layers[l][slot].count, n * w) << slot_name(slot);
            EXPECT_EQ(full.layers[l].last(slot).count, w) << slot_name(slot);
            EXPECT_EQ(inc.layers[l][slot].count, w) << slot_name(slot);
            EXPECT_EQ(inc.layers[l].last(slot).count, w) << slot_name(slot);
        }
    }
    // qkv: q_dim + 2 kv_dim per token (after the bias, before RoPE)
    EXPECT_EQ(full.layers[0][TraceSlot::Qkv].count,
              n * static_cast<std::uint64_t>(m.config().n_head + 2 * m.config().n_head_kv) *
                  static_cast<std::uint64_t>(m.config().head_dim));
}

TEST_P(TraceCounts, FullSequenceLastTokenEqualsIncrementalTrace) {
    const Model m = Model::load(testing::synth_model(GetParam(), FileType::ALL_F32));
    auto s = session_for(m);
    const ForwardTrace full = trace_forward(*s, kPrompt, ForwardMode::FullSequence, true);
    const ForwardTrace inc = trace_forward(*s, kPrompt, ForwardMode::Incremental, true);
    for (std::size_t l = 0; l < full.layers.size(); ++l) {
        for (TraceSlot slot : all_trace_slots()) {
            const ActivationStats& a = full.layers[l].last(slot);
            const ActivationStats& b = inc.layers[l][slot];
            const ActivationStats& b_last = inc.layers[l].last(slot);
            const float tol = 1e-5f * (1.0f + std::fabs(b.std_dev) + std::fabs(b.max) + std::fabs(b.min));
            EXPECT_EQ(a.count, b.count);
            EXPECT_NEAR(a.mean, b.mean, tol) << "layer " << l << " " << slot_name(slot);
            EXPECT_NEAR(a.std_dev, b.std_dev, tol) << "layer " << l << " " << slot_name(slot);
            EXPECT_NEAR(a.min, b.min, tol) << "layer " << l << " " << slot_name(slot);
            EXPECT_NEAR(a.max, b.max, tol) << "layer " << l << " " << slot_name(slot);
            EXPECT_EQ(b.count, b_last.count);
            EXPECT_EQ(b.mean, b_last.mean);  // incremental: the whole sample is the last token
            // last_token statistics are those of the kept last-token vector
            const ActivationStats v = compute_stats(full.layers[l].values(slot));
            EXPECT_EQ(v.count, a.count);
            EXPECT_FLOAT_EQ(v.mean, a.mean);
            EXPECT_FLOAT_EQ(v.std_dev, a.std_dev);
        }
    }
    for (std::size_t i = 0; i < full.logits.size(); ++i) ASSERT_NEAR(full.logits[i], inc.logits[i], 1e-4f);
}

TEST_P(TraceCounts, TracingDoesNotChangeLogits) {
    const Model m = Model::load(testing::synth_model(GetParam(), FileType::MOSTLY_Q8_0));
    auto s = session_for(m);
    const ForwardTrace t = trace_forward(*s, kPrompt, ForwardMode::FullSequence);
    const std::vector<float> all = forward_logits(*s, kPrompt, ForwardMode::FullSequence);
    const auto v = static_cast<std::size_t>(m.config().n_vocab);
    ASSERT_EQ(t.logits.size(), v);
    for (std::size_t i = 0; i < v; ++i) ASSERT_EQ(t.logits[i], all[all.size() - v + i]) << i;
    const ActivationStats direct = compute_stats(t.logits);
    EXPECT_EQ(t.logits_stats.mean, direct.mean);
    EXPECT_EQ(t.logits_stats.std_dev, direct.std_dev);
}

INSTANTIATE_TEST_SUITE_P(Synth, TraceCounts, ::testing::Values("qwen2", "llama"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

/// The synthetic qwen2 F32 model with one value of blk.1.attn_norm.weight set to +inf.
std::string poisoned_model(const testing::TempDir& dir) {
    const std::string src = testing::synth_model("qwen2", FileType::ALL_F32);
    std::vector<std::byte> bytes = testing::read_file(src);
    std::uint64_t offset = 0;
    {
        const gguf::File g = gguf::File::open(src);
        offset = g.data_offset() + g.tensor("blk.1.attn_norm.weight").offset;
    }
    const float inf = std::numeric_limits<float>::infinity();
    std::memcpy(bytes.data() + offset + 3 * sizeof(float), &inf, sizeof inf);
    const auto path = dir / "poisoned.gguf";
    testing::write_file(path, bytes);
    return path.string();
}

TEST(TraceAnomalies, InfAndNanAreCountedWhereTheyAppear) {
    testing::TempDir dir;
    const Model m = Model::load(poisoned_model(dir));
    auto s = session_for(m);
    const auto n = static_cast<std::uint64_t>(kPrompt.size());
    for (ForwardMode mode : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
        const ForwardTrace t = trace_forward(*s, kPrompt, mode);
        const std::uint64_t tokens = mode == ForwardMode::FullSequence ? n : 1;
        for (TraceSlot slot : all_trace_slots()) {
            EXPECT_FALSE(t.layers[0][slot].has_anomaly()) << slot_name(slot);
        }
        const ActivationStats& an = t.layers[1][TraceSlot::AttnNorm];
        EXPECT_EQ(an.count, tokens * static_cast<std::uint64_t>(m.config().n_embd));  // count includes them
        EXPECT_EQ(an.inf_count, tokens);  // one element per token: x * scale * inf
        EXPECT_EQ(an.nan_count, 0u);
        EXPECT_TRUE(std::isfinite(an.mean));  // excluded from mean / std / min / max
        EXPECT_TRUE(std::isfinite(an.std_dev));
        EXPECT_TRUE(std::isfinite(an.max));
        EXPECT_EQ(t.layers[1].last(TraceSlot::AttnNorm).inf_count, 1u);
        // Downstream the infinity turns into NaN / Inf in the projections.
        const ActivationStats& qkv = t.layers[1][TraceSlot::Qkv];
        EXPECT_GT(qkv.nan_count + qkv.inf_count, 0u);
        EXPECT_EQ(qkv.count, tokens * static_cast<std::uint64_t>(m.q_dim() + 2 * m.kv_dim()));
    }
}

TEST(TraceRecorder, ConcatenatesQkvPartsAndRestartsOnBegin) {
    TraceRecorder r(1, true);
    r.begin();
    const std::vector<float> q = {1, 2, 3, 4};  // 2 rows of 2
    const std::vector<float> k = {5, 6};        // 2 rows of 1
    r.add(0, TraceSlot::Qkv, q.data(), 2, 2, 2);
    r.add(0, TraceSlot::Qkv, k.data(), 2, 1, 1);
    ForwardTrace t = r.finish(std::vector<std::int32_t>{7, 8}, std::vector<float>{0.5f});
    EXPECT_EQ(t.layers[0][TraceSlot::Qkv].count, 6u);
    EXPECT_EQ(t.layers[0].last(TraceSlot::Qkv).count, 3u);
    const std::vector<float> last(t.layers[0].values(TraceSlot::Qkv).begin(), t.layers[0].values(TraceSlot::Qkv).end());
    EXPECT_EQ(last, (std::vector<float>{3, 4, 6}));
    EXPECT_FLOAT_EQ(t.layers[0][TraceSlot::Qkv].mean, 3.5f);
    EXPECT_EQ(t.layers[0][TraceSlot::AttnNorm].count, 0u);
    r.begin();
    t = r.finish({}, {});
    EXPECT_EQ(t.layers[0][TraceSlot::Qkv].count, 0u);
    EXPECT_TRUE(t.layers[0].values(TraceSlot::Qkv).empty());
    EXPECT_THROW(r.add(1, TraceSlot::Qkv, q.data(), 1, 1, 1), UsageError);
}

TEST(TraceSlots, NamesInOrder) {
    std::vector<std::string> names;
    for (TraceSlot s : all_trace_slots()) names.emplace_back(slot_name(s));
    EXPECT_EQ(names, (std::vector<std::string>{"attn_norm", "qkv", "attn_out", "ffn_norm", "ffn_gate", "ffn_up",
                                               "ffn_silu_gate", "ffn_swiglu_inner", "ffn_out", "output"}));
}

}  // namespace
}  // namespace parity
