// FaultInjection changes one slot of one layer and everything downstream of it, nothing before.

#include <gtest/gtest.h>

#include "engine/runtime/forward.h"
#include "engine/synth/synth.h"
#include "test_support.h"

namespace parity {
namespace {

ForwardTrace traced(const Model& model, std::vector<FaultInjection> faults) {
    SessionOptions o;
    o.threads = 1;
    o.faults = std::move(faults);
    auto session = create_session(model, o);
    const std::vector<std::int32_t> tokens = {5, 77, 130, 9};
    return trace_forward(*session, tokens, ForwardMode::FullSequence);
}

TEST(FaultInjection, ScalesOneSlotOfOneLayerAndWhatFollows) {
    testing::TempDir dir;
    auto shape = synth::preset("qwen2", "tiny");
    shape.n_layers = 3;
    shape.n_vocab = 300;
    const auto path = (dir / "m.gguf").string();
    synth::write_gguf(shape, 11, FileType::ALL_F32, path);
    const Model model = Model::load(path);

    const ForwardTrace clean = traced(model, {});
    const ForwardTrace hurt = traced(model, {{1, TraceSlot::FfnOut, 4.0f}});
    // Layer 0 and layer 1 before ffn_out are untouched.
    for (TraceSlot s : all_trace_slots()) {
        EXPECT_EQ(hurt.layers[0][s].std_dev, clean.layers[0][s].std_dev) << slot_name(s);
    }
    EXPECT_EQ(hurt.layers[1][TraceSlot::FfnSwigluInner].std_dev, clean.layers[1][TraceSlot::FfnSwigluInner].std_dev);
    // ffn_out of layer 1 is exactly 4x (a power of two scales without rounding).
    EXPECT_DOUBLE_EQ(hurt.layers[1][TraceSlot::FfnOut].std_dev, 4.0 * clean.layers[1][TraceSlot::FfnOut].std_dev);
    EXPECT_DOUBLE_EQ(hurt.layers[1][TraceSlot::FfnOut].mean, 4.0 * clean.layers[1][TraceSlot::FfnOut].mean);
    // ...and it flows on: the layer's output and the next layer differ.
    EXPECT_NE(hurt.layers[1][TraceSlot::Output].std_dev, clean.layers[1][TraceSlot::Output].std_dev);
    EXPECT_NE(hurt.layers[2][TraceSlot::AttnNorm].mean, clean.layers[2][TraceSlot::AttnNorm].mean);
    EXPECT_NE(hurt.logits, clean.logits);
}

TEST(FaultInjection, QkvScalesQueriesKeysAndValues) {
    testing::TempDir dir;
    auto shape = synth::preset("llama", "tiny");
    shape.n_vocab = 300;
    const auto path = (dir / "m.gguf").string();
    synth::write_gguf(shape, 3, FileType::ALL_F32, path);
    const Model model = Model::load(path);
    const ForwardTrace clean = traced(model, {});
    const ForwardTrace hurt = traced(model, {{0, TraceSlot::Qkv, 2.0f}});
    EXPECT_DOUBLE_EQ(hurt.layers[0][TraceSlot::Qkv].std_dev, 2.0 * clean.layers[0][TraceSlot::Qkv].std_dev);
    EXPECT_EQ(hurt.layers[0][TraceSlot::Qkv].count, clean.layers[0][TraceSlot::Qkv].count);
}

}  // namespace
}  // namespace parity
