// The nine falsifiers on hand-built traces (no model, no forward pass): each passes on agreeing
// evidence and fails on a planted difference, naming the first failing layer and slot.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "falsifiers/falsifier.h"
#include "falsifiers/metrics.h"
#include "test_support.h"

namespace parity::falsifiers {
namespace {

// ---------------------------------------------------------------------------------------------
// Bindings as ParamNode trees.

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

const Registry& registry() {
    static const Registry r = [] {
        Registry reg = Registry::with_builtin_specs();
        attach_builtin_falsifiers(reg);
        return reg;
    }();
    return r;
}

std::shared_ptr<Falsifier> bind(const ParamNode& b) {
    const CheckResult cr = registry().check(b);
    EXPECT_TRUE(cr.ok()) << (cr.ok() ? "" : cr.issues.front().message);
    return make_falsifier(registry(), cr.params);
}

// ---------------------------------------------------------------------------------------------
// Hand-built traces.

constexpr int kLayers = 4;
constexpr int kDim = 16;
constexpr int kVocab = 32;

float value(int layer, int slot, int token, int i) {
    return std::sin(0.37f * static_cast<float>(i + 1) + 0.11f * static_cast<float>(layer * 10 + slot) +
                    0.05f * static_cast<float>(token)) *
           (1.0f + 0.1f * static_cast<float>(slot));
}

/// A trace of n_tokens tokens; full: every position traced (full_sequence), else only the last.
ForwardTrace make_trace(int n_tokens, bool full, int n_layers = kLayers) {
    ForwardTrace t;
    for (int i = 0; i < n_tokens; ++i) t.input_tokens.push_back(100 + i);
    const int first = full ? 0 : n_tokens - 1;
    StatsAccumulator embed;
    for (int l = 0; l < n_layers; ++l) {
        LayerActivation la;
        la.layer_idx = l;
        for (int s = 0; s < kTraceSlotCount; ++s) {
            StatsAccumulator whole;
            std::vector<float> row(kDim);
            for (int tok = first; tok < n_tokens; ++tok) {
                for (int i = 0; i < kDim; ++i) row[static_cast<std::size_t>(i)] = value(l, s, tok, i);
                whole.add(row);
            }
            la.slots[static_cast<std::size_t>(s)] = whole.finish();
            la.last_token[static_cast<std::size_t>(s)] = compute_stats(row);
            la.last_token_values[static_cast<std::size_t>(s)] = row;
        }
        t.layers.push_back(std::move(la));
    }
    std::vector<float> e(static_cast<std::size_t>((n_tokens - first) * kDim), 0.5f);
    t.embed = compute_stats(e);
    t.final_norm = compute_stats(e);
    for (int v = 0; v < kVocab; ++v) t.logits.push_back(std::cos(0.3f * static_cast<float>(v)) * 3.0f);
    t.logits_stats = compute_stats(t.logits);
    return t;
}

/// Multiplies one slot of one layer (values and both statistics) by `scale`.
void scale_slot(ForwardTrace& t, int layer, TraceSlot slot, float scale) {
    auto& la = t.layers[static_cast<std::size_t>(layer)];
    const auto s = static_cast<std::size_t>(slot);
    for (auto& v : la.last_token_values[s]) v *= scale;
    la.last_token[s] = compute_stats(la.last_token_values[s]);
    la.slots[s].std_dev *= scale;
    la.slots[s].mean *= scale;
}

ModelConfig make_config(int n_layers = kLayers) {
    ModelConfig c;
    c.arch = "qwen2";
    c.n_layers = n_layers;
    c.n_embd = kDim;
    c.n_vocab = kVocab;
    return c;
}

class FakeEvidence final : public Evidence {
public:
    std::map<std::string, ModelConfig> configs;
    std::map<std::string, ForwardTrace> traces;  // the path's own mode
    std::map<std::string, ForwardTrace> full;    // prefill_vs_decode: full_sequence
    std::map<std::string, ForwardTrace> inc;     // prefill_vs_decode: incremental
    std::map<std::string, std::vector<float>> all_logits;
    std::map<std::string, Generation> generations;
    std::filesystem::path dir;
    int trace_calls = 0;

    void add(const std::string& path, ForwardTrace t) {
        configs[path] = make_config(static_cast<int>(t.layers.size()));
        traces[path] = std::move(t);
    }
    const ModelConfig& config(const std::string& path) override { return configs.at(path); }
    std::vector<std::int32_t> input(const std::string& path, const InputRequest& req) override {
        if (req.tokens) return *req.tokens;
        if (traces.count(path)) return traces.at(path).input_tokens;
        return {1, 2, 3};
    }
    const ForwardTrace& trace(const std::string& path, std::span<const std::int32_t>,
                              std::optional<ForwardMode> mode) override {
        ++trace_calls;
        if (mode == ForwardMode::FullSequence) return full.at(path);
        if (mode == ForwardMode::Incremental) return inc.at(path);
        return traces.at(path);
    }
    const std::vector<float>& logits(const std::string& path, std::span<const std::int32_t>) override {
        return all_logits.at(path);
    }
    const Generation& generate(const std::string& path, std::span<const std::int32_t>, int) override {
        return generations.at(path);
    }
    std::filesystem::path resolve_file(const std::string& name) override { return dir / name; }
    std::optional<ContractFindings> findings;  // unset: the default (no contract)
    ContractFindings contract_findings() override { return findings ? *findings : Evidence::contract_findings(); }
};

// ---------------------------------------------------------------------------------------------
// sample_count_parity

TEST(SampleCountParity, PassesOnEqualSamplesAndFailsOnFullVsLastToken) {
    FakeEvidence ev;
    ev.add("apr", make_trace(8, /*full=*/true));
    ev.add("gguf", make_trace(8, /*full=*/false));
    // last_token: both dim elements -> pass.
    auto ok = bind(block({{"falsifier", S("sample_count_parity")}, {"paths", L({"apr", "gguf"})}, {"sample", S("last_token")}}));
    const auto r = ok->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_FALSE(r.first_failure.has_value());
    // full: apr counts 8 x dim, gguf dim -> fail at the first slot in trace order.
    auto bad = bind(block({{"falsifier", S("sample_count_parity")}, {"paths", L({"apr", "gguf"})}, {"sample", S("full")},
                           {"slots", L({"attn_norm", "ffn_swiglu_inner"})}}));
    const auto f = bad->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    ASSERT_TRUE(f.first_failure.has_value());
    EXPECT_EQ(f.first_failure->layer, 0);
    EXPECT_EQ(f.first_failure->slot, "attn_norm");
    EXPECT_NE(f.first_failure->detail.find("count 128 (apr) vs 16 (gguf)"), std::string::npos) << f.first_failure->detail;
    ASSERT_EQ(f.per_layer.size(), 8u);  // 4 layers x 2 slots
    EXPECT_DOUBLE_EQ(f.per_layer[0].value, 8.0);
    EXPECT_EQ(f.per_layer[0].lo, 1.0);
}

TEST(SampleCountParity, ModelLevelSlotsComeFirstAndLast) {
    FakeEvidence ev;
    ev.add("a", make_trace(8, true));
    ev.add("b", make_trace(8, false));
    auto f = bind(block({{"falsifier", S("sample_count_parity")}, {"paths", L({"a", "b"})}, {"sample", S("full")}}));
    const auto r = f->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->layer, -1);
    EXPECT_EQ(r.first_failure->slot, "embed");
    EXPECT_EQ(r.per_layer.size(), 43u);  // embed, 40 layer slots, final_norm, logits
    EXPECT_EQ(r.per_layer.back().slot, "logits");
    EXPECT_TRUE(r.per_layer.back().pass);  // logits always cover the last position
}

TEST(SampleCountParity, UntracedSlotFails) {
    FakeEvidence ev;
    ev.add("a", make_trace(4, false));
    ev.add("b", make_trace(4, false));
    ev.traces["a"].layers[2].last_token[3] = ActivationStats{};
    ev.traces["b"].layers[2].last_token[3] = ActivationStats{};
    auto f = bind(block({{"falsifier", S("sample_count_parity")}, {"paths", L({"a", "b"})}, {"sample", S("last_token")}}));
    const auto r = f->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.first_failure->layer, 2);
    EXPECT_EQ(r.first_failure->slot, "ffn_norm");
}

// ---------------------------------------------------------------------------------------------
// stat_ratio_band

std::shared_ptr<Falsifier> ratio_binding(const std::string& lo = "0.5", const std::string& hi = "2.0",
                                         const std::string& slot = "ffn_swiglu_inner") {
    return bind(block({{"falsifier", S("stat_ratio_band")},
                       {"paths", L({"apr", "gguf"})},
                       {"sample", S("last_token")},
                       {"slot", S(slot)},
                       {"stat", S("std_dev")},
                       {"band", L({lo, hi})}}));
}

TEST(StatRatioBand, PassesAndFailsNamingTheLayer) {
    FakeEvidence ev;
    ev.add("apr", make_trace(7, true));
    ev.add("gguf", make_trace(7, false));
    const auto r = ratio_binding()->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    ASSERT_EQ(r.per_layer.size(), 4u);
    for (const auto& row : r.per_layer) EXPECT_DOUBLE_EQ(row.value, 1.0);

    scale_slot(ev.traces["gguf"], 2, TraceSlot::FfnSwigluInner, 1.0f / 3.0f);  // apr/gguf = 3 at layer 2
    const auto f = ratio_binding()->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 2);
    EXPECT_EQ(f.first_failure->slot, "ffn_swiglu_inner");
    EXPECT_NEAR(f.per_layer[2].value, 3.0, 1e-5);
    EXPECT_TRUE(f.per_layer[3].pass);
    EXPECT_NE(f.message.find("1 of 4 layers"), std::string::npos) << f.message;
}

TEST(StatRatioBand, BoundsAreInclusive) {
    FakeEvidence ev;
    ev.add("apr", make_trace(2, false));
    ev.add("gguf", make_trace(2, false));
    for (int l = 0; l < kLayers; ++l) {
        ev.traces["apr"].layers[static_cast<std::size_t>(l)].last_token[7].std_dev = 2.0f;
        ev.traces["gguf"].layers[static_cast<std::size_t>(l)].last_token[7].std_dev = 1.0f;
    }
    EXPECT_EQ(ratio_binding()->run(ev).status, reports::Status::Pass);  // exactly 2.0 passes
    ev.traces["apr"].layers[1].last_token[7].std_dev = std::nextafter(2.0f, 3.0f);
    const auto f = ratio_binding()->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 1);
}

TEST(StatRatioBand, UndefinedRatioFailsNamingTheLayer) {
    FakeEvidence ev;
    ev.add("apr", make_trace(2, false));
    ev.add("gguf", make_trace(2, false));
    ev.traces["gguf"].layers[3].last_token[7].std_dev = 0.0f;
    const auto f = ratio_binding()->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 3);
    EXPECT_NE(f.first_failure->detail.find("undefined"), std::string::npos);
    EXPECT_TRUE(std::isnan(f.per_layer[3].value));
}

// A slot with no elements on a path (a stage its dump tree lacks) was never measured there.
TEST(StatRatioBand, AnEmptySlotIsNotMeasured) {
    FakeEvidence ev;
    ev.add("apr", make_trace(2, false));
    ev.add("gguf", make_trace(2, false));
    ev.traces["gguf"].layers[1].last_token[7].count = 0;
    try {
        ratio_binding()->run(ev);
        FAIL() << "no NotMeasured";
    } catch (const NotMeasured& e) {
        EXPECT_STREQ(e.what(), "path gguf has no values for ffn_swiglu_inner in layer 1");
    }
}

TEST(StatRatioBand, OneEntryPerLayerRequired) {
    FakeEvidence ev;
    ev.add("apr", make_trace(2, false));
    ev.add("gguf", make_trace(2, false));
    ev.traces["gguf"].layers.pop_back();  // the model says 4 layers, the trace has 3
    ev.configs["gguf"] = make_config(4);
    const auto f = ratio_binding()->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 3);
    EXPECT_NE(f.message.find("one entry per layer"), std::string::npos) << f.message;
}

TEST(StatRatioBand, DifferentInputsAreAnError) {
    FakeEvidence ev;
    ev.add("apr", make_trace(3, false));
    ev.add("gguf", make_trace(4, false));
    EXPECT_THROW(ratio_binding()->run(ev), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// slot_tolerance

TEST(SlotTolerance, FirstDivergingLayerAndSlotInTraceOrder) {
    FakeEvidence ev;
    ev.add("cuda", make_trace(3, false));
    ev.add("cpu", make_trace(3, false));
    auto b = bind(block({{"falsifier", S("slot_tolerance")},
                         {"paths", L({"cuda", "cpu"})},
                         {"slots", S("all")},
                         {"atol", S("1e-4")},
                         {"rtol", S("1e-3")}}));
    const auto r = b->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(r.per_layer.size(), 41u);  // 40 layer slots + logits (embed, final_norm have no values)

    // Tiny noise within tolerance in layer 0, a real difference in layer 1 ffn_up and layer 2 qkv.
    ev.traces["cuda"].layers[0].last_token_values[1][3] += 1e-5f;
    ev.traces["cuda"].layers[1].last_token_values[5][7] += 0.01f;
    ev.traces["cuda"].layers[2].last_token_values[1][0] += 0.5f;
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 1);
    EXPECT_EQ(f.first_failure->slot, "ffn_up");
    EXPECT_NE(f.first_failure->detail.find("element 7"), std::string::npos) << f.first_failure->detail;
    EXPECT_NE(f.message.find("2 of 41"), std::string::npos) << f.message;
}

TEST(SlotTolerance, NanAndNmse) {
    FakeEvidence ev;
    ev.add("a", make_trace(3, false));
    ev.add("b", make_trace(3, false));
    ev.traces["a"].layers[3].last_token_values[9][0] = std::numeric_limits<float>::quiet_NaN();
    auto nmse = bind(block({{"falsifier", S("slot_tolerance")}, {"paths", L({"a", "b"})}, {"slot", S("output")}, {"nmse", S("1e-6")}}));
    const auto f = nmse->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 3);
    EXPECT_EQ(f.first_failure->slot, "output");
    EXPECT_NE(f.first_failure->detail.find("NaN"), std::string::npos);
}

TEST(SlotTolerance, NamedSlotWithoutValuesIsAnError) {
    FakeEvidence ev;
    ev.add("a", make_trace(3, false));
    ev.add("b", make_trace(3, false));
    auto b = bind(block({{"falsifier", S("slot_tolerance")}, {"paths", L({"a", "b"})}, {"slot", S("embed")}, {"atol", S("1")}}));
    EXPECT_THROW(b->run(ev), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// finite

TEST(Finite, FirstNonFiniteLayerAndSlot) {
    FakeEvidence ev;
    ev.add("gguf", make_trace(5, true));
    auto b = bind(block({{"falsifier", S("finite")}, {"path", S("gguf")}}));
    EXPECT_EQ(b->run(ev).status, reports::Status::Pass);
    ev.traces["gguf"].layers[2].slots[1].nan_count = 3;
    ev.traces["gguf"].layers[3].slots[0].inf_count = 1;
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 2);
    EXPECT_EQ(f.first_failure->slot, "qkv");
    EXPECT_NE(f.first_failure->detail.find("3 NaN"), std::string::npos);
}

TEST(Finite, PresenceOfEveryLayer) {
    FakeEvidence ev;
    ev.add("gguf", make_trace(5, false));
    auto b = bind(block({{"falsifier", S("finite")}, {"path", S("gguf")}, {"slots", L({"ffn_swiglu_inner"})}, {"sample", S("last_token")}}));
    const auto ok = b->run(ev);
    EXPECT_EQ(ok.status, reports::Status::Pass);
    EXPECT_EQ(ok.per_layer.size(), 4u);
    ev.traces["gguf"].layers[1].last_token[7] = ActivationStats{};  // not traced
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 1);
    ev.traces["gguf"].layers.resize(2);
    const auto g = b->run(ev);
    ASSERT_EQ(g.status, reports::Status::Fail);
    EXPECT_EQ(g.first_failure->layer, 2);
}

// ---------------------------------------------------------------------------------------------
// logits_agreement

TEST(LogitsAgreement, CosineKlMaxAbsTopK) {
    FakeEvidence ev;
    ev.add("gpu", make_trace(3, false));
    ev.add("cpu", make_trace(3, false));
    auto b = bind(block({{"falsifier", S("logits_agreement")},
                         {"paths", L({"gpu", "cpu"})},
                         {"min_cosine", S("0.999")},
                         {"max_kl", S("0.01")},
                         {"max_abs", S("1.0")},
                         {"top_k", S("5")},
                         {"min_overlap", S("5")}}));
    const auto r = b->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(r.per_layer.size(), 4u);
    // Swap the argmax with a low logit: cosine and top-k fall.
    auto& lg = ev.traces["gpu"].logits;
    const auto top = top_k(lg, 1)[0];
    lg[static_cast<std::size_t>(top)] = -5.0f;
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, -1);
    EXPECT_EQ(f.first_failure->slot, "logits cosine");
}

TEST(LogitsAgreement, AllPositions) {
    FakeEvidence ev;
    ev.add("a", make_trace(2, false));
    ev.add("b", make_trace(2, false));
    std::vector<float> all(2 * kVocab, 1.0f);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = std::sin(static_cast<float>(i));
    ev.all_logits["a"] = all;
    all[kVocab + 3] += 2.0f;  // position 1 differs
    ev.all_logits["b"] = all;
    auto b = bind(block({{"falsifier", S("logits_agreement")}, {"paths", L({"a", "b"})}, {"positions", S("all")}, {"max_abs", S("0.5")}}));
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->slot, "logits[1] max |delta|");
    EXPECT_TRUE(f.per_layer[0].pass);
}

/// The value of a row's detail, or NaN.
double detail(const reports::LayerMetric& m, const std::string& name) {
    for (const auto& [k, v] : m.details) {
        if (k == name) return v;
    }
    return NAN;
}

double metric(const reports::TestResult& r, const std::string& name) {
    for (const auto& [k, v] : r.metrics) {
        if (k == name) return v;
    }
    return NAN;
}

// An arbiter path names the faulty side: the candidate's logits are off, the arbiter holds the
// reference's values, so every row sides with the reference.
TEST(LogitsAgreement, TheArbiterNamesTheFaultySide) {
    FakeEvidence ev;
    ev.add("gpu", make_trace(3, false));
    ev.add("cpu", make_trace(3, false));
    ev.add("f64", make_trace(3, false));
    ev.traces["f64"].logits[4] += 1e-6f;  // the arbiter is near the reference, not equal
    ev.traces["gpu"].logits[7] += 0.75f;
    auto b = bind(block({{"falsifier", S("logits_agreement")},
                         {"paths", L({"gpu", "cpu"})},
                         {"max_abs", S("0.5")},
                         {"arbiter", S("f64")}}));
    EXPECT_EQ(b->paths(), (std::vector<std::string>{"gpu", "cpu", "f64"}));
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    ASSERT_EQ(f.per_layer.size(), 1u);
    EXPECT_NEAR(detail(f.per_layer[0], "arbiter_max_abs_a"), 0.75, 1e-5);
    EXPECT_NEAR(detail(f.per_layer[0], "arbiter_max_abs_b"), 1e-6, 1e-7);
    EXPECT_EQ(metric(f, "rows_closer_b"), 1.0);
    EXPECT_EQ(metric(f, "rows_closer_a"), 0.0);
    EXPECT_NE(f.message.find("arbiter f64 sides with cpu"), std::string::npos) << f.message;

    // The same fault on the reference side: the arbiter now sides with the candidate.
    ev.traces["gpu"].logits[7] -= 0.75f;
    ev.traces["cpu"].logits[7] += 0.75f;
    const auto g = b->run(ev);
    ASSERT_EQ(g.status, reports::Status::Fail);
    EXPECT_NE(g.message.find("arbiter f64 sides with gpu"), std::string::npos) << g.message;
}

// slot_tolerance rows carry the arbiter's distances too; the first failing row's verdict is in
// the message.
TEST(SlotTolerance, TheArbiterNamesTheFaultySide) {
    FakeEvidence ev;
    ev.add("cuda", make_trace(3, false));
    ev.add("cpu", make_trace(3, false));
    ev.add("f64", make_trace(3, false));
    ev.traces["cpu"].layers[1].last_token_values[5][7] += 0.01f;
    auto b = bind(block({{"falsifier", S("slot_tolerance")},
                         {"paths", L({"cuda", "cpu"})},
                         {"slots", S("all")},
                         {"atol", S("1e-4")},
                         {"arbiter", S("f64")}}));
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 1);
    EXPECT_EQ(f.first_failure->slot, "ffn_up");
    EXPECT_NE(f.message.find("arbiter f64 sides with cuda: max |delta| 0 vs"), std::string::npos) << f.message;
    EXPECT_EQ(metric(f, "rows_closer_a"), 1.0);
    EXPECT_EQ(metric(f, "rows_closer_b"), 0.0);
}

// ---------------------------------------------------------------------------------------------
// greedy_tokens_agree, output_matches

Generation gen(std::vector<std::int32_t> ids, std::string text) {
    Generation g;
    g.tokens = std::move(ids);
    for (const auto id : g.tokens) g.pieces.push_back("t" + std::to_string(id));
    g.text = std::move(text);
    return g;
}

TEST(GreedyTokensAgree, ReportsTheFirstDifferingPosition) {
    FakeEvidence ev;
    ev.generations["apr"] = gen({5, 6, 7, 8, 9}, "abc");
    ev.generations["gguf"] = gen({5, 6, 7, 8, 9}, "abc");
    ev.generations["cuda"] = gen({5, 6, 7, 1, 9}, "abx");
    auto same = bind(block({{"falsifier", S("greedy_tokens_agree")}, {"paths", L({"apr", "gguf"})}, {"n_tokens", S("5")}}));
    EXPECT_EQ(same->run(ev).status, reports::Status::Pass);
    auto diff = bind(block({{"falsifier", S("greedy_tokens_agree")}, {"paths", L({"apr", "gguf", "cuda"})}, {"n_tokens", S("5")}}));
    const auto f = diff->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->slot, "generated token 3");
    EXPECT_NE(f.first_failure->detail.find("apr 8"), std::string::npos) << f.first_failure->detail;
    EXPECT_NE(f.first_failure->detail.find("cuda 1"), std::string::npos);
    ASSERT_EQ(f.per_layer.size(), 2u);
    EXPECT_TRUE(f.per_layer[0].pass);
    EXPECT_DOUBLE_EQ(f.per_layer[1].value, 3.0);
}

TEST(OutputMatches, MatchAndMismatch) {
    FakeEvidence ev;
    ev.generations["apr"] = gen({1, 2, 3}, "2 + 2 equals 4");
    ev.generations["gpu"] = gen({1, 2, 3}, "ampiezza = 1");
    auto b = [](const std::string& path) {
        return bind(block({{"falsifier", S("output_matches")}, {"path", S(path)}, {"n_tokens", S("5")}, {"regex", S("equals|4")}}));
    };
    const auto ok = b("apr")->run(ev);
    EXPECT_EQ(ok.status, reports::Status::Pass) << ok.message;
    const auto f = b("gpu")->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->slot, "output text");
    EXPECT_NE(f.message.find("ampiezza"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// prefill_vs_decode

TEST(PrefillVsDecode, ComparesTheTwoModesOfOnePath) {
    FakeEvidence ev;
    ev.configs["gguf"] = make_config();
    ev.full["gguf"] = make_trace(6, true);
    ev.inc["gguf"] = make_trace(6, false);
    auto b = bind(block({{"falsifier", S("prefill_vs_decode")}, {"path", S("gguf")}, {"tokens", L({"1", "2", "3"})}}));
    const auto r = b->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(ev.trace_calls, 2);
    scale_slot(ev.inc["gguf"], 1, TraceSlot::AttnOut, 1.01f);
    const auto f = b->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->layer, 1);
    EXPECT_EQ(f.first_failure->slot, "attn_out");
    EXPECT_NE(f.first_failure->detail.find("incremental vs gguf full_sequence"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// reference_logits

TEST(ReferenceLogits, AgainstAStoredFile) {
    testing::TempDir dir;
    FakeEvidence ev;
    ev.dir = dir.path();
    ev.configs["ref"] = make_config();
    std::vector<float> all(3 * kVocab);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = std::cos(0.1f * static_cast<float>(i));
    ev.all_logits["ref"] = all;
    auto write = [&](const std::string& name, float delta) {
        std::ofstream out(dir / name);
        out << "{\"tokens\": [1, 2, 3], \"nested\": {\"logits_all\": [";
        for (int p = 0; p < 3; ++p) {
            out << (p ? "," : "") << "[";
            for (int v = 0; v < kVocab; ++v) {
                const float x = all[static_cast<std::size_t>(p * kVocab + v)] + (p == 2 && v == 4 ? delta : 0.0f);
                out << (v ? "," : "") << x;
            }
            out << "]";
        }
        out << "]}}";
    };
    write("good.json", 0.0f);
    write("bad.json", 0.01f);
    auto b = [](const std::string& file) {
        return bind(block({{"falsifier", S("reference_logits")},
                           {"path", S("ref")},
                           {"reference", S(file)},
                           {"positions", S("all")},
                           {"atol", S("1e-4")},
                           {"min_cosine", S("0.9999")}}));
    };
    const auto ok = b("good.json#/nested")->run(ev);
    EXPECT_EQ(ok.status, reports::Status::Pass) << ok.message;
    const auto f = b("bad.json#/nested")->run(ev);
    ASSERT_EQ(f.status, reports::Status::Fail);
    EXPECT_EQ(f.first_failure->slot, "logits[2]");
    EXPECT_NE(f.first_failure->detail.find("element 4"), std::string::npos) << f.first_failure->detail;
    const auto s = b("absent.json")->run(ev);
    EXPECT_EQ(s.status, reports::Status::Skipped);
    EXPECT_NE(s.message.find("not found"), std::string::npos);
    EXPECT_THROW(b("good.json#/nope")->run(ev), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------

TEST(RuntimeRegistry, EveryBuiltinHasAnImplementation) {
    for (const auto& spec : runtime_registry().specs()) {
        EXPECT_NE(runtime_registry().factory(spec.name), nullptr) << spec.name;
    }
}

TEST(Metrics, KlDivergenceAndTopK) {
    const std::vector<float> a{1.0f, 2.0f, 3.0f};
    EXPECT_DOUBLE_EQ(kl_divergence(a, a), 0.0);
    const std::vector<float> b{3.0f, 2.0f, 1.0f};
    EXPECT_GT(kl_divergence(a, b), 0.5);
    // softmax is shift-invariant
    EXPECT_NEAR(kl_divergence(std::vector<float>{1001.0f, 1002.0f, 1003.0f}, a), 0.0, 1e-12);
    EXPECT_TRUE(std::isnan(kl_divergence(std::vector<float>{1.0f, NAN, 1.0f}, a)));
    EXPECT_EQ(top_k(std::vector<float>{0.5f, 3.0f, NAN, 3.0f, 1.0f}, 3), (std::vector<std::int64_t>{1, 3, 4}));
    EXPECT_EQ(top_k_overlap(a, b, 1), 0u);
    EXPECT_EQ(top_k_overlap(a, b, 3), 3u);
}

// ---------------------------------------------------------------------------------------------
// contract_valid

TEST(ContractValid, FailsWithTheValidatorsMessagesAndPassesWithoutErrors) {
    FakeEvidence ev;
    auto f = bind(block({{"falsifier", S("contract_valid")}}));
    EXPECT_TRUE(f->paths().empty());
    ev.findings = ContractFindings{"c.yaml", {"[ERROR] SCHEMA-001: c.yaml:2:3: metadata.version is missing",
                                              "[ERROR] HARNESS-004: c.yaml:9:14: unknown path `nowhere`"},
                                   {"[WARN] SCHEMA-009: c.yaml:7:5: if_fails is empty"}};
    const auto r = f->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail);
    EXPECT_EQ(r.message,
              "c.yaml: the validator reports 2 error(s), 1 warning(s): [ERROR] SCHEMA-001: c.yaml:2:3: metadata.version "
              "is missing; [ERROR] HARNESS-004: c.yaml:9:14: unknown path `nowhere`");
    EXPECT_EQ(r.notes.size(), 3u);
    EXPECT_EQ(r.metrics.at(0).second, 2.0);
    EXPECT_EQ(r.metrics.at(1).second, 1.0);

    ev.findings->errors.clear();
    const auto ok = f->run(ev);
    EXPECT_EQ(ok.status, reports::Status::Pass) << ok.message;
    EXPECT_EQ(ok.message, "c.yaml is valid: 0 errors, 1 warning(s) (warnings allowed)");

    auto strict = bind(block({{"falsifier", S("contract_valid")}, {"strict", S("true")}}));
    const auto s = strict->run(ev);
    ASSERT_EQ(s.status, reports::Status::Fail);
    EXPECT_EQ(s.message, "c.yaml: the validator reports 0 error(s), 1 warning(s) (strict): [WARN] SCHEMA-009: c.yaml:7:5: "
                         "if_fails is empty");
    ev.findings->warnings.clear();
    EXPECT_EQ(strict->run(ev).status, reports::Status::Pass);
}

TEST(ContractValid, EvidenceWithoutAContractIsAnError) {
    FakeEvidence ev;
    auto f = bind(block({{"falsifier", S("contract_valid")}}));
    EXPECT_THROW(f->run(ev), std::runtime_error);
}

}  // namespace
}  // namespace parity::falsifiers
