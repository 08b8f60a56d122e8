// The tokenizer against llama.cpp d32676d on the six newer fixture families: every string of
// refs/tokenize_<family>.json must give exactly the ids `llama-tokenize` printed (BOS and control
// tokens included). spm, gemma3 and phi3 are SentencePiece (llama) vocabularies; llama3, qwen3 and
// qwen3moe byte-level BPE (gpt2).

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/model/model_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "test_support.h"

namespace parity {
namespace {

using Ids = std::vector<std::int32_t>;

struct Case {
    std::string text;
    Ids ids;
};

std::vector<Case> load_cases(const std::filesystem::path& path) {
    std::ifstream in(path);
    const auto j = nlohmann::json::parse(in);
    std::vector<Case> cases;
    for (const auto& c : j.at("cases")) cases.push_back({c.at("text").get<std::string>(), c.at("ids").get<Ids>()});
    return cases;
}

std::string model_path(const std::string& family, const std::string& quant = "F32") {
    return "llamacpp/models/tiny-" + family + "-ref-" + quant + ".gguf";
}

Tokenizer open_tokenizer(const std::filesystem::path& model) { return Tokenizer(ModelFile::open(model.string()).tokenizer()); }

class TokenizerFamily : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerFamily, MatchesLlamaTokenize) {
    const std::string family = GetParam();
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize_" + family + ".json");
    PARITY_REQUIRE_FIXTURE(model, model_path(family));
    const Tokenizer tok = open_tokenizer(model);
    const auto cases = load_cases(refs);
    EXPECT_EQ(cases.size(), 7u);
    for (const auto& c : cases) EXPECT_EQ(tok.encode(c.text), c.ids) << family << ", text: '" << c.text << "'";
}

// The quantized files carry the same vocabulary.
TEST_P(TokenizerFamily, QuantizedFilesTokenizeAlike) {
    const std::string family = GetParam();
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize_" + family + ".json");
    PARITY_REQUIRE_FIXTURE(q8, model_path(family, "Q8_0"));
    PARITY_REQUIRE_FIXTURE(q4, model_path(family, "Q4_K_M"));
    for (const auto& path : {q8, q4}) {
        const Tokenizer tok = open_tokenizer(path);
        for (const auto& c : load_cases(refs)) EXPECT_EQ(tok.encode(c.text), c.ids) << path << ": '" << c.text << "'";
    }
}

// decode() of the ids gives the text back for the strings without control tokens: after a BOS
// an SPM model's space prefix stays (llama_detokenize keeps it), without BOS it is dropped.
TEST_P(TokenizerFamily, DecodeGivesTheTextBack) {
    const std::string family = GetParam();
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize_" + family + ".json");
    PARITY_REQUIRE_FIXTURE(model, model_path(family));
    const Tokenizer tok = open_tokenizer(model);
    const std::string lead = tok.add_space_prefix() && tok.add_bos() ? " " : "";
    for (const auto& c : load_cases(refs)) {
        if (c.text.find('<') != std::string::npos) continue;
        EXPECT_EQ(tok.decode(c.ids, false), lead + c.text) << family;
        EXPECT_EQ(tok.decode(tok.encode(c.text, false)), c.text) << family;
    }
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerFamily,
                         ::testing::Values("spm", "gemma3", "phi3", "llama3", "qwen3", "qwen3moe"),
                         [](const auto& p) { return std::string(p.param); });

TEST(TokenizerFamilies, SpmFlagsAndPieces) {
    PARITY_REQUIRE_FIXTURE(model, model_path("spm"));
    const Tokenizer tok = open_tokenizer(model);
    EXPECT_EQ(tok.n_vocab(), 1113);
    EXPECT_EQ(tok.bos(), 1);
    EXPECT_EQ(tok.eos(), 2);
    EXPECT_TRUE(tok.add_bos());
    EXPECT_FALSE(tok.add_eos());
    EXPECT_TRUE(tok.add_space_prefix());
    // The README's example: the space prefix plus the leading space, then digit bytes.
    const Ids ids = tok.encode(" 123 tokenizer, test.");
    ASSERT_GE(ids.size(), 6u);
    EXPECT_EQ(Ids(ids.begin(), ids.begin() + 6), (Ids{1, 1059, 1059, 52, 53, 54}));
    EXPECT_EQ(tok.piece(1059), " ");
    EXPECT_EQ(tok.token_text(1059), "\xE2\x96\x81");
    EXPECT_EQ(tok.piece(52), "1");  // <0x31>
    EXPECT_EQ(tok.piece(1), "<s>");
    EXPECT_TRUE(tok.is_control(1));
    EXPECT_TRUE(tok.is_eog(2));
    EXPECT_FALSE(tok.is_eog(1));
}

TEST(TokenizerFamilies, GemmaHasNoSpacePrefix) {
    PARITY_REQUIRE_FIXTURE(model, model_path("gemma3"));
    const Tokenizer tok = open_tokenizer(model);
    EXPECT_FALSE(tok.add_space_prefix());
    EXPECT_EQ(tok.bos(), 2);
    EXPECT_EQ(tok.eos(), 1);
    // EOG = {1 (<eos>), 5 (<end_of_turn>)}; <start_of_turn> does not end generation.
    EXPECT_TRUE(tok.is_eog(1));
    EXPECT_TRUE(tok.is_eog(5));
    EXPECT_FALSE(tok.is_eog(4));
    EXPECT_EQ(tok.decode(tok.encode("Hello world")), "<bos>Hello world");
}

TEST(TokenizerFamilies, Phi3ControlTokensRightStrip) {
    PARITY_REQUIRE_FIXTURE(model, model_path("phi3"));
    const Tokenizer tok = open_tokenizer(model);
    EXPECT_FALSE(tok.add_bos());
    EXPECT_EQ(tok.encode("<|user|>\nhi<|end|>\n<|assistant|>"), (Ids{1096, 298, 1047, 1095, 1094}));
    // <|endoftext|> (eos) and <s> keep the whitespace after them.
    const Ids after_eot = tok.encode("<|endoftext|>\nhi");
    ASSERT_GE(after_eot.size(), 3u);
    EXPECT_EQ(after_eot.front(), 1093);
    EXPECT_NE(after_eot, (Ids{1093, 298, 1047}));
    EXPECT_TRUE(tok.is_eog(1093));
    EXPECT_TRUE(tok.is_eog(1095));
    EXPECT_FALSE(tok.is_eog(1096));
}

}  // namespace
}  // namespace parity
