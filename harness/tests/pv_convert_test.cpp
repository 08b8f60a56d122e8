#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/model/model_file.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::run_pv;

// pv synth -> pv convert to APR -> pv inspect the APR as JSON, end to end through the CLI.
TEST(PvConvert, SynthConvertInspectPipeline) {
    testing::TempDir dir;
    auto r = run_pv({"synth", "--arch", "llama", "--vocab", "300", "--types", "q4_k_m", "-o", dir.path().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto gguf = dir / "synth-llama-tiny-custom-Q4_K_M.gguf";
    ASSERT_TRUE(std::filesystem::exists(gguf)) << r.out;

    const auto apr = dir / "m.apr";
    r = run_pv({"convert", gguf.string(), "-o", apr.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("apr  20 tensors, 20 copied unchanged"), std::string::npos) << r.out;

    r = run_pv({"inspect", apr.string(), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["format"], "apr");
    EXPECT_EQ(j["version"], "2.0");
    EXPECT_EQ(j["metadata"]["architecture"], "llama");
    EXPECT_EQ(j["metadata"]["tied_embeddings"], true);
    EXPECT_EQ(j["metadata"]["quantization"], "Q4_K_M");
    EXPECT_EQ(j["tensors"].size(), 20u);
    // APR lists tensors sorted by name; shapes stay in ne order.
    EXPECT_EQ(j["tensors"][0]["name"], "blk.0.attn_k.weight");
    EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({256, 64}));
}

TEST(PvConvert, Q8_0TensorsAreReportedAsDequantized) {
    testing::TempDir dir;
    auto r = run_pv({"synth", "--vocab", "300", "--types", "q8_0", "-o", dir.path().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    r = run_pv({"convert", (dir / "synth-qwen2-tiny-custom-Q8_0.gguf").string(), "-o", (dir / "m.apr").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    // 4 layers x 7 matrices + token_embd + output = 30 tensors
    EXPECT_NE(r.err.find("30 tensor(s) Q8_0 -> F32 (the target format has no such type)"), std::string::npos) << r.err;
}

TEST(PvConvert, BadUsage) {
    testing::TempDir dir;
    EXPECT_EQ(run_pv({"convert", "x.gguf"}).code, 2);  // no -o
    const auto r = run_pv({"convert", (dir / "missing.gguf").string(), "-o", (dir / "o.apr").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
    EXPECT_EQ(run_pv({"convert", "a", "-o", "b", "--dtype", "q4"}).code, 2);
}

TEST(PvSynth, BadArgumentsAreUsageErrors) {
    EXPECT_EQ(run_pv({"synth", "--types", "q9_9", "-o", "/tmp"}).code, 2);
    EXPECT_EQ(run_pv({"synth", "--preset", "huge"}).code, 2);
    const auto r = run_pv({"synth", "--heads", "3"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("heads must divide embd"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace parity
