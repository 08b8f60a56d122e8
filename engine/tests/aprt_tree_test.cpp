// Dump trees of APRT files: layout detection for the per-position and the concatenated layouts,
// forward order and keys, the header-against-place check, and the trees that are refused.

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/trace/aprt_tree.h"
#include "test_support.h"

namespace parity {
namespace {

namespace fs = std::filesystem;

/// Writes an APRT file by hand: magic, layer, count, the values (this host is little endian).
void put_aprt(const fs::path& p, std::uint32_t layer, std::vector<float> values) {
    fs::create_directories(p.parent_path());
    std::vector<std::byte> b(12 + 4 * values.size());
    std::memcpy(b.data(), "APRT", 4);
    const auto n = static_cast<std::uint32_t>(values.size());
    std::memcpy(b.data() + 4, &layer, 4);
    std::memcpy(b.data() + 8, &n, 4);
    if (!values.empty()) std::memcpy(b.data() + 12, values.data(), 4 * values.size());
    testing::write_file(p, b);
}

std::vector<std::string> keys(const aprt::DumpTree& t) {
    std::vector<std::string> k;
    for (const auto& f : t.files) k.push_back(f.key());
    return k;
}

/// Expects UsageError with `text` in its message.
template <typename F>
void expect_usage_error(F&& f, const std::string& text) {
    try {
        f();
        FAIL() << "no error (expected: " << text << ")";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

constexpr std::uint32_t kWhole = 0xFFFFFFFFu;

TEST(AprtTree, PerPositionLayoutInForwardOrder) {
    testing::TempDir dir;
    const auto& d = dir.path();
    put_aprt(d / "pos-0001/embedding.bin", kWhole, {1});
    put_aprt(d / "pos-0000/lm_head.bin", kWhole, {1, 2, 3});
    put_aprt(d / "pos-0000/final_norm.bin", kWhole, {1});
    put_aprt(d / "pos-0000/layer-1/ffn_gate.bin", 1, {1});
    put_aprt(d / "pos-0000/layer-0/ffn_gate.bin", 0, {1});
    put_aprt(d / "pos-0000/layer-0/attn_norm.bin", 0, {1});
    put_aprt(d / "pos-0000/embedding.bin", kWhole, {1});
    put_aprt(d / "pos-0000/layer-10/attn_norm.bin", 10, {1});
    testing::write_file(d / "pos-0000/notes.txt", {});  // not a .bin file: ignored

    EXPECT_EQ(aprt::detect_layout(d), aprt::Layout::PerPosition);
    const aprt::DumpTree t = aprt::scan_tree(d);
    EXPECT_EQ(t.layout, aprt::Layout::PerPosition);
    EXPECT_EQ(keys(t), (std::vector<std::string>{
                           "pos-0000/embedding.bin",
                           "pos-0000/layer-0/attn_norm.bin",
                           "pos-0000/layer-0/ffn_gate.bin",
                           "pos-0000/layer-1/ffn_gate.bin",
                           "pos-0000/layer-10/attn_norm.bin",
                           "pos-0000/final_norm.bin",
                           "pos-0000/lm_head.bin",
                           "pos-0001/embedding.bin",
                       }));
    EXPECT_EQ(t.files[0].position, 0u);
    EXPECT_EQ(t.files[0].layer, kWhole);
    EXPECT_EQ(t.files[3].layer, 1u);
    EXPECT_EQ(t.files[3].stage, "ffn_gate");
    EXPECT_EQ(t.files[7].position, 1u);
    EXPECT_EQ(aprt::layout_name(t.layout), "per-position");
}

TEST(AprtTree, ConcatenatedLayoutWithWholeModelStagesAtRootAndInLayer0) {
    testing::TempDir dir;
    const auto& d = dir.path();
    put_aprt(d / "layer-0/embedding.bin", kWhole, {1, 2});
    put_aprt(d / "layer-0/attn_scores.bin", 0, {1});  // upstream's later sub-stage: per-layer
    put_aprt(d / "layer-0/qkv_bias.bin", 0, {1});
    put_aprt(d / "layer-2/ffn_out.bin", 2, {1});
    put_aprt(d / "lm_head.bin", kWhole, {1});

    EXPECT_EQ(aprt::detect_layout(d), aprt::Layout::Concatenated);
    const aprt::DumpTree t = aprt::scan_tree(d);
    EXPECT_EQ(keys(t), (std::vector<std::string>{"embedding.bin", "layer-0/qkv_bias.bin", "layer-0/attn_scores.bin",
                                                 "layer-2/ffn_out.bin", "lm_head.bin"}));
    EXPECT_FALSE(t.files[0].position.has_value());
    EXPECT_EQ(t.files[0].layer, kWhole);
    EXPECT_EQ(t.files[0].path, d / "layer-0/embedding.bin");
    EXPECT_EQ(aprt::layout_name(t.layout), "concatenated");
}

TEST(AprtTree, ConcatenatedLayoutFromRootFilesOnly) {
    testing::TempDir dir;
    put_aprt(dir / "final_norm.bin", kWhole, {1});
    EXPECT_EQ(aprt::detect_layout(dir.path()), aprt::Layout::Concatenated);
    EXPECT_EQ(keys(aprt::scan_tree(dir.path())), std::vector<std::string>{"final_norm.bin"});
}

TEST(AprtTree, HeaderLayerMustMatchThePlace) {
    testing::TempDir dir;
    const auto& d = dir.path();
    put_aprt(d / "layer-2/ffn_out.bin", 3, {1});
    put_aprt(d / "layer-0/embedding.bin", 0, {1});  // upstream's trace writer: accepted
    put_aprt(d / "lm_head.bin", 0, {1});
    const aprt::DumpTree t = aprt::scan_tree(d);
    ASSERT_EQ(t.files.size(), 3u);
    EXPECT_EQ(aprt::read_dump_file(t.files[0]).layer, 0u);  // embedding
    try {
        (void)aprt::read_dump_file(t.files[1]);
        FAIL() << "accepted layer 3 in layer-2/";
    } catch (const FormatError& e) {
        EXPECT_EQ(e.offset(), 4u);
        EXPECT_EQ(e.file(), (d / "layer-2/ffn_out.bin").string());
        EXPECT_NE(std::string(e.what()).find("header layer 3, but the file's place says layer 2"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW((void)aprt::read_dump_file(t.files[2]), FormatError);  // root lm_head must be 0xFFFFFFFF
}

TEST(AprtTree, RefusedTrees) {
    {
        testing::TempDir dir;
        expect_usage_error([&] { (void)aprt::detect_layout(dir.path()); }, "not an APRT dump tree");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "pos-0000/embedding.bin", kWhole, {1});
        put_aprt(dir / "layer-0/ffn_up.bin", 0, {1});
        expect_usage_error([&] { (void)aprt::detect_layout(dir.path()); }, "mixes pos-NNNN/ directories");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "layer-0/ffn_up.bin", 0, {1});
        put_aprt(dir / "extra/ffn_up.bin", 0, {1});
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "extra: unexpected directory (expected layer-N)");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "ffn_up.bin", 0, {1});
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "'ffn_up' is not a whole-model stage");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "layer-1/lm_head.bin", kWhole, {1});
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "whole-model stage 'lm_head' inside a layer");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "pos-0000/layer-0/embedding.bin", kWhole, {1});
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "whole-model stage 'embedding' inside a layer");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "embedding.bin", kWhole, {1});
        put_aprt(dir / "layer-0/embedding.bin", kWhole, {1});
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "the same stage as");
    }
    {
        testing::TempDir dir;
        fs::create_directories(dir / "layer-0");
        expect_usage_error([&] { (void)aprt::scan_tree(dir.path()); }, "holds no .bin stage file");
    }
    {
        testing::TempDir dir;
        put_aprt(dir / "x.bin", 0, {1});
        expect_usage_error([&] { (void)aprt::detect_layout(dir / "x.bin"); }, "x.bin: not a directory");
    }
}

}  // namespace
}  // namespace parity
