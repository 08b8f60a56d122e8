// The float64 arbiter backend against the independent float64 forward of the fixtures
// (llamacpp/refs/float64_*.json, computed outside this project): the three modes there are
// dequant_f64 (matmul dequant), ggml_emul_kvf32 (matmul ggml) and ggml_emul_kvf16 (plus kv f16).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/f64_session.h"
#include "forward_test_util.h"

namespace parity {
namespace {

using testing::FixtureCase;
using testing::fixture_json;
using testing::reference_tokens;

struct F64Case {
    FixtureCase fixture;
    std::string mode;  // a `modes` key of the float64 reference
    ForwardMode forward;
};

std::string case_name(const ::testing::TestParamInfo<F64Case>& i) {
    return i.param.fixture.name() + "_" + i.param.mode + "_" + std::string(to_string(i.param.forward));
}

std::vector<F64Case> all_cases() {
    std::vector<F64Case> out;
    for (const char* family : {"qwen2", "llama"}) {
        for (const char* variant : {"F32", "Q8_0", "Q4_K_M"}) {
            for (const char* mode : {"dequant_f64", "ggml_emul_kvf32", "ggml_emul_kvf16"}) {
                for (ForwardMode f : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
                    out.push_back({{family, variant}, mode, f});
                }
            }
        }
    }
    return out;
}

/// The double logits of every position of the reference tokens.
std::vector<double> f64_logits(const Model& model, const F64Case& c) {
    SessionOptions opts;
    opts.backend = BackendKind::F64;
    opts.matmul = c.mode == "dequant_f64" ? MatmulPolicy::Dequant : MatmulPolicy::Ggml;
    opts.kv_type = c.mode == "ggml_emul_kvf16" ? KvType::F16 : KvType::F32;
    opts.threads = 2;
    auto session = create_f64_session(model, opts);
    const auto& tokens = reference_tokens();
    const auto n_vocab = static_cast<std::size_t>(model.config().n_vocab);
    std::vector<float> rounded(tokens.size() * n_vocab);
    if (c.forward == ForwardMode::FullSequence) {
        session->evaluate(tokens, LogitsWanted::All, rounded, nullptr);
        return {session->logits_f64().begin(), session->logits_f64().end()};
    }
    std::vector<double> all;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        session->evaluate(std::span(tokens).subspan(i, 1), LogitsWanted::Last, std::span(rounded).first(n_vocab), nullptr);
        all.insert(all.end(), session->logits_f64().begin(), session->logits_f64().end());
    }
    return all;
}

class Float64Arbiter : public ::testing::TestWithParam<F64Case> {};

// dequant_f64 is the same mathematics on the same exact weights: only the order of double
// sums differs, so the logits agree to 1e-9 of the largest logit.
TEST_P(Float64Arbiter, LogitsMatchTheIndependentFloat64Forward) {
    const F64Case& c = GetParam();
    PARITY_REQUIRE_FIXTURE(model_path, c.fixture.model());
    PARITY_REQUIRE_FIXTURE(ref_path, c.fixture.float64_ref());
    const nlohmann::json& ref = fixture_json(c.fixture.float64_ref())->at("modes").at(c.mode).at("logits_all");
    const Model model = Model::load(model_path.string());
    const std::vector<double> ours = f64_logits(model, c);
    const auto n_vocab = static_cast<std::size_t>(model.config().n_vocab);
    ASSERT_EQ(ours.size(), ref.size() * n_vocab);
    double max_ref = 0.0, max_diff = 0.0;
    for (std::size_t p = 0; p < ref.size(); ++p) {
        const std::vector<double> row = ref[p].get<std::vector<double>>();
        ASSERT_EQ(row.size(), n_vocab);
        for (std::size_t i = 0; i < n_vocab; ++i) {
            max_ref = std::max(max_ref, std::fabs(row[i]));
            max_diff = std::max(max_diff, std::fabs(ours[p * n_vocab + i] - row[i]));
        }
    }
    const double relative = max_diff / max_ref;
    std::cout << "[ measured ] f64 " << c.fixture.name() << " " << c.mode << " " << to_string(c.forward)
              << " max|d| / max|ref| = " << relative << "\n";
    // The emulated modes round activations to Q8_0/Q8_K through float: a value on a rounding
    // boundary may land on either side in two implementations, so their bound is looser.
    EXPECT_LE(relative, c.mode == "dequant_f64" ? 1e-9 : 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Float64Arbiter, ::testing::ValuesIn(all_cases()), case_name);

// Stage tensors and traces come out of the f64 backend like any other: through create_session.
TEST(Float64Arbiter, RunsThroughCreateSessionWithTracesAndStages) {
    const FixtureCase fc{"qwen2", "Q8_0"};
    PARITY_REQUIRE_FIXTURE(model_path, fc.model());
    const Model model = Model::load(model_path.string());
    SessionOptions opts;
    opts.backend = BackendKind::F64;
    opts.matmul = MatmulPolicy::Dequant;
    auto session = create_session(model, opts);
    EXPECT_EQ(session->options().backend, BackendKind::F64);
    const ForwardTrace trace = trace_forward(*session, reference_tokens(), ForwardMode::FullSequence);
    ASSERT_EQ(trace.layers.size(), static_cast<std::size_t>(model.config().n_layers));
    const std::vector<float> logits = forward_logits(*session, reference_tokens(), ForwardMode::FullSequence);
    auto* f64 = dynamic_cast<F64Session*>(session.get());
    ASSERT_NE(f64, nullptr);
    ASSERT_EQ(f64->logits_f64().size(), logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) ASSERT_EQ(logits[i], static_cast<float>(f64->logits_f64()[i]));
}

}  // namespace
}  // namespace parity
