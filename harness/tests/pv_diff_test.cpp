// pv diff: exit codes 0/1/2 on APRT files written here by hand, the statistics and the top-K
// list against hand-computed values, tolerance edges, NaN rules, dump trees (pairs, one-sided
// files, layouts) and the JSON fields.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

namespace fs = std::filesystem;
using testing::run_pv;
using nlohmann::json;

constexpr std::uint32_t kWhole = 0xFFFFFFFFu;

/// An APRT file written by hand: magic, layer, count, raw f32 bits (this host is little endian).
void put_bits(const fs::path& p, std::uint32_t layer, const std::vector<std::uint32_t>& bits) {
    if (p.has_parent_path()) fs::create_directories(p.parent_path());
    std::vector<std::byte> b(12 + 4 * bits.size());
    std::memcpy(b.data(), "APRT", 4);
    const auto n = static_cast<std::uint32_t>(bits.size());
    std::memcpy(b.data() + 4, &layer, 4);
    std::memcpy(b.data() + 8, &n, 4);
    if (!bits.empty()) std::memcpy(b.data() + 12, bits.data(), 4 * bits.size());
    testing::write_file(p, b);
}

void put(const fs::path& p, std::uint32_t layer, const std::vector<float>& values) {
    std::vector<std::uint32_t> bits(values.size());
    if (!values.empty()) std::memcpy(bits.data(), values.data(), 4 * values.size());
    put_bits(p, layer, bits);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

json diff_json(std::vector<std::string> args, int expected_code) {
    args.insert(args.begin(), "diff");
    args.push_back("--json");
    const auto r = run_pv(args);
    EXPECT_EQ(r.code, expected_code) << r.err;
    return json::parse(r.out);
}

/// pv diff A B [opts] on two one-file-each values; returns the exit code.
int diff_code(const std::vector<float>& a, const std::vector<float>& b, std::vector<std::string> opts = {}) {
    testing::TempDir dir;
    put(dir / "a.bin", 0, a);
    put(dir / "b.bin", 0, b);
    std::vector<std::string> args = {"diff", (dir / "a.bin").string(), (dir / "b.bin").string()};
    args.insert(args.end(), opts.begin(), opts.end());
    const auto r = run_pv(args);
    EXPECT_TRUE(r.err.empty()) << r.err;
    return r.code;
}

void expect_bad_input(const testing::PvResult& r, const std::string& cause) {
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_TRUE(has(r.err, cause)) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(PvDiff, IdenticalFilesExitZero) {
    testing::TempDir dir;
    put(dir / "a.bin", 3, {1, 2, 3, 4});
    put(dir / "b.bin", 3, {1, 2, 3, 4});
    const auto r = run_pv({"diff", (dir / "a.bin").string(), (dir / "b.bin").string()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "ok      a.bin vs b.bin  layer 3  n 4  differing 0  outside 0  nan-mismatch 0  "
                           "max|d| 0.000000e+00 at [0]  rms(d) 0.000000e+00  cosine 1.0000000000\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "1 pair: 1 within tolerance, 0 differ\nwithin tolerance\n")) << r.out;
}

TEST(PvDiff, StatisticsAgainstHandComputedValues) {
    testing::TempDir dir;
    put(dir / "a.bin", 0, {1, 2, 3, 4});
    put(dir / "b.bin", 0, {1, 2.5, 3, 4});
    const json j = diff_json({(dir / "a.bin").string(), (dir / "b.bin").string()}, 1);
    ASSERT_EQ(j["pairs"].size(), 1u);
    const json& p = j["pairs"][0];
    EXPECT_EQ(p["count"], 4);
    EXPECT_EQ(p["max_abs_diff"], 0.5);
    EXPECT_EQ(p["max_abs_diff_index"], 1);
    EXPECT_EQ(p["rms_diff"], 0.25);  // sqrt(0.5^2 / 4)
    // a.b = 1 + 5 + 9 + 16 = 31, |a|^2 = 30, |b|^2 = 1 + 6.25 + 9 + 16 = 32.25
    EXPECT_NEAR(p["cosine"].get<double>(), 31.0 / std::sqrt(30.0 * 32.25), 1e-12);
    EXPECT_EQ(p["differing"], 1);
    EXPECT_EQ(p["outside_tolerance"], 1);
    ASSERT_EQ(p["top"].size(), 1u);
    EXPECT_EQ(p["top"][0]["index"], 1);
    EXPECT_EQ(p["top"][0]["a"], 2.0);
    EXPECT_EQ(p["top"][0]["b"], 2.5);
    EXPECT_EQ(p["top"][0]["abs_diff"], 0.5);
}

TEST(PvDiff, TopKLargestFirstWithIndices) {
    testing::TempDir dir;
    put(dir / "a.bin", 0, {0, 0, 0, 0, 0, 0});
    put(dir / "b.bin", 0, {0.125f, 0.5f, -0.375f, 0.0625f, 0.25f, -0.25f});
    const std::string a = (dir / "a.bin").string(), b = (dir / "b.bin").string();

    const json j = diff_json({a, b, "--top", "4"}, 1);
    const json& top = j["pairs"][0]["top"];
    ASSERT_EQ(top.size(), 4u);
    const std::vector<int> idx = {1, 2, 4, 5};  // 0.5, 0.375, then the tie 0.25 / 0.25 by index
    const std::vector<double> d = {0.5, 0.375, 0.25, 0.25};
    const std::vector<double> bv = {0.5, -0.375, 0.25, -0.25};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(top[i]["index"], idx[i]) << i;
        EXPECT_EQ(top[i]["abs_diff"], d[i]) << i;
        EXPECT_EQ(top[i]["a"], 0.0) << i;
        EXPECT_EQ(top[i]["b"], bv[i]) << i;
    }
    EXPECT_EQ(j["top"], 4);

    // Default K = 5; the text lists them worst first.
    const auto r = run_pv({"diff", a, b});
    EXPECT_EQ(r.code, 1);
    const auto p1 = r.out.find("    [1]  a +0.000000e+00  b +5.000000e-01  |d| 5.000000e-01\n");
    const auto p2 = r.out.find("    [2]  a +0.000000e+00  b -3.750000e-01  |d| 3.750000e-01\n");
    const auto p0 = r.out.find("    [0]  a +0.000000e+00  b +1.250000e-01  |d| 1.250000e-01\n");
    ASSERT_NE(p1, std::string::npos) << r.out;
    ASSERT_NE(p2, std::string::npos) << r.out;
    ASSERT_NE(p0, std::string::npos) << r.out;
    EXPECT_LT(p1, p2);
    EXPECT_LT(p2, p0);
    EXPECT_FALSE(has(r.out, "    [3]")) << r.out;  // the sixth largest is not listed

    EXPECT_EQ(diff_json({a, b, "--top", "0"}, 1)["pairs"][0]["top"].size(), 0u);
    EXPECT_EQ(diff_json({a, b, "--top", "100"}, 1)["pairs"][0]["top"].size(), 6u);  // only differing elements
}

TEST(PvDiff, ToleranceEdges) {
    EXPECT_EQ(diff_code({1}, {1.5}), 1);                            // default: exact
    EXPECT_EQ(diff_code({1}, {1.5}, {"--atol", "0.5"}), 0);         // |d| == atol
    EXPECT_EQ(diff_code({1}, {1.5}, {"--atol", "0.4375"}), 1);      // just under
    EXPECT_EQ(diff_code({1}, {2}, {"--rtol", "0.5"}), 0);           // 1 <= 0.5 * |2|
    EXPECT_EQ(diff_code({1}, {2}, {"--rtol", "0.375"}), 1);
    EXPECT_EQ(diff_code({2}, {1}, {"--rtol", "0.5"}), 1);           // relative to |b|: 1 > 0.5 * |1|
    EXPECT_EQ(diff_code({1}, {2}, {"--atol", "0.5", "--rtol", "0.25"}), 0);   // 1 <= 0.5 + 0.25 * 2
    EXPECT_EQ(diff_code({1}, {2}, {"--atol", "0.25", "--rtol", "0.25"}), 1);  // 1 > 0.25 + 0.5
    EXPECT_EQ(diff_code({-0.0f}, {0.0f}), 0);                       // -0 == +0
    EXPECT_EQ(diff_code({}, {}), 0);                                // two empty tensors
}

TEST(PvDiff, NanRules) {
    const auto code_bits = [](std::vector<std::uint32_t> a, std::vector<std::uint32_t> b,
                              std::vector<std::string> opts) {
        testing::TempDir dir;
        put_bits(dir / "a.bin", 0, a);
        put_bits(dir / "b.bin", 0, b);
        std::vector<std::string> args = {"diff", (dir / "a.bin").string(), (dir / "b.bin").string()};
        args.insert(args.end(), opts.begin(), opts.end());
        return run_pv(args);
    };
    const std::uint32_t qnan = 0x7FC00000u, payload = 0x7FC00001u, one = 0x3F800000u, inf = 0x7F800000u;
    EXPECT_EQ(code_bits({qnan, one}, {qnan, one}, {}).code, 0);                   // same NaN bits
    EXPECT_EQ(code_bits({qnan}, {one}, {"--atol", "1e30"}).code, 1);              // NaN vs number
    EXPECT_EQ(code_bits({one}, {qnan}, {"--atol", "1e30", "--rtol", "1"}).code, 1);
    EXPECT_EQ(code_bits({qnan}, {payload}, {"--atol", "1e30"}).code, 1);          // other NaN bits
    EXPECT_EQ(code_bits({inf}, {inf}, {}).code, 0);
    EXPECT_EQ(code_bits({inf}, {one}, {"--atol", "1e30", "--rtol", "1e30"}).code, 1);

    const auto r = code_bits({one, qnan, one}, {one, one, 0x40000000u}, {"--json"});
    EXPECT_EQ(r.code, 1);
    const json p = json::parse(r.out)["pairs"][0];
    EXPECT_EQ(p["nan_mismatches"], 1);
    EXPECT_EQ(p["differing"], 2);
    EXPECT_EQ(p["max_abs_diff"], 1.0);  // |1 - 2|; the NaN mismatch has no |d|
    EXPECT_EQ(p["max_abs_diff_index"], 2);
    ASSERT_EQ(p["top"].size(), 2u);
    EXPECT_EQ(p["top"][0]["index"], 1);  // NaN mismatches rank first
    EXPECT_EQ(p["top"][0]["a"], "nan");
    EXPECT_EQ(p["top"][0]["a_bits"], "0x7fc00000");
    EXPECT_EQ(p["top"][0]["b_bits"], "0x3f800000");
    EXPECT_EQ(p["top"][0]["abs_diff"], "nan");
    EXPECT_EQ(p["top"][1]["index"], 2);
}

TEST(PvDiff, BadFilesExitTwoWithOneLineNamingTheFile) {
    testing::TempDir dir;
    const auto good = (dir / "good.bin").string();
    put(good, 0, {1, 2});
    testing::write_file(dir / "gguf.bin", {std::byte{'G'}, std::byte{'G'}, std::byte{'U'}, std::byte{'F'},
                                           std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                           std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}});
    expect_bad_input(run_pv({"diff", good, (dir / "gguf.bin").string()}),
                     (dir / "gguf.bin").string() + ": at byte 0: not an APRT file");

    testing::write_file(dir / "short.bin", {std::byte{'A'}, std::byte{'P'}, std::byte{'R'}, std::byte{'T'}});
    expect_bad_input(run_pv({"diff", (dir / "short.bin").string(), good}),
                     (dir / "short.bin").string() + ": at byte 4: truncated APRT header");

    put_bits(dir / "trunc.bin", 0, {0x3F800000u, 0x40000000u});
    {
        auto bytes = testing::read_file(dir / "trunc.bin");
        bytes.resize(bytes.size() - 1);
        testing::write_file(dir / "trunc.bin", bytes);
    }
    expect_bad_input(run_pv({"diff", good, (dir / "trunc.bin").string()}), "trunc.bin: at byte 19: truncated APRT values");

    {
        auto bytes = testing::read_file(good);
        bytes.push_back(std::byte{0});
        testing::write_file(dir / "long.bin", bytes);
    }
    expect_bad_input(run_pv({"diff", good, (dir / "long.bin").string()}), "long.bin: at byte 20: 1 trailing bytes");

    put(dir / "three.bin", 0, {1, 2, 3});
    expect_bad_input(run_pv({"diff", good, (dir / "three.bin").string()}),
                     "three.bin: at byte 8: element count 3 differs from 2 in " + good);

    put(dir / "layer5.bin", 5, {1, 2});
    expect_bad_input(run_pv({"diff", good, (dir / "layer5.bin").string()}),
                     "layer5.bin: at byte 4: header layer 5 differs from 0 in " + good);
    put(dir / "whole.bin", kWhole, {1, 2});
    expect_bad_input(run_pv({"diff", good, (dir / "whole.bin").string()}),
                     "header layer 0xFFFFFFFF (whole model) differs from 0");

    expect_bad_input(run_pv({"diff", good, (dir / "missing.bin").string()}),
                     (dir / "missing.bin").string() + ": cannot open");
    expect_bad_input(run_pv({"diff", good, dir.path().string()}), "a directory, but " + good + " is a file");
}

TEST(PvDiff, BadOptionsExitTwo) {
    testing::TempDir dir;
    put(dir / "a.bin", 0, {1});
    const std::string a = (dir / "a.bin").string();
    EXPECT_EQ(run_pv({"diff", a}).code, 2);
    EXPECT_EQ(run_pv({"diff", a, a, "--atol", "-1"}).code, 2);
    EXPECT_EQ(run_pv({"diff", a, a, "--rtol", "nan"}).code, 2);
    EXPECT_EQ(run_pv({"diff", a, a, "--top", "-1"}).code, 2);
    EXPECT_EQ(run_pv({"diff", a, a, a}).code, 2);
    const auto help = run_pv({"diff", "--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_TRUE(has(help.out, "--atol")) << help.out;
    EXPECT_TRUE(has(run_pv({"--help"}).out, "  diff")) << "pv --help lists diff";
}

/// A small per-position tree: two positions, whole-model and per-layer stages.
void put_tree(const fs::path& d, float ffn_gate_1) {
    for (const char* pos : {"pos-0000", "pos-0001"}) {
        put(d / pos / "embedding.bin", kWhole, {1, 2});
        put(d / pos / "layer-0/attn_norm.bin", 0, {3, 4});
        put(d / pos / "layer-1/ffn_gate.bin", 1, {5, ffn_gate_1});
        put(d / pos / "lm_head.bin", kWhole, {7, 8, 9});
    }
}

TEST(PvDiff, IdenticalTreesExitZero) {
    testing::TempDir a, b;
    put_tree(a.path(), 6);
    put_tree(b.path(), 6);
    const auto r = run_pv({"diff", a.path().string(), b.path().string()});
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_TRUE(has(r.out, "layout: per-position\n")) << r.out;
    EXPECT_TRUE(has(r.out, "ok      pos-0001/layer-1/ffn_gate.bin  layer 1  n 2")) << r.out;
    EXPECT_TRUE(has(r.out, "ok      pos-0000/lm_head.bin  whole-model  n 3")) << r.out;
    EXPECT_TRUE(has(r.out, "8 pairs: 8 within tolerance, 0 differ; 0 only in A, 0 only in B\n")) << r.out;
}

TEST(PvDiff, TreesPairFileByFileInForwardOrder) {
    testing::TempDir a, b;
    put_tree(a.path(), 6);
    put_tree(b.path(), 6.5f);
    const json j = diff_json({a.path().string(), b.path().string()}, 1);
    EXPECT_EQ(j["kind"], "trees");
    EXPECT_EQ(j["layout"], "per-position");
    const std::vector<std::string> order = {
        "pos-0000/embedding.bin", "pos-0000/layer-0/attn_norm.bin", "pos-0000/layer-1/ffn_gate.bin",
        "pos-0000/lm_head.bin",   "pos-0001/embedding.bin",         "pos-0001/layer-0/attn_norm.bin",
        "pos-0001/layer-1/ffn_gate.bin", "pos-0001/lm_head.bin"};
    ASSERT_EQ(j["pairs"].size(), order.size());
    for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(j["pairs"][i]["key"], order[i]) << i;
    EXPECT_EQ(j["pairs"][2]["within_tolerance"], false);
    EXPECT_EQ(j["pairs"][2]["layer"], 1);
    EXPECT_EQ(j["pairs"][2]["max_abs_diff"], 0.5);
    EXPECT_EQ(j["pairs"][2]["top"][0]["index"], 1);
    EXPECT_EQ(j["pairs"][3]["layer"], "whole-model");
    EXPECT_EQ(j["pairs"][3]["within_tolerance"], true);
    EXPECT_EQ(j["summary"]["differ"], 2);
    EXPECT_EQ(j["summary"]["within_tolerance"], 6);

    EXPECT_EQ(run_pv({"diff", a.path().string(), b.path().string(), "--atol", "0.5"}).code, 0);
}

TEST(PvDiff, FilesOnOneSideOnlyAreListedAndExitOne) {
    testing::TempDir a, b;
    put_tree(a.path(), 6);
    put_tree(b.path(), 6);
    put(a.path() / "pos-0000/layer-1/ffn_up.bin", 1, {1});
    put(b.path() / "pos-0001/final_norm.bin", kWhole, {1});
    fs::remove(b.path() / "pos-0000/embedding.bin");

    const auto r = run_pv({"diff", a.path().string(), b.path().string()});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(has(r.out, "only in A  pos-0000/embedding.bin\nonly in A  pos-0000/layer-1/ffn_up.bin\n"
                           "only in B  pos-0001/final_norm.bin\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "7 pairs: 7 within tolerance, 0 differ; 2 only in A, 1 only in B\nDIFFERS\n")) << r.out;

    const json j = diff_json({a.path().string(), b.path().string()}, 1);
    EXPECT_EQ(j["only_in_a"], (json{"pos-0000/embedding.bin", "pos-0000/layer-1/ffn_up.bin"}));
    EXPECT_EQ(j["only_in_b"], json::array({"pos-0001/final_norm.bin"}));
    EXPECT_EQ(j["within_tolerance"], false);
}

TEST(PvDiff, ConcatenatedTreesPairWholeModelStagesAtRootAndInLayer0) {
    testing::TempDir a, b;
    put(a.path() / "embedding.bin", kWhole, {1, 2});
    put(a.path() / "layer-0/ffn_swigl.bin", 0, {3});
    put(b.path() / "layer-0/embedding.bin", 0, {1, 2});  // as upstream's trace writer puts it
    put(b.path() / "layer-0/ffn_swigl.bin", 0, {3});
    const json j = diff_json({a.path().string(), b.path().string()}, 0);
    EXPECT_EQ(j["layout"], "concatenated");
    ASSERT_EQ(j["pairs"].size(), 2u);
    EXPECT_EQ(j["pairs"][0]["key"], "embedding.bin");
    EXPECT_EQ(j["pairs"][0]["b_path"], (b.path() / "layer-0/embedding.bin").string());
    EXPECT_EQ(j["pairs"][0]["layer"], "whole-model");
    EXPECT_EQ(j["pairs"][1]["key"], "layer-0/ffn_swigl.bin");
}

TEST(PvDiff, BadTreesExitTwo) {
    {
        testing::TempDir a, b;
        put_tree(a.path(), 6);
        put(b.path() / "layer-1/ffn_gate.bin", 1, {5, 6});
        expect_bad_input(run_pv({"diff", a.path().string(), b.path().string()}),
                         "concatenated layout, but " + a.path().string() + " is per-position");
    }
    {
        testing::TempDir a, b;
        put_tree(a.path(), 6);
        put_tree(b.path(), 6);
        testing::write_file(b.path() / "pos-0001/layer-0/attn_norm.bin", {std::byte{'A'}});
        expect_bad_input(run_pv({"diff", a.path().string(), b.path().string()}),
                         (b.path() / "pos-0001/layer-0/attn_norm.bin").string() + ": at byte 1: truncated APRT header");
    }
    {
        testing::TempDir a, b;
        put_tree(a.path(), 6);
        put_tree(b.path(), 6);
        put(b.path() / "pos-0000/layer-1/ffn_gate.bin", 2, {5, 6});
        expect_bad_input(run_pv({"diff", a.path().string(), b.path().string()}),
                         "ffn_gate.bin: at byte 4: header layer 2, but the file's place says layer 1");
    }
    {
        testing::TempDir a, b;
        put_tree(a.path(), 6);
        put_tree(b.path(), 6);
        put(b.path() / "pos-0000/lm_head.bin", kWhole, {7, 8});
        expect_bad_input(run_pv({"diff", a.path().string(), b.path().string()}),
                         "lm_head.bin: at byte 8: element count 2 differs from 3 in " +
                             (a.path() / "pos-0000/lm_head.bin").string());
    }
    {
        testing::TempDir a, b;
        put_tree(a.path(), 6);
        fs::create_directories(b.path() / "junk");
        expect_bad_input(run_pv({"diff", a.path().string(), b.path().string()}), "not an APRT dump tree");
    }
}

TEST(PvDiff, JsonFields) {
    testing::TempDir dir;
    put(dir / "a.bin", kWhole, {1, 2});
    put(dir / "b.bin", kWhole, {1, 2});
    const std::string a = (dir / "a.bin").string(), b = (dir / "b.bin").string();
    const json j = diff_json({a, b, "--atol", "0.25", "--rtol", "0.125", "--top", "3"}, 0);
    EXPECT_EQ(j["schema"], "pv-diff-v1");
    EXPECT_EQ(j["a"], a);
    EXPECT_EQ(j["b"], b);
    EXPECT_EQ(j["kind"], "files");
    EXPECT_TRUE(j["layout"].is_null());
    EXPECT_EQ(j["atol"], 0.25);
    EXPECT_EQ(j["rtol"], 0.125);
    EXPECT_EQ(j["top"], 3);
    EXPECT_EQ(j["within_tolerance"], true);
    EXPECT_EQ(j["only_in_a"], json::array());
    EXPECT_EQ(j["only_in_b"], json::array());
    EXPECT_EQ(j["summary"], (json{{"pairs", 1}, {"within_tolerance", 1}, {"differ", 0}, {"only_in_a", 0},
                                  {"only_in_b", 0}}));
    ASSERT_EQ(j["pairs"].size(), 1u);
    const json& p = j["pairs"][0];
    std::vector<std::string> fields;
    for (const auto& [k, v] : p.items()) fields.push_back(k);
    EXPECT_EQ(fields, (std::vector<std::string>{"a_path", "b_path", "cosine", "count", "differing", "key", "layer",
                                                "max_abs_diff", "max_abs_diff_index", "nan_mismatches",
                                                "outside_tolerance", "rms_diff", "top", "within_tolerance"}));
    EXPECT_EQ(p["key"], "a.bin vs b.bin");
    EXPECT_EQ(p["a_path"], a);
    EXPECT_EQ(p["b_path"], b);
    EXPECT_EQ(p["layer"], "whole-model");
    EXPECT_EQ(p["count"], 2);
    EXPECT_EQ(p["cosine"], 1.0);
    EXPECT_EQ(p["top"], json::array());
}

}  // namespace
}  // namespace parity
