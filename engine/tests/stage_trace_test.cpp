// trace_from_stages: the trace a stage dump implies equals the trace our engine records for the
// same forward pass (same counts, statistics to float rounding, identical last-token values).

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/model/model.h"
#include "engine/quant/file_type.h"
#include "engine/runtime/forward.h"
#include "engine/synth/synth.h"
#include "engine/trace/stage_trace.h"
#include "test_support.h"

namespace parity {
namespace {

TEST(StageTrace, EqualsTheEnginesTraceOfTheSamePass) {
    testing::TempDir dir;
    const std::string path = (dir / "tiny.gguf").string();
    synth::write_gguf(synth::preset("qwen2", "tiny"), 42, FileType::ALL_F32, path);
    const Model model = Model::load(path);
    SessionOptions so;
    so.threads = 2;
    auto session = create_session(model, so);
    const std::vector<std::int32_t> tokens = {11, 22, 33, 44, 55};
    const ForwardTrace ours = trace_forward(*session, tokens, ForwardMode::FullSequence, /*keep_values=*/true);
    StageDump dump;
    dump_stages(*session, tokens, ForwardMode::FullSequence, dump);
    EXPECT_EQ(dump_layer_count(dump), model.config().n_layers);
    const ForwardTrace theirs = trace_from_stages(dump, tokens, model.config().n_layers);

    ASSERT_EQ(theirs.layers.size(), ours.layers.size());
    EXPECT_EQ(theirs.embed.count, ours.embed.count);
    EXPECT_EQ(theirs.final_norm.count, ours.final_norm.count);
    EXPECT_EQ(theirs.logits, ours.logits);
    for (std::size_t l = 0; l < ours.layers.size(); ++l) {
        for (TraceSlot s : all_trace_slots()) {
            const ActivationStats& a = theirs.layers[l][s];
            const ActivationStats& b = ours.layers[l][s];
            const std::string where = "layer " + std::to_string(l) + " " + std::string(slot_name(s));
            EXPECT_EQ(a.count, b.count) << where;
            EXPECT_NEAR(a.mean, b.mean, 1e-6 * (std::fabs(b.mean) + b.std_dev)) << where;
            EXPECT_NEAR(a.std_dev, b.std_dev, 1e-6 * b.std_dev) << where;
            EXPECT_EQ(a.min, b.min) << where;
            EXPECT_EQ(a.max, b.max) << where;
            const auto va = theirs.layers[l].values(s), vb = ours.layers[l].values(s);
            EXPECT_EQ(std::vector<float>(va.begin(), va.end()), std::vector<float>(vb.begin(), vb.end())) << where;
        }
    }
}

TEST(StageTrace, AMissingPositionIsAnError) {
    StageDump dump;
    dump.set({"attn_norm", 0}, 0, {1.0f, 2.0f});
    const std::vector<std::int32_t> tokens = {1, 2};
    try {
        trace_from_stages(dump, tokens, 1);
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("attn_norm layer 0 has no values at position 1 of 2"), std::string::npos)
            << e.what();
    }
}

TEST(StageTrace, AStageTheDumpLacksLeavesItsSlotEmpty) {
    StageDump dump;
    dump.set({"attn_norm", 0}, 0, {1.0f, 3.0f});
    const std::vector<std::int32_t> tokens = {7};
    const ForwardTrace t = trace_from_stages(dump, tokens, 1);
    EXPECT_EQ(t.layers[0][TraceSlot::AttnNorm].count, 2u);
    EXPECT_DOUBLE_EQ(t.layers[0][TraceSlot::AttnNorm].mean, 2.0);
    EXPECT_EQ(t.layers[0][TraceSlot::FfnOut].count, 0u);
    EXPECT_TRUE(t.logits.empty());
}

}  // namespace
}  // namespace parity
