// A corpus of broken GGUF images, one per failure mode; each must be rejected with its own
// error naming the file and the offset of the bad field. Never a crash, hang or huge
// allocation (the suite also runs under ASan/UBSan).

#include <chrono>
#include <random>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "gguf_bytes.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::GgufBytes;

constexpr std::uint32_t kF32 = 0;
constexpr std::uint32_t kQ4_0 = 2;

// Parses `bytes` and expects a FormatError whose cause contains `cause` at byte `offset`.
void expect_error(const GgufBytes& b, std::uint64_t offset, const std::string& cause) {
    try {
        gguf::File::parse(b.bytes(), "broken.gguf");
        ADD_FAILURE() << "parsed without error; expected: " << cause;
    } catch (const FormatError& e) {
        EXPECT_EQ(e.file(), "broken.gguf");
        EXPECT_NE(e.cause().find(cause), std::string::npos) << "cause: " << e.cause() << "\nexpected: " << cause;
        EXPECT_EQ(e.offset(), offset) << e.what();
        EXPECT_NE(std::string(e.what()).find("broken.gguf: at byte " + std::to_string(offset)), std::string::npos);
    }
}

// A valid file: one key, one 4x2 F32 tensor. Layout offsets used below:
// header 0..24, kv at 24 (key "general.architecture" 8+20, type 4, str 8+4 → 44 bytes) ends at 68,
// tensor info at 68 (name "w" 8+1, n_dims 4, ne 16, type 4, offset 8 → 41) ends at 109,
// data at 128 (32 bytes).
GgufBytes valid_file() {
    GgufBytes b;
    b.header(1, 1).kv_str("general.architecture", "test").tensor("w", {4, 2}, kF32, 0).pad_to(32).zeros(32);
    return b;
}

GgufBytes truncated(const GgufBytes& b, std::size_t n) {
    GgufBytes out;
    for (std::size_t i = 0; i < n; ++i) out.u8(static_cast<std::uint8_t>(b.bytes()[i]));
    return out;
}

TEST(GgufMalformed, ValidBaselineParses) {
    const auto b = valid_file();
    const auto f = gguf::File::parse(b.bytes(), "ok.gguf");
    EXPECT_EQ(f.data_offset(), 128u);
    EXPECT_EQ(f.tensors().at(0).n_bytes, 32u);
}

TEST(GgufMalformed, BadMagic) {
    GgufBytes b;
    b.u32(0x46554746).u32(3).u64(0).u64(0);
    expect_error(b, 0, "bad magic 0x46554746");
}

TEST(GgufMalformed, EmptyFile) { expect_error(GgufBytes{}, 0, "file truncated: magic"); }

TEST(GgufMalformed, UnsupportedVersion1) {
    GgufBytes b;
    b.header(0, 0, 1);
    expect_error(b, 4, "unsupported GGUF version 1");
}

TEST(GgufMalformed, BigEndianFile) {
    GgufBytes b;
    b.header(0, 0, 0x03000000);
    expect_error(b, 4, "big-endian GGUF");
}

TEST(GgufMalformed, TruncatedInHeader) { expect_error(truncated(valid_file(), 12), 8, "file truncated: n_tensors"); }

// Metadata only (no tensors, so the tensor-count check cannot fire first): the first pair
// ("general.architecture" = "test") spans 24..68, the second ("x.count" = u32 7) 68..91, its value at 87.
GgufBytes metadata_only_file() {
    GgufBytes b;
    b.header(0, 2).kv_str("general.architecture", "test").kv_u32("x.count", 7);
    return b;
}

TEST(GgufMalformed, TruncatedInMetadataKey) {
    // Cut inside the first key's characters (32..52): its declared length no longer fits.
    expect_error(truncated(metadata_only_file(), 50), 24, "metadata key length 20 exceeds the 18 byte(s) left");
}

TEST(GgufMalformed, TruncatedInMetadataValue) {
    // The second value (a u32 at 87) is cut after 2 bytes.
    expect_error(truncated(metadata_only_file(), 89), 87, "file truncated: value of 'x.count' needs 4 byte(s), 2 left");
}

TEST(GgufMalformed, TruncatedInTensorInfo) {
    // The offset field of tensor "w" starts at 68 + 9 + 4 + 16 + 4 = 101; cut 4 bytes into it.
    expect_error(truncated(valid_file(), 105), 101, "file truncated: tensor 'w' offset needs 8 byte(s), 4 left");
}

TEST(GgufMalformed, TruncatedBeforeDataSection) {
    expect_error(truncated(valid_file(), 120), 109, "the data section should start at byte 128");
}

TEST(GgufMalformed, TruncatedInDataSection) {
    expect_error(truncated(valid_file(), 150), 101, "tensor 'w' data [0, 0+32) extends past the end");
}

TEST(GgufMalformed, TensorCountFarBeyondFile) {
    GgufBytes b;
    b.header(std::uint64_t{1} << 60, 0);
    expect_error(b, 8, "n_tensors 1152921504606846976 cannot fit");
}

TEST(GgufMalformed, KvCountFarBeyondFile) {
    GgufBytes b;
    b.header(0, 1000000).kv_u32("a", 1);
    expect_error(b, 16, "n_kv 1000000 cannot fit");
}

TEST(GgufMalformed, StringLongerThanFile) {
    GgufBytes b;
    b.header(0, 1).str("general.name").u32(8).u64(std::uint64_t{1} << 40).zeros(16);
    expect_error(b, 48, "value of 'general.name' length 1099511627776 exceeds the 16 byte(s) left");
}

TEST(GgufMalformed, ArrayCountBeyondFile) {
    GgufBytes b;
    b.header(0, 1).str("tokens").u32(9).u32(8).u64(std::uint64_t{1} << 50).zeros(64);
    expect_error(b, 46, "array 'tokens' count 1125899906842624 of str cannot fit");
}

TEST(GgufMalformed, ArraysNestedTooDeep) {
    GgufBytes b;
    b.header(0, 1).str("deep").u32(9);
    for (int i = 0; i < 20; ++i) b.u32(9).u64(1);  // array of array of ... (20 levels)
    b.zeros(64);
    EXPECT_THROW(gguf::File::parse(b.bytes(), "deep.gguf"), FormatError);
    try {
        gguf::File::parse(b.bytes(), "deep.gguf");
    } catch (const FormatError& e) {
        EXPECT_NE(e.cause().find("nests deeper than 8 levels"), std::string::npos) << e.cause();
    }
}

TEST(GgufMalformed, UnknownValueType) {
    GgufBytes b;
    b.header(0, 1).str("k").u32(13).u32(0);
    expect_error(b, 33, "unknown GGUF value type 13");
}

TEST(GgufMalformed, BoolOutOfRange) {
    GgufBytes b;
    b.header(0, 1).str("flag").u32(7).u8(2);
    expect_error(b, 40, "bool byte is 2");
}

TEST(GgufMalformed, DuplicateKeys) {
    GgufBytes b;
    b.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
    expect_error(b, 43, "duplicate metadata key 'a.b'");
}

TEST(GgufMalformed, AlignmentNotPowerOfTwo) {
    GgufBytes b;
    b.header(0, 1).kv_u32("general.alignment", 48);
    expect_error(b, 24, "general.alignment 48 is not a power of two");
}

TEST(GgufMalformed, AlignmentZero) {
    GgufBytes b;
    b.header(0, 1).kv_u32("general.alignment", 0);
    expect_error(b, 24, "general.alignment 0 is not a power of two");
}

TEST(GgufMalformed, AlignmentWrongType) {
    GgufBytes b;
    b.header(0, 1).str("general.alignment").u32(10).u64(32);
    expect_error(b, 24, "general.alignment has type u64, expected u32");
}

TEST(GgufMalformed, TooManyDims) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {1, 1, 1, 1, 1}, kF32, 0).pad_to(32).zeros(32);
    expect_error(b, 33, "tensor 't' has n_dims 5, expected 1..4");
}

TEST(GgufMalformed, UnknownTypeId) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {32}, 99, 0).pad_to(32).zeros(32);
    expect_error(b, 45, "tensor 't' has unknown ggml type id 99");
}

TEST(GgufMalformed, RetiredTypeId) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {32}, 4, 0).pad_to(32).zeros(32);  // Q4_2, removed from ggml
    expect_error(b, 45, "unknown ggml type id 4");
}

TEST(GgufMalformed, RowNotMultipleOfBlock) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {48}, kQ4_0, 0).pad_to(32).zeros(64);
    expect_error(b, 33, "row length ne[0] = 48 is not a multiple of Q4_0's block size 32");
}

TEST(GgufMalformed, NegativeDimension) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {~std::uint64_t{0}}, kF32, 0).pad_to(32).zeros(32);
    expect_error(b, 37, "ne[0] = 18446744073709551615 is negative as int64");
}

TEST(GgufMalformed, DimsProductOverflows) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {std::uint64_t{1} << 32, std::uint64_t{1} << 32}, kF32, 0).pad_to(32).zeros(32);
    expect_error(b, 45, "tensor 't' shape overflows");
}

TEST(GgufMalformed, ByteSizeOverflows) {
    GgufBytes b;  // 2^62 F32 elements fit int64 but need 2^64 bytes
    b.header(1, 0).tensor("t", {std::uint64_t{1} << 62}, kF32, 0).pad_to(32).zeros(32);
    expect_error(b, 33, "tensor 't' byte size overflows 64 bits");
}

// Zero beside huge dimensions (fuzzer findings): the byte size is 0, so the data checks pass,
// but the row count must still fit int64, whichever dimension is the zero one.
TEST(GgufMalformed, EmptyTensorWhoseRowCountOverflows) {
    GgufBytes b;  // ne at 37, 45, 53: 2^40 * 2^40 overflows at ne[2]
    b.header(1, 0).tensor("t", {0, std::uint64_t{1} << 40, std::uint64_t{1} << 40}, kF32, 0).pad_to(32);
    expect_error(b, 53, "tensor 't' shape overflows: the product of its non-zero dimensions exceeds 2^63-1");
}

TEST(GgufMalformed, ZeroInTheMiddleDoesNotHideAnOverflow) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {std::uint64_t{1} << 40, 0, std::uint64_t{1} << 40}, kF32, 0).pad_to(32);
    expect_error(b, 53, "tensor 't' shape overflows");
}

TEST(GgufMalformed, EmptyTensorBesideAHugeDimensionDequantizesAtOnce) {
    GgufBytes b;  // the shape from the fuzzer: 0 values in 60235645016080384 rows
    b.header(2, 0)
        .tensor("b", {0, 60235645016080384}, kF32, 0)
        .tensor("q", {0, std::uint64_t{1} << 62}, kQ4_0, 0)
        .pad_to(32);
    const auto f = gguf::File::parse(b.bytes(), "empty.gguf");
    const auto start = std::chrono::steady_clock::now();
    for (const auto& t : f.tensors()) {
        EXPECT_EQ(t.n_bytes, 0u) << t.name;
        EXPECT_EQ(t.n_elements(), 0) << t.name;
        EXPECT_TRUE(f.dequantize(t).empty()) << t.name;
    }
    EXPECT_EQ(f.tensor("b").n_rows(), 60235645016080384);
    EXPECT_EQ(f.tensor("q").n_rows(), std::int64_t{1} << 62);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(GgufMalformed, ZeroRowCountOfAnEmptyTensor) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {32, 0, std::uint64_t{1} << 40}, kF32, 0).pad_to(32);
    const auto f = gguf::File::parse(b.bytes(), "empty.gguf");
    EXPECT_EQ(f.tensor("t").n_rows(), 0);
    EXPECT_EQ(f.tensor("t").n_elements(), 0);
    EXPECT_TRUE(f.dequantize(f.tensor("t")).empty());
}

TEST(GgufWriter, RefusesAnEmptyShapeWhoseRowCountOverflows) {
    testing::TempDir dir;
    gguf::Writer w((dir / "w.gguf").string());
    EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {0, std::int64_t{1} << 40, std::int64_t{1} << 40}), UsageError);
    EXPECT_NO_THROW(w.add_tensor("e", GgmlType::F32, {0, std::int64_t{1} << 40}));
}

TEST(GgufMalformed, DuplicateTensorNames) {
    GgufBytes b;
    b.header(2, 0).tensor("t", {8}, kF32, 0).tensor("t", {8}, kF32, 32).pad_to(32).zeros(64);
    expect_error(b, 57, "duplicate tensor name 't'");
}

TEST(GgufMalformed, MisalignedOffset) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {8}, kF32, 4).pad_to(32).zeros(64);
    expect_error(b, 49, "tensor 't' offset 4 is not a multiple of the alignment 32");
}

TEST(GgufMalformed, OffsetPastData) {
    GgufBytes b;
    b.header(1, 0).tensor("t", {8}, kF32, 4096).pad_to(32).zeros(64);
    expect_error(b, 49, "tensor 't' data [4096, 4096+32) extends past the end of the data section (64 bytes)");
}

TEST(GgufMalformed, OverlappingTensors) {
    GgufBytes b;
    b.header(2, 0).tensor("a", {16}, kF32, 0).tensor("b", {8}, kF32, 32).pad_to(32).zeros(96);
    expect_error(b, 82, "tensor 'b' data overlaps tensor 'a'");
}

// Every prefix of a valid file is rejected with a FormatError (never a crash or a
// successful parse of half a file); and random single-byte corruption never crashes.
TEST(GgufMalformed, EveryTruncationIsRejected) {
    const auto full = valid_file();
    for (std::size_t n = 0; n < full.size(); ++n) {
        EXPECT_THROW(gguf::File::parse(truncated(full, n).bytes(), "cut.gguf"), FormatError) << "prefix " << n;
    }
}

TEST(GgufMalformed, RandomByteFlipsNeverCrash) {
    const auto full = valid_file();
    std::mt19937 rng(12345);
    int rejected = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        auto bytes = full.bytes();
        const auto pos = rng() % bytes.size();
        bytes[pos] = static_cast<std::byte>(rng() & 0xFF);
        try {
            const auto f = gguf::File::parse(bytes, "flip.gguf");
            for (const auto& t : f.tensors()) EXPECT_LE(f.data_offset() + t.offset + t.n_bytes, bytes.size());
        } catch (const FormatError&) {
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace parity
