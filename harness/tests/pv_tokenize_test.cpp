// `pv tokenize MODEL TEXT`: ids on one line (llama-tokenize's ids for the fixture strings), the
// --json form, --no-bos, and one-line errors with exit 2.

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/quant/file_type.h"
#include "engine/synth/synth.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::run_pv;

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

std::string ids_line(const nlohmann::json& ids) {
    std::string line;
    for (const auto& id : ids) line += (line.empty() ? "" : " ") + std::to_string(id.get<int>());
    return line + "\n";
}

void expect_fixture_ids(const std::filesystem::path& refs, const std::filesystem::path& model) {
    std::ifstream in(refs);
    const auto j = nlohmann::json::parse(in);
    ASSERT_EQ(j["cases"].size(), 6u);
    for (const auto& c : j["cases"]) {
        const auto r = run_pv({"tokenize", model.string(), c["text"].get<std::string>()});
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.out, ids_line(c["ids"])) << c["text"];
    }
}

TEST(PvTokenize, Qwen2IdsEqualLlamaTokenize) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize.json");
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    expect_fixture_ids(refs, model);
}

TEST(PvTokenize, LlamaIdsEqualLlamaTokenizeWithBos) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize_llama.json");
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-llama-ref-F32.gguf");
    expect_fixture_ids(refs, model);
}

TEST(PvTokenize, AprModelGivesTheSameIds) {
    PARITY_REQUIRE_FIXTURE(refs, "llamacpp/refs/tokenize.json");
    PARITY_REQUIRE_FIXTURE(model, "apr/tiny-qwen2-ref-F32.apr");
    expect_fixture_ids(refs, model);
}

TEST(PvTokenize, JsonHasIdsAndPieces) {
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-llama-ref-F32.gguf");
    const auto r = run_pv({"tokenize", model.string(), "Hello world", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(count_lines(r.out), 1u);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ids"], nlohmann::json({1021, 39, 345, 75, 78, 220, 86, 78, 81, 75, 67}));
    ASSERT_EQ(j["pieces"].size(), j["ids"].size());
    EXPECT_EQ(j["pieces"][0], "<|begin_of_text|>");
    std::string text;
    for (std::size_t i = 1; i < j["pieces"].size(); ++i) text += j["pieces"][i].get<std::string>();
    EXPECT_EQ(text, "Hello world");
}

TEST(PvTokenize, JsonPiecesOfPartialUtf8AreReplaced) {
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    const auto r = run_pv({"tokenize", model.string(), "\xC3\xA9", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);  // valid JSON although each piece is half of é
    EXPECT_EQ(j["ids"], nlohmann::json({127, 102}));
    EXPECT_EQ(j["pieces"][0], "\xEF\xBF\xBD");
}

TEST(PvTokenize, NoBosDropsTheBos) {
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-llama-ref-F32.gguf");
    const auto r = run_pv({"tokenize", model.string(), "Hello world", "--no-bos"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "39 345 75 78 220 86 78 81 75 67\n");
}

TEST(PvTokenize, TextStartingWithDashAfterDoubleDash) {
    PARITY_REQUIRE_FIXTURE(model, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    const auto r = run_pv({"tokenize", model.string(), "--", "-1"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "12 16\n");  // '-' and '1' are byte tokens 12 and 16
}

TEST(PvTokenize, SynthModelWorksWithoutFixtures) {
    testing::TempDir dir;
    const auto path = (dir / "synth.gguf").string();
    synth::write_gguf(synth::preset("llama", "tiny"), 7, FileType::ALL_F32, path);
    const auto r = run_pv({"tokenize", path, "the model", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_GE(j["ids"].size(), 2u);
    std::string text;
    for (const auto& p : j["pieces"]) text += p.get<std::string>();
    EXPECT_EQ(text, "<|begin_of_text|>the model");
}

TEST(PvTokenize, BadInputIsOneLineErrorExit2) {
    const auto missing = run_pv({"tokenize", "/nonexistent/model.gguf", "hi"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_EQ(count_lines(missing.err), 1u) << missing.err;
    EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;

    const auto no_text = run_pv({"tokenize", "/nonexistent/model.gguf"});
    EXPECT_EQ(no_text.code, 2);
    EXPECT_EQ(count_lines(no_text.err), 1u) << no_text.err;
    EXPECT_NE(no_text.err.find("missing TEXT"), std::string::npos) << no_text.err;

    const auto extra = run_pv({"tokenize", "a", "b", "c"});
    EXPECT_EQ(extra.code, 2);
    EXPECT_EQ(count_lines(extra.err), 1u) << extra.err;

    const auto help = run_pv({"tokenize", "--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--no-bos"), std::string::npos);
}

}  // namespace
}  // namespace parity
