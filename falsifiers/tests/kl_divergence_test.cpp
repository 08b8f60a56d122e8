// kl_divergence on hand-made logits (no model): which chunks are evaluated, which positions are
// scored (the second half of each chunk, as llama.cpp), BOS at each chunk's start, the statistics
// against closed forms, and the bounds.

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "falsifiers/falsifier.h"
#include "test_support.h"

namespace parity::falsifiers {
namespace {

ParamNode S(const std::string& text) { return ParamNode::scalar(text); }
ParamNode L(std::initializer_list<std::string> items) {
    std::vector<ParamNode> v;
    for (const auto& i : items) v.push_back(S(i));
    return ParamNode::sequence(std::move(v));
}

std::shared_ptr<Falsifier> bind(std::vector<std::pair<std::string, ParamNode>> params) {
    static const Registry reg = [] {
        Registry r = Registry::with_builtin_specs();
        attach_builtin_falsifiers(r);
        return r;
    }();
    std::vector<ParamMember> m = {{"falsifier", {}, S("kl_divergence")}};
    for (auto& [k, v] : params) m.push_back(ParamMember{k, {}, std::move(v)});
    const CheckResult cr = reg.check(ParamNode::mapping(std::move(m)));
    EXPECT_TRUE(cr.ok()) << (cr.ok() ? "" : cr.issues.front().message);
    return make_falsifier(reg, cr.params);
}

constexpr std::size_t kVocab = 16;

/// Path "ref" (and its twin "same") puts logit 2 on token (input id % 16) at every position, 0
/// elsewhere; path "flat" gives every token logit 0. Every logits_once call is recorded.
class LogitsEvidence final : public Evidence {
public:
    std::vector<std::int32_t> corpus = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    std::map<std::string, std::vector<std::int32_t>> other_corpus;  ///< a path that tokenizes differently
    std::optional<std::int32_t> bos;
    std::optional<std::string> last_prompt;
    std::vector<std::pair<std::string, std::vector<std::int32_t>>> calls;
    std::filesystem::path dir;

    const ModelConfig& config(const std::string&) override { throw std::runtime_error("no config"); }
    std::vector<std::int32_t> input(const std::string& path, const InputRequest& req) override {
        if (req.tokens) return *req.tokens;
        if (req.prompt) {
            last_prompt = req.prompt;
            std::vector<std::int32_t> ids;
            for (const char c : *req.prompt) ids.push_back(static_cast<unsigned char>(c) % kVocab);
            return ids;
        }
        if (const auto it = other_corpus.find(path); it != other_corpus.end()) return it->second;
        return corpus;
    }
    const ForwardTrace& trace(const std::string&, std::span<const std::int32_t>, std::optional<ForwardMode>) override {
        throw std::runtime_error("no trace");
    }
    const std::vector<float>& logits(const std::string&, std::span<const std::int32_t>) override {
        throw std::runtime_error("kl_divergence must not keep logits");
    }
    std::vector<float> logits_once(const std::string& path, std::span<const std::int32_t> tokens) override {
        calls.emplace_back(path, std::vector<std::int32_t>(tokens.begin(), tokens.end()));
        std::vector<float> out(tokens.size() * kVocab, 0.0f);
        if (path != "flat") {
            for (std::size_t j = 0; j < tokens.size(); ++j) out[j * kVocab + static_cast<std::size_t>(tokens[j]) % kVocab] = 2.0f;
        }
        return out;
    }
    std::optional<std::int32_t> bos_token(const std::string&) override { return bos; }
    const Generation& generate(const std::string&, std::span<const std::int32_t>, int) override {
        throw std::runtime_error("no generation");
    }
    std::filesystem::path resolve_file(const std::string& name) override { return dir / name; }
};

double metric(const reports::TestResult& r, const std::string& name) {
    for (const auto& [n, v] : r.metrics) {
        if (n == name) return v;
    }
    ADD_FAILURE() << "no metric " << name;
    return std::nan("");
}

TEST(KlDivergence, EvaluatesWholeChunksAndScoresTheirSecondHalves) {
    LogitsEvidence ev;
    // 10 tokens, n_ctx 4: chunks [0..3] and [4..7] (8, 9 make no whole chunk); per chunk only
    // position 2 is scored (n_ctx/2 .. n_ctx-2).
    const auto r = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("4")}, {"max_mean_kld", S("0")}})->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(metric(r, "positions"), 2.0);
    EXPECT_EQ(metric(r, "chunks"), 2.0);
    EXPECT_EQ(metric(r, "mean_kld"), 0.0);
    EXPECT_EQ(metric(r, "same_top_pct"), 100.0);
    EXPECT_EQ(metric(r, "rms_dp_pct"), 0.0);
    const std::vector<std::pair<std::string, std::vector<std::int32_t>>> expected = {
        {"ref", {0, 1, 2, 3}}, {"same", {0, 1, 2, 3}}, {"ref", {4, 5, 6, 7}}, {"same", {4, 5, 6, 7}}};
    EXPECT_EQ(ev.calls, expected);
    ASSERT_EQ(r.per_layer.size(), 1u);
    EXPECT_EQ(r.per_layer[0].slot, "KLD mean");
    EXPECT_EQ(r.per_layer[0].layer, -1);

    // n_ctx 5: positions 2 and 3 of each chunk; n_chunks caps the chunks.
    const auto five = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("5")}, {"max_kld", S("0")}})->run(ev);
    EXPECT_EQ(metric(five, "positions"), 4.0);
    const auto one = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("5")}, {"n_chunks", S("1")}, {"max_kld", S("0")}})->run(ev);
    EXPECT_EQ(metric(one, "positions"), 2.0);
    EXPECT_EQ(metric(one, "chunks"), 1.0);
}

TEST(KlDivergence, EachChunkStartsWithBosWhenTheTokenizerAddsOne) {
    LogitsEvidence ev;
    ev.bos = 15;
    const auto r = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("4")}, {"max_mean_kld", S("0")}})->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    ASSERT_EQ(ev.calls.size(), 4u);
    EXPECT_EQ(ev.calls[0].second, (std::vector<std::int32_t>{15, 1, 2, 3}));
    EXPECT_EQ(ev.calls[2].second, (std::vector<std::int32_t>{15, 5, 6, 7}));
}

TEST(KlDivergence, StatisticsAgainstTheClosedFormAndTheFirstFailingBound) {
    LogitsEvidence ev;
    // Reference at every position: one token with logit 2, fifteen with 0; candidate uniform.
    const double z = std::exp(2.0) + 15.0;
    const double hi = std::exp(2.0) / z, lo = 1.0 / z;
    const double kld = hi * std::log(hi * 16.0) + 15.0 * lo * std::log(lo * 16.0);
    // Scored: position 2 (input 2, next 3) and 6 (input 6, next 7); the next token is never the
    // reference's peak, so p_ref(next) = lo, p_cand(next) = 1/16 at both. The uniform row's top
    // is token 0, the reference's 2 and 6: never the same.
    const auto r = bind({{"paths", L({"ref", "flat"})},
                         {"n_ctx", S("4")},
                         {"max_mean_kld", S("0.1")},
                         {"max_p99_kld", S("1")},
                         {"min_same_top_pct", S("50")}})
                       ->run(ev);
    ASSERT_EQ(r.status, reports::Status::Fail) << r.message;
    EXPECT_NEAR(metric(r, "mean_kld"), kld, 1e-12);
    EXPECT_NEAR(metric(r, "median_kld"), kld, 1e-12);
    EXPECT_NEAR(metric(r, "p99_kld"), kld, 1e-12);
    EXPECT_NEAR(metric(r, "max_kld"), kld, 1e-12);
    EXPECT_NEAR(metric(r, "rms_dp_pct"), 100.0 * (1.0 / 16.0 - lo), 1e-9);
    EXPECT_EQ(metric(r, "same_top_pct"), 0.0);
    // Equal KLDs up to rounding: the max is one of the two scored positions.
    const double worst = metric(r, "max_kld_token_index");
    EXPECT_TRUE(worst == 2.0 || worst == 6.0) << worst;
    ASSERT_EQ(r.per_layer.size(), 3u);
    EXPECT_FALSE(r.per_layer[0].pass);  // mean > 0.1
    EXPECT_TRUE(r.per_layer[1].pass);   // p99 <= 1
    EXPECT_FALSE(r.per_layer[2].pass);  // same top 0 % < 50 %
    EXPECT_EQ(r.per_layer[2].lo, 50.0);
    ASSERT_TRUE(r.first_failure.has_value());
    EXPECT_EQ(r.first_failure->slot, "KLD mean");
    EXPECT_NE(r.message.find("2 of 3 bounds fail; first: KLD mean"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("(max_mean_kld)"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("flat vs ref"), std::string::npos) << r.message;

    // Bounds the values meet pass.
    const auto ok = bind({{"paths", L({"ref", "flat"})}, {"n_ctx", S("4")}, {"max_mean_kld", S("1")},
                          {"max_rms_dp_pct", S("10")}})
                        ->run(ev);
    EXPECT_EQ(ok.status, reports::Status::Pass) << ok.message;
}

TEST(KlDivergence, ThePromptFileIsTheCorpus) {
    const testing::TempDir dir;
    LogitsEvidence ev;
    ev.dir = dir.path();
    const std::string text = "A small corpus, long enough for two chunks.\n";
    std::ofstream(dir / "corpus.txt", std::ios::binary) << text;
    const auto r = bind({{"paths", L({"ref", "same"})}, {"prompt_file", S("corpus.txt")}, {"n_ctx", S("8")},
                         {"max_mean_kld", S("0")}})
                       ->run(ev);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(ev.last_prompt, text);
    EXPECT_EQ(metric(r, "chunks"), static_cast<double>(text.size() / 8));

    const auto missing = bind({{"paths", L({"ref", "same"})}, {"prompt_file", S("none.txt")}, {"max_kld", S("0")}});
    try {
        missing->run(ev);
        ADD_FAILURE() << "a missing corpus must throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("prompt_file " + (dir / "none.txt").string() + ": not found"),
                  std::string::npos)
            << e.what();
    }
}

TEST(KlDivergence, ShortCorpusOrDifferentTokensAreErrors) {
    LogitsEvidence ev;
    auto f = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("16")}, {"max_kld", S("0")}});
    try {
        f->run(ev);
        ADD_FAILURE() << "10 tokens cannot make a chunk of 16";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("the corpus makes 10 tokens, fewer than one chunk of n_ctx 16"),
                  std::string::npos)
            << e.what();
    }
    ev.other_corpus["same"] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10};
    auto g = bind({{"paths", L({"ref", "same"})}, {"n_ctx", S("4")}, {"max_kld", S("0")}});
    try {
        g->run(ev);
        ADD_FAILURE() << "different token ids must throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenize the corpus differently"), std::string::npos) << e.what();
    }
}

TEST(KlDivergence, BindingRules) {
    const Registry reg = Registry::with_builtin_specs();
    auto check = [&](std::vector<ParamMember> m) {
        m.insert(m.begin(), ParamMember{"falsifier", {}, S("kl_divergence")});
        m.push_back(ParamMember{"paths", {}, L({"a", "b"})});
        return reg.check(ParamNode::mapping(std::move(m)));
    };
    EXPECT_FALSE(check({}).ok());  // no bound
    EXPECT_TRUE(check({{"max_mean_kld", {}, S("0.01")}}).ok());
    EXPECT_FALSE(check({{"min_same_top_pct", {}, S("101")}}).ok());
    EXPECT_FALSE(check({{"max_kld", {}, S("1")}, {"n_ctx", {}, S("3")}}).ok());
    EXPECT_FALSE(check({{"max_kld", {}, S("1")}, {"prompt", {}, S("x")}, {"prompt_file", {}, S("c.txt")}}).ok());
    const auto d = check({{"max_kld", {}, S("1")}});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.params.at("n_ctx").integer, 512);
}

}  // namespace
}  // namespace parity::falsifiers
