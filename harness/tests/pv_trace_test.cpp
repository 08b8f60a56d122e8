// pv trace / generate / bench on a synthetic model (made in a temporary directory).

#include <cstring>
#include <limits>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/trace_json.h"
#include "engine/quant/file_type.h"
#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "engine/synth/synth.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::run_pv;

/// Tiny qwen2 (4 layers, hidden 256, vocab 1024) written once per process.
const std::string& tiny_model() {
    static testing::TempDir dir;
    static const std::string path = [] {
        const std::string p = (dir / "tiny-qwen2-Q8_0.gguf").string();
        synth::write_gguf(synth::preset("qwen2", "tiny"), 42, FileType::MOSTLY_Q8_0, p);
        return p;
    }();
    return path;
}

std::size_t count_of(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

TEST(PvTrace, TextIsUpstreamsPayloadFormat) {
    const auto r = run_pv({"trace", tiny_model(), "--tokens", "1021,17,263,500", "--threads", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(count_of(r.out, "[OK]"), 4u) << r.out;
    EXPECT_NE(r.out.find("Layer  0/4 [OK]\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Layer  3/4 [OK]\n"), std::string::npos) << r.out;
    const std::regex slot_line(R"(\n    ffn_swiglu_inner: mean=[ \-0-9]{2}[0-9]\.[0-9]{4} std=[ 0-9]{2}[0-9]\.[0-9]{4}\n)");
    EXPECT_TRUE(std::regex_search(r.out, slot_line)) << r.out;
    for (const char* slot : {"attn_norm", "qkv", "attn_out", "ffn_norm", "ffn_gate", "ffn_up", "ffn_silu_gate",
                             "ffn_swiglu_inner", "ffn_out", "output"}) {
        EXPECT_EQ(count_of(r.out, std::string("    ") + slot + ": mean="), 4u) << slot;
    }
    EXPECT_EQ(r.out.find("NaN:"), std::string::npos);
}

TEST(PvTrace, JsonHasTheSchemaAndCountsProveTheSample) {
    const auto full = run_pv({"trace", tiny_model(), "--tokens", "1021,17,263", "--json", "--threads", "2"});
    ASSERT_EQ(full.code, 0) << full.err;
    const auto j = nlohmann::ordered_json::parse(full.out);
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"format", "architecture", "num_layers", "hidden_dim", "vocab_size",
                                              "num_heads", "num_kv_heads", "prompt", "encoded_tokens", "mode",
                                              "matmul", "kv_type", "backend", "embedding", "layers", "final_norm",
                                              "logits_stats", "logits"}));
    EXPECT_EQ(j["format"], "gguf");
    EXPECT_EQ(j["architecture"], "qwen2");
    EXPECT_EQ(j["num_layers"], 4);
    EXPECT_EQ(j["hidden_dim"], 256);
    EXPECT_EQ(j["vocab_size"], 1024);
    EXPECT_EQ(j["num_heads"], 4);
    EXPECT_EQ(j["num_kv_heads"], 2);
    EXPECT_TRUE(j["prompt"].is_null());
    EXPECT_EQ(j["encoded_tokens"], (std::vector<int>{1021, 17, 263}));
    EXPECT_EQ(j["mode"], "full_sequence");
    EXPECT_EQ(j["matmul"], "ggml");
    ASSERT_EQ(j["layers"].size(), 4u);
    const auto& l0 = j["layers"][0];
    EXPECT_EQ(l0["layer_idx"], 0);
    EXPECT_EQ(l0["attn_norm"]["count"], 3 * 256);
    EXPECT_EQ(l0["qkv"]["count"], 3 * (256 + 2 * 128));
    EXPECT_EQ(l0["ffn_gate"]["count"], 3 * 768);
    EXPECT_EQ(l0["last_token"]["attn_norm"]["count"], 256);
    std::vector<std::string> stat_keys;
    for (const auto& [k, v] : l0["output"].items()) stat_keys.push_back(k);
    EXPECT_EQ(stat_keys, (std::vector<std::string>{"count", "min", "max", "mean", "std_dev", "nan_count", "inf_count",
                                                   "zero_count"}));
    EXPECT_EQ(j["logits"]["vocab_size"], 1024);
    EXPECT_EQ(j["logits"]["top_k"].size(), 5u);
    EXPECT_FALSE(j["logits"].contains("values"));
    EXPECT_GE(j["logits"]["top_k"][0]["logit"].get<double>(), j["logits"]["top_k"][1]["logit"].get<double>());

    const auto inc = run_pv({"trace", tiny_model(), "--tokens", "1021,17,263", "--json", "--mode", "incremental",
                             "--full-logits", "--threads", "2"});
    ASSERT_EQ(inc.code, 0) << inc.err;
    const auto ji = nlohmann::json::parse(inc.out);
    EXPECT_EQ(ji["mode"], "incremental");
    EXPECT_EQ(ji["layers"][0]["attn_norm"]["count"], 256);
    EXPECT_EQ(ji["layers"][0]["qkv"]["count"], 256 + 2 * 128);
    ASSERT_EQ(ji["logits"]["values"].size(), 1024u);
    EXPECT_EQ(ji["logits"]["top_k"][0]["token_id"], j["logits"]["top_k"][0]["token_id"]);
    // The last token's statistics agree between the two paths.
    EXPECT_NEAR(ji["layers"][3]["output"]["std_dev"].get<double>(),
                j["layers"][3]["last_token"]["output"]["std_dev"].get<double>(), 1e-4);
}

TEST(PvTrace, PromptGoesThroughTheTokenizer) {
    const auto r = run_pv({"trace", tiny_model(), "--prompt", "Hello world", "--json", "--threads", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["prompt"], "Hello world");
    EXPECT_FALSE(j["encoded_tokens"].empty());
    EXPECT_EQ(j["layers"][0]["attn_norm"]["count"], 256 * j["encoded_tokens"].size());
}

TEST(PvTrace, LastTokenValuesOnRequest) {
    const auto r = run_pv({"trace", tiny_model(), "--tokens", "5,6", "--json", "--last-token-values", "--threads", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["layers"][1]["last_token_values"]["qkv"].size(), 512u);
    EXPECT_EQ(j["layers"][1]["last_token_values"]["ffn_up"].size(), 768u);
}

TEST(PvTrace, UsageErrorsAreOneLine) {
    struct Case {
        std::vector<std::string> args;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {{"trace", tiny_model(), "--tokens", "1,2", "--backend", "cuda"}, "cuda"},
        {{"trace", tiny_model()}, "exactly one of --prompt TEXT and --tokens IDS"},
        {{"trace", tiny_model(), "--tokens", "1,x,3"}, "entry 2 ('x') is not a token id"},
        {{"trace", tiny_model(), "--tokens", "1,99999"}, "token id 99999"},
        {{"trace", tiny_model(), "--tokens", "1", "--mode", "batch"}, "unknown mode 'batch'"},
        {{"trace", tiny_model(), "--tokens", "1", "--matmul", "fast"}, "unknown policy 'fast'"},
        {{"trace", tiny_model(), "--tokens", "1", "--kv-type", "q8"}, "unknown type 'q8'"},
        {{"trace", tiny_model(), "--tokens", "1", "--full-logits"}, "go with --json"},
        {{"trace", "/nonexistent/m.gguf", "--tokens", "1"}, "/nonexistent/m.gguf"},
    };
    for (const auto& c : cases) {
        const auto r = run_pv(c.args);
        EXPECT_EQ(r.code, 2) << c.expect << ": " << r.err;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
        EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
    }
}

// A model whose vocabulary is empty (token_embd [32, 0]) is refused before any weight is read.
TEST(PvTrace, EmptyVocabularyIsRefused) {
    testing::TempDir dir;
    const auto path = (dir / "empty-vocab.gguf").string();
    gguf::write_file(path,
                     {{"general.architecture", gguf::Value("llama")},
                      {"llama.block_count", gguf::Value(std::uint32_t{1})},
                      {"llama.embedding_length", gguf::Value(std::uint32_t{32})},
                      {"llama.feed_forward_length", gguf::Value(std::uint32_t{64})},
                      {"llama.attention.head_count", gguf::Value(std::uint32_t{2})},
                      {"llama.vocab_size", gguf::Value(std::uint32_t{0})}},
                     {{"token_embd.weight", GgmlType::F32, {32, 0}, {}}});
    const auto r = run_pv({"trace", path, "--tokens", "0"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(path + ": vocabulary size 0 must be >= 1"), std::string::npos) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
}

TEST(PvTrace, AnomalyIsFlagged) {
    testing::TempDir dir;
    std::vector<std::byte> bytes = testing::read_file(tiny_model());
    std::uint64_t offset = 0;
    {
        const gguf::File g = gguf::File::open(tiny_model());
        offset = g.data_offset() + g.tensor("blk.2.ffn_norm.weight").offset;
    }
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(bytes.data() + offset, &nan, sizeof nan);
    const auto path = (dir / "nan.gguf").string();
    testing::write_file(path, bytes);
    const auto r = run_pv({"trace", path, "--tokens", "1,2,3", "--threads", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("Layer  1/4 [OK]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Layer  2/4 [ANOMALY]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("    ffn_norm: mean="), std::string::npos);
    EXPECT_NE(r.out.find(" NaN:3 Inf:0\n"), std::string::npos) << r.out;  // one per token in ffn_norm
}

TEST(TraceJson, NonFiniteMinMaxAreNull) {
    ActivationStats s;
    s.count = 2;
    s.nan_count = 2;
    s.min = std::numeric_limits<float>::infinity();
    s.max = -std::numeric_limits<float>::infinity();
    const auto j = cli::stats_json(s);
    EXPECT_TRUE(j["min"].is_null());
    EXPECT_TRUE(j["max"].is_null());
    EXPECT_EQ(j["nan_count"], 2);
    ActivationStats t;
    t.count = 1;
    t.min = t.max = t.mean = 0.1f;
    EXPECT_EQ(cli::stats_json(t).dump(), R"({"count":1,"min":0.1,"max":0.1,"mean":0.1,"std_dev":0.0,"nan_count":0,"inf_count":0,"zero_count":0})");
}

TEST(PvGenerate, GreedyIdsAndText) {
    const auto r = run_pv({"generate", tiny_model(), "--tokens", "1021,17,263", "-n", "4", "--ignore-eos", "--threads", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::regex ids(R"(generated ids: \d+ \d+ \d+ \d+\n)");
    EXPECT_TRUE(std::regex_search(r.out, ids)) << r.out;
    EXPECT_NE(r.out.find("text:"), std::string::npos) << r.out;
    const auto j1 = run_pv({"generate", tiny_model(), "--prompt", "Hello", "-n", "3", "--ignore-eos", "--json"});
    ASSERT_EQ(j1.code, 0) << j1.err;
    const auto j = nlohmann::json::parse(j1.out);
    EXPECT_EQ(j["generated_tokens"].size(), 3u);
    EXPECT_TRUE(j["text"].is_string());
    EXPECT_EQ(j["prompt"], "Hello");
}

TEST(PvBench, ReportsThroughputAndRss) {
    const auto r = run_pv({"bench", tiny_model(), "--prompt-tokens", "4", "--gen-tokens", "2", "--threads", "2", "--json", "--no-bandwidth"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j["prefill_tokens_per_second"].get<double>(), 0.0);
    EXPECT_GT(j["decode_tokens_per_second"].get<double>(), 0.0);
    EXPECT_GT(j["peak_rss_mib"].get<double>(), 1.0);
    const auto t = run_pv({"bench", tiny_model(), "--prompt-tokens", "4", "--gen-tokens", "2", "--trace", "--no-bandwidth"});
    ASSERT_EQ(t.code, 0) << t.err;
    EXPECT_NE(t.out.find("trace on"), std::string::npos);
    EXPECT_NE(t.out.find("peak RSS:"), std::string::npos);
}

// Lists give one row per test, as llama-bench's -p / -n; decode rows carry the bytes they read
// per second and, with the bandwidth measured, their share of it.
TEST(PvBench, ListsMakeATableOfTests) {
    const auto r = run_pv({"bench", tiny_model(), "--prompt-tokens", "4,8", "--gen-tokens", "2,3", "--threads", "2", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["tests"].size(), 4u);
    EXPECT_EQ(j["tests"][0]["test"], "pp4");
    EXPECT_EQ(j["tests"][1]["test"], "pp8");
    EXPECT_EQ(j["tests"][2]["test"], "tg2");
    EXPECT_EQ(j["tests"][3]["test"], "tg3");
    EXPECT_FALSE(j["tests"][0].contains("gb_per_second"));
    EXPECT_GT(j["tests"][3]["gb_per_second"].get<double>(), 0.0);
    EXPECT_GT(j["memory_bandwidth_gbps"].get<double>(), 0.0);
    EXPECT_GT(j["tests"][3]["fraction_of_bandwidth"].get<double>(), 0.0);
    EXPECT_EQ(j["prompt_tokens"], 4);  // the flat keys: the first test of each kind
    EXPECT_EQ(j["gen_tokens"], 2);

    const auto text = run_pv({"bench", tiny_model(), "--prompt-tokens", "4", "--gen-tokens", "2", "--no-bandwidth"});
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("| pp4 |"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("| tg2 |"), std::string::npos) << text.out;
    EXPECT_EQ(text.out.find("memory bandwidth"), std::string::npos) << text.out;

    const auto bad = run_pv({"bench", tiny_model(), "--prompt-tokens", "4,x"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--prompt-tokens: '4,x' is not a comma-separated list"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace parity
