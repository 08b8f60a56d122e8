// The tokenizer against llama.cpp: every string of refs/tokenize.json (tiny-qwen2-ref, pre
// qwen2, no BOS) and refs/tokenize_llama.json (tiny-llama-ref, pre llama-bpe, BOS added) must give
// exactly the ids `llama-tokenize` printed; the APR copy of the qwen2 model must tokenize as its
// GGUF does.

#include <algorithm>
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

constexpr const char* kQwenGguf = "llamacpp/models/tiny-qwen2-ref-F32.gguf";
constexpr const char* kLlamaGguf = "llamacpp/models/tiny-llama-ref-F32.gguf";
constexpr const char* kQwenApr = "apr/tiny-qwen2-ref-F32.apr";

struct Case {
    std::string text;
    std::vector<std::int32_t> ids;
};

std::vector<Case> load_cases(const std::filesystem::path& path) {
    std::ifstream in(path);
    const auto j = nlohmann::json::parse(in);
    std::vector<Case> cases;
    for (const auto& c : j.at("cases")) cases.push_back({c.at("text").get<std::string>(), c.at("ids").get<std::vector<std::int32_t>>()});
    return cases;
}

Tokenizer open_tokenizer(const std::filesystem::path& model) { return Tokenizer(ModelFile::open(model.string()).tokenizer()); }

// Every case of `refs` on `model`; returns how many matched (all must).
std::size_t expect_all_match(const std::filesystem::path& refs, const std::filesystem::path& model) {
    const Tokenizer tok = open_tokenizer(model);
    const auto cases = load_cases(refs);
    EXPECT_EQ(cases.size(), 6u);
    std::size_t matched = 0;
    for (const auto& c : cases) {
        const auto ids = tok.encode(c.text);
        EXPECT_EQ(ids, c.ids) << "text: '" << c.text << "'";
        matched += ids == c.ids ? 1 : 0;
    }
    return matched;
}

TEST(TokenizerFixture, Qwen2MatchesLlamaTokenize) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize.json");
    PARITY_REQUIRE_FIXTURE(model, kQwenGguf);
    EXPECT_EQ(expect_all_match(refs, model), 6u);
}

TEST(TokenizerFixture, LlamaBpeMatchesLlamaTokenizeWithBos) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize_llama.json");
    PARITY_REQUIRE_FIXTURE(model, kLlamaGguf);
    EXPECT_EQ(expect_all_match(refs, model), 6u);
}

TEST(TokenizerFixture, AprTokenizesAsItsGguf) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize.json");
    PARITY_REQUIRE_FIXTURE(gguf, kQwenGguf);
    PARITY_REQUIRE_FIXTURE(apr, kQwenApr);
    const Tokenizer from_gguf = open_tokenizer(gguf);
    const Tokenizer from_apr = open_tokenizer(apr);
    EXPECT_EQ(from_apr.n_vocab(), from_gguf.n_vocab());
    EXPECT_EQ(from_apr.bos(), from_gguf.bos());
    EXPECT_EQ(from_apr.eos(), from_gguf.eos());
    EXPECT_EQ(from_apr.add_bos(), from_gguf.add_bos());
    EXPECT_EQ(from_apr.pre(), "qwen2");
    std::vector<std::string> texts;
    for (const auto& c : load_cases(refs)) {
        EXPECT_EQ(from_apr.encode(c.text), c.ids) << c.text;
        texts.push_back(c.text);
    }
    for (const char* s : {"Don't stop 2024!\n\n  indented\tand\r\nCRLF", "<|endoftext|>x<|im_end|>", "naïve café 😀 ١٢٣"}) {
        texts.emplace_back(s);
    }
    for (const auto& t : texts) EXPECT_EQ(from_apr.encode(t), from_gguf.encode(t)) << t;
    for (std::int32_t id = 0; id < from_gguf.n_vocab(); ++id) {
        ASSERT_EQ(from_apr.piece(id), from_gguf.piece(id)) << id;
        ASSERT_EQ(from_apr.is_eog(id), from_gguf.is_eog(id)) << id;
    }
}

TEST(TokenizerFixture, Qwen2SpecialTokensAndEog) {
    PARITY_REQUIRE_FIXTURE(model, kQwenGguf);
    const Tokenizer tok = open_tokenizer(model);
    EXPECT_EQ(tok.n_vocab(), 1024);
    EXPECT_EQ(tok.bos(), 1021);
    EXPECT_EQ(tok.eos(), 1021);
    EXPECT_FALSE(tok.add_bos());
    EXPECT_EQ(tok.piece(1022), "<|im_start|>");
    EXPECT_TRUE(tok.is_control(1022));
    EXPECT_FALSE(tok.is_control(335));
    // <|endoftext|> (eos) and <|im_end|> end generation; <|im_start|> does not.
    EXPECT_TRUE(tok.is_eog(1021));
    EXPECT_FALSE(tok.is_eog(1022));
    EXPECT_TRUE(tok.is_eog(1023));
    EXPECT_FALSE(tok.is_eog(335));
    // Without parse_special the control tokens are plain text.
    const auto plain = tok.encode("<|im_start|>", true, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 1022), 0);
    EXPECT_GT(plain.size(), 1u);
}

TEST(TokenizerFixture, LlamaSpecialTokensAndEog) {
    PARITY_REQUIRE_FIXTURE(model, kLlamaGguf);
    const Tokenizer tok = open_tokenizer(model);
    EXPECT_EQ(tok.bos(), 1021);
    EXPECT_EQ(tok.eos(), 1022);
    EXPECT_TRUE(tok.add_bos());
    // EOG = {1022 (eos, <|end_of_text|>), 1023 (<|eot_id|>)}, as the fixtures README states.
    EXPECT_FALSE(tok.is_eog(1021));
    EXPECT_TRUE(tok.is_eog(1022));
    EXPECT_TRUE(tok.is_eog(1023));
    const auto with_bos = tok.encode("hi");
    const auto without = tok.encode("hi", false);
    ASSERT_EQ(with_bos.size(), without.size() + 1);
    EXPECT_EQ(with_bos.front(), 1021);
    EXPECT_TRUE(std::equal(without.begin(), without.end(), with_bos.begin() + 1));
    EXPECT_EQ(tok.encode("", true), std::vector<std::int32_t>{1021});
    EXPECT_TRUE(tok.encode("", false).empty());
    // Control tokens written in the text are matched here too.
    EXPECT_EQ(tok.encode("<|begin_of_text|>hi<|eot_id|>", false).front(), 1021);
    EXPECT_EQ(tok.encode("<|begin_of_text|>hi<|eot_id|>", false).back(), 1023);
}

// decode() gives back the text for every fixture string (control tokens rendered verbatim).
TEST(TokenizerFixture, DecodeInvertsFixtureIds) {
    PARITY_REQUIRE_FIXTURE(qwen_refs, "llamacpp/refs/tokenize.json");
    PARITY_REQUIRE_FIXTURE(llama_refs, "llamacpp/refs/tokenize_llama.json");
    PARITY_REQUIRE_FIXTURE(qwen, kQwenGguf);
    PARITY_REQUIRE_FIXTURE(llama, kLlamaGguf);
    const Tokenizer q = open_tokenizer(qwen);
    for (const auto& c : load_cases(qwen_refs)) EXPECT_EQ(q.decode(c.ids), c.text);
    const Tokenizer l = open_tokenizer(llama);
    for (const auto& c : load_cases(llama_refs)) {
        ASSERT_FALSE(c.ids.empty());
        EXPECT_EQ(l.decode(c.ids), "<|begin_of_text|>" + c.text);
        EXPECT_EQ(l.decode(c.ids, false), c.text);
    }
}

// Round trips on the real vocabularies: UTF-8, digits, whitespace runs, newlines.
class TokenizerFixtureRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerFixtureRoundTrip, DecodeEncodeIsIdentity) {
    PARITY_REQUIRE_FIXTURE(model, GetParam());
    const Tokenizer tok = open_tokenizer(model);
    for (const char* s : {"", " ", "a", "Hello, world!", "été 中文 😀🎉 naïve", "1234567890 3.14159 -42",
                          "  two spaces\tand tab\n\nnewlines\r\n\r\nCRLF   ", "trailing spaces   ",
                          "it's, we'll, they're, I'M, I'VE", "x = f(y) + 2 * z;  // comment\n",
                          "mixed<|im_start|>control<|im_end|>and text", "\xC2\xA0nbsp\u3000ideographic space"}) {
        EXPECT_EQ(tok.decode(tok.encode(s, false)), s) << "'" << s << "'";
    }
}

INSTANTIATE_TEST_SUITE_P(Models, TokenizerFixtureRoundTrip, ::testing::Values(kQwenGguf, kLlamaGguf, kQwenApr),
                         [](const auto& p) {
                             const std::string path = p.param;
                             return testing::param_name(path) + (path.ends_with(".apr") ? "_apr" : "_gguf");
                         });

}  // namespace
}  // namespace parity
