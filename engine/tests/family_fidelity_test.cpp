// The newer fixture families against llama.cpp (d32676d): logits at every position of the
// fixture's 24 tokens, batched and incremental, ggml policy. F32 within 1e-4, quantized within
// 2e-3, argmax equal everywhere. Families whose graph the engine runs today: llama3 (Llama 3.1
// rope_freqs) and spm (llama with a SentencePiece vocabulary; its tokenizer is not checked here).

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "forward_test_util.h"

namespace parity {
namespace {

struct FamilyCase {
    std::string family;
    std::string variant;
    ForwardMode mode;

    std::string model() const { return "llamacpp/models/tiny-" + family + "-ref-" + variant + ".gguf"; }
    std::string ref() const { return "llamacpp/refs/llamacpp_" + family + "_" + variant + ".json"; }
    double tolerance() const { return variant == "F32" ? 1e-4 : 2e-3; }
};

std::string case_name(const ::testing::TestParamInfo<FamilyCase>& info) {
    return info.param.family + "_" + testing::param_name(info.param.variant) + "_" +
           std::string(to_string(info.param.mode));
}

std::vector<FamilyCase> all_cases() {
    std::vector<FamilyCase> out;
    for (const char* family : {"llama3", "spm", "qwen3", "qwen3moe", "gemma3", "phi3"}) {
        for (const char* variant : {"F32", "Q8_0", "Q4_K_M"}) {
            for (ForwardMode mode : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
                out.push_back({family, variant, mode});
            }
        }
    }
    return out;
}

class FamilyLogits : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(FamilyLogits, GgmlPolicyMatchesLlamaCppAtEveryPosition) {
    const FamilyCase& c = GetParam();
    PARITY_REQUIRE_FIXTURE(model_path, c.model());
    PARITY_REQUIRE_FIXTURE(ref_path, c.ref());
    const nlohmann::json& ref = *testing::fixture_json(c.ref());
    const auto tokens = ref.at("tokens").get<std::vector<std::int32_t>>();
    const auto expected = testing::json_matrix(
        ref.at(c.mode == ForwardMode::FullSequence ? "logits_all" : "logits_incremental"));
    ASSERT_EQ(expected.size(), tokens.size());

    const Model model = Model::load(model_path.string());
    SessionOptions opts;
    opts.matmul = MatmulPolicy::Ggml;
    opts.threads = 2;
    opts.max_context = 64;
    auto session = create_session(model, opts);
    const std::vector<float> ours = forward_logits(*session, tokens, c.mode);
    const auto n_vocab = static_cast<std::size_t>(model.config().n_vocab);
    ASSERT_EQ(ours.size(), tokens.size() * n_vocab);

    double worst = 0.0;
    for (std::size_t p = 0; p < tokens.size(); ++p) {
        const std::vector<float> row(ours.begin() + static_cast<std::ptrdiff_t>(p * n_vocab),
                                     ours.begin() + static_cast<std::ptrdiff_t>((p + 1) * n_vocab));
        ASSERT_EQ(expected[p].size(), n_vocab);
        const auto d = testing::max_abs_diff(row, expected[p]);
        worst = std::max(worst, d.max_abs);
        EXPECT_LE(d.max_abs, c.tolerance()) << "position " << p << ", logit " << d.worst_index;
        EXPECT_EQ(testing::argmax_of(row.data(), n_vocab), testing::argmax_of(expected[p].data(), n_vocab))
            << "argmax at position " << p;
    }
    std::cout << "[ measured ] max|d| over " << tokens.size() << " positions = " << worst << "\n";
    ::testing::Test::RecordProperty("measured", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FamilyLogits, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace parity
