#include <chrono>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::run_pv;

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(PvInspect, MissingFileIsOneLineError) {
    const auto r = run_pv({"inspect", "/nonexistent/model.gguf"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("/nonexistent/model.gguf: cannot open"), std::string::npos) << r.err;
}

TEST(PvInspect, MalformedFileNamesOffsetAndCause) {
    testing::TempDir dir;
    const auto path = dir / "bad.gguf";
    std::vector<std::byte> bytes(24, std::byte{0});
    std::memcpy(bytes.data(), "GGUF\x07\0\0\0", 8);  // version 7
    testing::write_file(path, bytes);
    const auto r = run_pv({"inspect", path.string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("bad.gguf: at byte 4: unsupported GGUF version 7"), std::string::npos) << r.err;
}

// A small file whose contents the test knows independently of the reader.
std::string write_small_model(const testing::TempDir& dir) {
    const auto path = (dir / "small.gguf").string();
    std::vector<std::byte> w(2 * 3 * sizeof(float));
    const float values[6] = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f, -0.25f};
    std::memcpy(w.data(), values, sizeof values);
    gguf::Array tokens{gguf::ValueType::STRING, {}};
    for (int i = 0; i < 20; ++i) tokens.items.emplace_back("tok" + std::to_string(i));
    gguf::write_file(path,
                     {{"general.architecture", gguf::Value("toy")},
                      {"toy.block_count", gguf::Value(std::uint32_t{2})},
                      {"tokenizer.ggml.tokens", gguf::Value(tokens)}},
                     {{"weight", GgmlType::F32, {3, 2}, w}});
    return path;
}

TEST(PvInspect, TextShowsHeaderMetadataAndTensorTable) {
    testing::TempDir dir;
    const auto path = write_small_model(dir);
    const auto r = run_pv({"inspect", path});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("format:    GGUF v3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("alignment: 32"), std::string::npos);
    EXPECT_NE(r.out.find("\"toy\""), std::string::npos);
    EXPECT_NE(r.out.find("arr[str,20]"), std::string::npos);
    EXPECT_NE(r.out.find("... (12 more)"), std::string::npos) << "long arrays are abbreviated";
    EXPECT_EQ(r.out.find("\"tok19\""), std::string::npos);
    EXPECT_NE(r.out.find("weight  F32     [3, 2]"), std::string::npos) << r.out;

    const auto all = run_pv({"inspect", path, "--all"});
    EXPECT_NE(all.out.find("\"tok19\""), std::string::npos);
    EXPECT_EQ(all.out.find("more)"), std::string::npos);
}

TEST(PvInspect, JsonHasTheDocumentedShape) {
    testing::TempDir dir;
    const auto path = write_small_model(dir);
    const auto r = run_pv({"inspect", path, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["format"], "gguf");
    EXPECT_EQ(j["version"], 3);
    EXPECT_EQ(j["alignment"], 32);
    EXPECT_EQ(j["metadata"]["toy.block_count"], 2);
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"].size(), 20u);  // JSON is never abbreviated
    ASSERT_EQ(j["tensors"].size(), 1u);
    EXPECT_EQ(j["tensors"][0]["name"], "weight");
    EXPECT_EQ(j["tensors"][0]["type"], "F32");
    EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({3, 2}));
    EXPECT_EQ(j["tensors"][0]["offset"], 0);
    EXPECT_EQ(j["tensors"][0]["bytes"], 24);
}

TEST(PvInspect, DequantOfUnknownTensorFails) {
    testing::TempDir dir;
    const auto path = write_small_model(dir);
    const auto r = run_pv({"inspect", path, "--tensor", "nope", "--dequant", (dir / "o.bin").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no tensor named 'nope'"), std::string::npos) << r.err;
}

// An empty tensor that claims 60235645016080384 rows of nothing (a fuzzer finding: pv spun at
// 100% CPU over the rows): --dequant writes 0 values at once.
TEST(PvInspect, DequantOfAnEmptyTensorReturnsPromptly) {
    testing::TempDir dir;
    const auto path = (dir / "empty.gguf").string();
    gguf::write_file(path, {{"general.architecture", gguf::Value("toy")}},
                     {{"b", GgmlType::F32, {0, 60235645016080384}, {}}});
    const auto out = dir / "b.bin";
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_pv({"inspect", path, "--tensor", "b", "--dequant", out.string()});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("wrote 0 f32 values of 'b' (F32 [0, 60235645016080384]"), std::string::npos) << r.err;
    ASSERT_TRUE(std::filesystem::exists(out));
    EXPECT_EQ(std::filesystem::file_size(out), 0u);
}

// ggml's own dequantization of every quantized type is stored in quant-zoo.gguf as deq.T:
// `pv inspect --dequant` of q.T must reproduce it bit for bit.
class PvInspectDequant : public ::testing::TestWithParam<const char*> {};

TEST_P(PvInspectDequant, MatchesGgmlBitForBit) {
    PARITY_REQUIRE_FIXTURE(zoo, "llamacpp/quant/quant-zoo.gguf");
    const std::string type = GetParam();
    testing::TempDir dir;
    const auto out = dir / "deq.bin";
    const auto r = run_pv({"inspect", zoo.string(), "--tensor", "q." + type, "--dequant", out.string()});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto got = testing::read_file(out);
    const auto f = gguf::File::open(zoo.string());
    const auto expected = f.tensor_data(f.tensor("deq." + type));
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(QuantZoo, PvInspectDequant,
                         ::testing::Values("F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
                                           "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "Q8_1"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace parity
