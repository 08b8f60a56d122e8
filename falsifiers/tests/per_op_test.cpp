// per_op on hand-built stage dumps (no model, no forward pass): the first red row in forward
// order is named as `STAGE layer N`, a downstream red row never is, one-sided stages are listed
// as not compared, and a length mismatch scores cosine 0.

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "falsifiers/falsifier.h"

namespace parity::falsifiers {
namespace {

ParamNode S(const std::string& text) { return ParamNode::scalar(text); }
ParamNode L(std::initializer_list<std::string> items) {
    std::vector<ParamNode> v;
    for (const auto& i : items) v.push_back(S(i));
    return ParamNode::sequence(std::move(v));
}
ParamNode block(std::vector<std::pair<std::string, ParamNode>> members) {
    std::vector<ParamMember> m;
    for (auto& [k, v] : members) m.push_back(ParamMember{k, {}, std::move(v)});
    return ParamNode::mapping(std::move(m));
}

std::shared_ptr<Falsifier> bind(std::vector<std::pair<std::string, ParamNode>> extra = {}) {
    static const Registry reg = [] {
        Registry r = Registry::with_builtin_specs();
        attach_builtin_falsifiers(r);
        return r;
    }();
    std::vector<std::pair<std::string, ParamNode>> members = {{"falsifier", S("per_op")}, {"paths", L({"a", "b"})},
                                                              {"min_cosine", S("0.999")}};
    for (auto& e : extra) members.push_back(std::move(e));
    const CheckResult cr = reg.check(block(std::move(members)));
    EXPECT_TRUE(cr.ok()) << (cr.ok() ? "" : cr.issues.front().message);
    return make_falsifier(reg, cr.params);
}

constexpr int kLayers = 3;
constexpr int kPositions = 4;
constexpr int kWidth = 8;

/// A dump of every upstream stage at every position, smooth distinct values.
StageDump make_dump() {
    StageDump d;
    for (int s = 0; s < static_cast<int>(aprt::kStageNames.size()); ++s) {  // upstream's 19, as an external engine writes
        const auto stage = static_cast<Stage>(s);
        const bool whole = stage == Stage::Embedding || stage == Stage::FinalNorm || stage == Stage::LmHead;
        for (int layer = whole ? -1 : 0; layer < (whole ? 0 : kLayers); ++layer) {
            std::vector<float> v(kPositions * kWidth);
            for (std::size_t i = 0; i < v.size(); ++i) {
                v[i] = std::sin(0.3f * static_cast<float>(i + 1) + 0.7f * static_cast<float>(s) +
                                1.3f * static_cast<float>(layer + 1));
            }
            d.add(stage, layer, 0, v, kWidth);
        }
    }
    return d;
}

/// Multiplies element 0 of every position of one series by `f` (a local change of direction).
void perturb(StageDump& d, const std::string& stage, std::uint32_t layer, float f) {
    const StageDump::Series series = *d.find({stage, layer});
    for (std::uint32_t p = 0; p < series.size(); ++p) {
        std::vector<float> v = series[p];
        v[0] = v[0] * f + 1.0f;
        d.set({stage, layer}, p, std::move(v));
    }
}

class DumpEvidence final : public Evidence {
public:
    std::map<std::string, StageDump> dumps;
    const ModelConfig& config(const std::string&) override { throw std::runtime_error("no config"); }
    std::vector<std::int32_t> input(const std::string&, const InputRequest&) override { return {5, 6, 7, 8}; }
    const ForwardTrace& trace(const std::string&, std::span<const std::int32_t>, std::optional<ForwardMode>) override {
        throw std::runtime_error("no trace");
    }
    const std::vector<float>& logits(const std::string&, std::span<const std::int32_t>) override {
        throw std::runtime_error("no logits");
    }
    const Generation& generate(const std::string&, std::span<const std::int32_t>, int) override {
        throw std::runtime_error("no generation");
    }
    std::filesystem::path resolve_file(const std::string& name) override { return name; }
    const StageDump& stages(const std::string& path, std::span<const std::int32_t> tokens) override {
        EXPECT_EQ(tokens.size(), static_cast<std::size_t>(kPositions));
        return dumps.at(path);
    }
};

const reports::LayerMetric* row(const reports::TestResult& r, const std::string& stage, int layer) {
    for (const auto& m : r.per_layer) {
        if (m.slot == stage && m.layer == layer) return &m;
    }
    return nullptr;
}

TEST(PerOp, IdenticalDumpsPassWithTheWholeTable) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    const auto r = bind()->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    // 3 whole-model rows + 16 per-layer stages x 3 layers, in forward order.
    ASSERT_EQ(r.per_layer.size(), 3u + 16u * kLayers);
    EXPECT_EQ(r.per_layer.front().slot, "embedding");
    EXPECT_EQ(r.per_layer[1].slot, "attn_norm");
    EXPECT_EQ(r.per_layer[1].layer, 0);
    EXPECT_EQ(r.per_layer[16].slot, "layer_output");
    EXPECT_EQ(r.per_layer[17].slot, "attn_norm");
    EXPECT_EQ(r.per_layer[17].layer, 1);
    EXPECT_EQ(r.per_layer[r.per_layer.size() - 2].slot, "final_norm");
    EXPECT_EQ(r.per_layer.back().slot, "lm_head");
    EXPECT_EQ(r.per_layer.back().layer, -1);
    for (const auto& m : r.per_layer) {
        EXPECT_DOUBLE_EQ(m.value, 1.0) << m.slot;
        ASSERT_EQ(m.details.size(), 3u);
        EXPECT_EQ(m.details[2].second, static_cast<double>(kPositions));
    }
    EXPECT_TRUE(r.notes.empty());
}

TEST(PerOp, OneScaledStageOfOneLayerIsNamedExactly) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    perturb(ev.dumps["b"], "ffn_gate", 2, 3.0f);
    const auto r = bind()->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    ASSERT_TRUE(r.first_failure);
    EXPECT_EQ(r.first_failure->slot, "ffn_gate");
    EXPECT_EQ(r.first_failure->layer, 2);
    EXPECT_NE(r.message.find("first divergence: ffn_gate layer 2 ("), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("1 of 51 rows red"), std::string::npos) << r.message;
    const auto* red = row(r, "ffn_gate", 2);
    ASSERT_NE(red, nullptr);
    EXPECT_FALSE(red->pass);
    EXPECT_LT(red->value, 0.999);
    EXPECT_TRUE(row(r, "ffn_gate", 1)->pass);
    EXPECT_TRUE(row(r, "ffn_up", 2)->pass);
}

TEST(PerOp, NeverNamesADownstreamRow) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    perturb(ev.dumps["b"], "lm_head", aprt::kWholeModelLayer, 5.0f);
    perturb(ev.dumps["b"], "post_ffn_residual", 2, 5.0f);
    perturb(ev.dumps["b"], "ffn_swigl", 1, 5.0f);
    const auto r = bind()->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->slot, "ffn_swigl");
    EXPECT_EQ(r.first_failure->layer, 1);
    EXPECT_NE(r.message.find("3 of 51 rows red"), std::string::npos) << r.message;
}

TEST(PerOp, MaxAbsAloneCanFail) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    // The same direction, 1% longer: cosine 1, |delta| up to 0.01.
    const StageDump::Series s = *ev.dumps["b"].find({"attn_out", 0});
    for (std::uint32_t p = 0; p < s.size(); ++p) {
        std::vector<float> v = s[p];
        for (float& x : v) x *= 1.01f;
        ev.dumps["b"].set({"attn_out", 0}, p, std::move(v));
    }
    EXPECT_EQ(bind()->run(ev).status, reports::Status::Pass);
    const auto r = bind({{"max_abs", S("0.001")}})->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->slot, "attn_out");
    EXPECT_EQ(r.first_failure->layer, 0);
    EXPECT_NE(r.message.find("max |delta|"), std::string::npos) << r.message;
}

TEST(PerOp, AStageOnOneSideOnlyIsListedAsNotCompared) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    StageDump b;
    for (const auto& [key, series] : ev.dumps["a"].series()) {
        if (key.stage == "qkv_matmul") continue;  // b never dumps it
        for (std::uint32_t p = 0; p < series.size(); ++p) b.set(key, p, series[p]);
    }
    ev.dumps["b"] = std::move(b);
    const auto r = bind()->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(r.per_layer.size(), 3u + 15u * kLayers);
    EXPECT_EQ(row(r, "qkv_matmul", 0), nullptr);
    ASSERT_EQ(r.notes.size(), static_cast<std::size_t>(kLayers));
    EXPECT_EQ(r.notes[0], "not compared: qkv_matmul layer 0 (only in a)");
    EXPECT_NE(r.message.find("not compared: 3 stage(s) present on one side only"), std::string::npos) << r.message;
}

TEST(PerOp, EveryStageOneSidedIsUnmeasured) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = StageDump();
    ev.dumps["b"].set({"made_up_stage", 0}, 0, {1.0f});
    const auto r = bind()->run(ev);
    EXPECT_EQ(r.status, reports::Status::Unmeasured);
    EXPECT_FALSE(r.first_failure);
    EXPECT_TRUE(r.per_layer.empty());
    EXPECT_NE(r.message.find("nothing compared: no selected stage is present on both a and b"), std::string::npos)
        << r.message;
    // Every selected stage of a is listed as not compared (b's one stage is no upstream stage).
    EXPECT_EQ(r.notes.size(), 3u + 16u * kLayers);
    EXPECT_NE(std::find(r.notes.begin(), r.notes.end(), "not compared: ffn_gate layer 2 (only in a)"), r.notes.end());
}

TEST(PerOp, OneSharedStageIsMeasured) {
    // The same one-sided trees plus a single stage on both sides: measured, and it passes.
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = StageDump();
    const StageDump::Series& shared = *ev.dumps["a"].find({"ffn_up", 1});
    for (std::uint32_t p = 0; p < shared.size(); ++p) ev.dumps["b"].set({"ffn_up", 1}, p, shared[p]);
    const auto r = bind()->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    ASSERT_EQ(r.per_layer.size(), 1u);
    EXPECT_EQ(r.per_layer[0].slot, "ffn_up");
}

TEST(PerOp, ALengthMismatchScoresCosineZero) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    std::vector<float> shorter = ev.dumps["b"].find({"attention", 1})->at(2);
    shorter.pop_back();
    ev.dumps["b"].set({"attention", 1}, 2, shorter);
    const auto r = bind()->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->slot, "attention");
    EXPECT_EQ(r.first_failure->layer, 1);
    const auto* m = row(r, "attention", 1);
    EXPECT_EQ(m->value, 0.0);
    EXPECT_EQ(m->details[1].second, 2.0);  // the worst position
}

TEST(PerOp, EveryStageOfAnotherWidthIsAnErrorNotARow) {
    // What a concatenated tree written for another number of positions reads as: every row
    // split to the wrong width.
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    StageDump narrow;
    for (const auto& [key, series] : ev.dumps["a"].series()) {
        for (std::uint32_t p = 0; p < series.size(); ++p) {
            narrow.set(key, p, std::vector<float>(series[p].begin(), series[p].begin() + kWidth / 2));
        }
    }
    ev.dumps["b"] = narrow;
    try {
        bind()->run(ev);
        ADD_FAILURE() << "every stage of another width must throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("every stage differs in width (embedding: 8 values per position in a, 4 in b)"),
                  std::string::npos)
            << e.what();
    }
}

TEST(PerOp, StagesAndPositionsSelectRows) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    // Position 3 only of ffn_up layer 0 differs.
    std::vector<float> v = ev.dumps["b"].find({"ffn_up", 0})->at(3);
    v[1] = -v[1] * 4.0f + 2.0f;
    ev.dumps["b"].set({"ffn_up", 0}, 3, v);
    const auto only = bind({{"stages", L({"ffn_up", "lm_head"})}, {"positions", L({"0", "1"})}})->run(ev);
    EXPECT_EQ(only.status, reports::Status::Pass) << only.message;
    EXPECT_EQ(only.per_layer.size(), static_cast<std::size_t>(kLayers) + 1u);
    const auto all = bind({{"stages", L({"ffn_up"})}})->run(ev);
    ASSERT_EQ(all.status, reports::Status::Fail);
    EXPECT_EQ(row(all, "ffn_up", 0)->details[1].second, 3.0);
}

// With an arbiter, each row says how far each side is from it; the faulty side is named.
TEST(PerOp, TheArbiterNamesTheFaultySide) {
    DumpEvidence ev;
    ev.dumps["a"] = make_dump();
    ev.dumps["b"] = make_dump();
    ev.dumps["f64"] = make_dump();
    perturb(ev.dumps["b"], "ffn_gate", 2, 3.0f);
    const auto r = bind({{"arbiter", S("f64")}})->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->slot, "ffn_gate");
    EXPECT_NE(r.message.find("arbiter f64 sides with a: max |delta| 0 vs"), std::string::npos) << r.message;
    const auto* red = row(r, "ffn_gate", 2);
    ASSERT_NE(red, nullptr);
    ASSERT_EQ(red->details.size(), 5u);
    EXPECT_EQ(red->details[3].first, "arbiter_max_abs_a");
    EXPECT_EQ(red->details[3].second, 0.0);
    EXPECT_GT(red->details[4].second, 0.1);

    // The fault on the other side.
    ev.dumps["a"] = ev.dumps["b"];
    ev.dumps["b"] = make_dump();
    const auto s = bind({{"arbiter", S("f64")}})->run(ev);
    ASSERT_EQ(s.status, reports::Status::Fail);
    EXPECT_NE(s.message.find("arbiter f64 sides with b: max |delta| 0 vs"), std::string::npos) << s.message;
}

}  // namespace
}  // namespace parity::falsifiers
