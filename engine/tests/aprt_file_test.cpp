// APRT stage tensor files: the bytes the writer produces (written out by hand here), round
// trips that keep every NaN bit, and one rejection per malformed case, at the offset of the fault.

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/trace/aprt.h"
#include "test_support.h"

namespace parity {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes_of(std::initializer_list<unsigned> values) {
    Bytes b;
    for (const unsigned v : values) b.push_back(static_cast<std::byte>(v));
    return b;
}

std::uint32_t bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

float from_bits(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

/// Expects decode() to throw FormatError at `offset` with `cause` in the message.
void expect_rejected(const Bytes& b, std::uint64_t offset, const std::string& cause) {
    try {
        (void)aprt::decode(b, "x.bin");
        FAIL() << "accepted a malformed file (expected: " << cause << ")";
    } catch (const FormatError& e) {
        EXPECT_EQ(e.file(), "x.bin");
        EXPECT_EQ(e.offset(), offset) << e.what();
        EXPECT_NE(std::string(e.what()).find(cause), std::string::npos) << e.what();
    }
}

TEST(AprtFile, StageListIsUpstreams) {
    ASSERT_EQ(aprt::kStageNames.size(), 19u);
    EXPECT_EQ(aprt::kStageNames.front(), "embedding");
    EXPECT_EQ(aprt::kStageNames[8], "post_attn_residual");
    EXPECT_EQ(aprt::kStageNames[16], "layer_output");
    EXPECT_EQ(aprt::kStageNames.back(), "lm_head");
    EXPECT_EQ(aprt::stage_index("ffn_swigl"), 13);
    EXPECT_EQ(aprt::stage_index("attn_scores"), -1);
    EXPECT_TRUE(aprt::is_whole_model_stage("embedding"));
    EXPECT_TRUE(aprt::is_whole_model_stage("final_norm"));
    EXPECT_TRUE(aprt::is_whole_model_stage("lm_head"));
    EXPECT_FALSE(aprt::is_whole_model_stage("ffn_out"));
}

TEST(AprtFile, EncodeWritesHeaderAndLittleEndianValues) {
    const std::vector<float> v = {1.0f, -2.0f};
    EXPECT_EQ(aprt::encode(3, v), bytes_of({'A', 'P', 'R', 'T', 3, 0, 0, 0, 2, 0, 0, 0,  //
                                            0x00, 0x00, 0x80, 0x3F,                   // 1.0f
                                            0x00, 0x00, 0x00, 0xC0}));                // -2.0f
}

TEST(AprtFile, WholeModelEmptyTensor) {
    EXPECT_EQ(aprt::encode(aprt::kWholeModelLayer, {}),
              bytes_of({'A', 'P', 'R', 'T', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}));
    const aprt::Tensor t = aprt::decode(bytes_of({'A', 'P', 'R', 'T', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}), "e.bin");
    EXPECT_EQ(t.layer, 0xFFFFFFFFu);
    EXPECT_TRUE(t.values.empty());
}

TEST(AprtFile, RoundTripKeepsEveryBit) {
    testing::TempDir dir;
    const std::vector<std::uint32_t> pattern = {
        0x7FC00000u,  // quiet NaN
        0xFFC00001u,  // negative quiet NaN with a payload
        0x7F800001u,  // signalling NaN
        0x80000000u,  // -0
        0x7F800000u,  // +inf
        0x00000001u,  // smallest subnormal
        0x3F800000u,  // 1
    };
    std::vector<float> values;
    for (const auto u : pattern) values.push_back(from_bits(u));
    const auto path = dir / "layer-7" / "ffn_up.bin";
    std::filesystem::create_directories(path.parent_path());
    aprt::write_file(path, 7, values);

    const Bytes raw = testing::read_file(path);
    ASSERT_EQ(raw.size(), 12u + 4u * 7u);
    // The signalling NaN's bytes on disk, little endian, at 12 + 4 * 2.
    EXPECT_EQ(Bytes(raw.begin() + 20, raw.begin() + 24), bytes_of({0x01, 0x00, 0x80, 0x7F}));

    const aprt::Tensor t = aprt::read_file(path);
    EXPECT_EQ(t.layer, 7u);
    ASSERT_EQ(t.values.size(), pattern.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) EXPECT_EQ(bits(t.values[i]), pattern[i]) << "element " << i;
}

TEST(AprtFile, BadMagic) {
    expect_rejected(bytes_of({'G', 'G', 'U', 'F', 0, 0, 0, 0, 0, 0, 0, 0}), 0, "not an APRT file: magic \"GGUF\"");
    expect_rejected(bytes_of({'a', 'P', 'R', 'T', 0, 0, 0, 0, 0, 0, 0, 0}), 0, "not an APRT file");
    expect_rejected(bytes_of({'G', 'G'}), 0, "not an APRT file");
    expect_rejected(bytes_of({'A', 'P', 'R', 0x01, 0, 0, 0, 0, 0, 0, 0, 0}), 0, "magic \"APR\\x01\"");
}

TEST(AprtFile, TruncatedHeader) {
    expect_rejected({}, 0, "truncated APRT header: 0 bytes, need 12");
    expect_rejected(bytes_of({'A', 'P'}), 2, "truncated APRT header: 2 bytes");
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 1, 0, 0}), 11, "truncated APRT header: 11 bytes");
}

TEST(AprtFile, TruncatedValues) {
    // The header counts 3 values, 2 follow (and half of a third).
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F}), 20,
                    "truncated APRT values: the header counts 3 f32 (24 bytes in all), the file has 20 bytes");
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}), 14, "truncated APRT values");
    // A count near 2^32 is rejected without allocating it.
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}), 12,
                    "the header counts 4294967295 f32");
}

TEST(AprtFile, TrailingBytes) {
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0x3F, 0xAA, 0xBB, 0xCC}), 16,
                    "3 trailing bytes after the 1 f32 the header counts");
    expect_rejected(bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 0, 0, 0, 0, 0}), 12, "1 trailing bytes");
}

TEST(AprtFile, ReadFileNamesTheFile) {
    testing::TempDir dir;
    const auto path = dir / "bad.bin";
    testing::write_file(path, bytes_of({'A', 'P', 'R', 'T', 0, 0, 0, 0, 2, 0, 0, 0}));
    try {
        (void)aprt::read_file(path);
        FAIL() << "accepted a truncated file";
    } catch (const FormatError& e) {
        EXPECT_EQ(std::string(e.what()), path.string() +
                                             ": at byte 12: truncated APRT values: the header counts 2 f32 "
                                             "(20 bytes in all), the file has 12 bytes");
    }
    EXPECT_THROW((void)aprt::read_file(dir / "missing.bin"), IoError);
    EXPECT_THROW(aprt::write_file(dir / "no-such-dir" / "x.bin", 0, {}), IoError);
}

}  // namespace
}  // namespace parity
