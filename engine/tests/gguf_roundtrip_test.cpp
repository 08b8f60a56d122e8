// The writer's files read back to the same metadata and bytes, and our writer reproduces
// llama.cpp-written files byte for byte.

#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "test_support.h"

namespace parity {
namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;

std::vector<std::byte> pattern_bytes(std::size_t n, unsigned seed) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 131 + seed * 7 + 3) & 0xFF);
    return b;
}

// One value of each of the 13 GGUF types, plus empty and nested arrays.
std::vector<gguf::MetadataEntry> every_value_type() {
    Array strings{ValueType::STRING, {Value("a"), Value(""), Value("ünïcode")}};
    Array nested{ValueType::ARRAY,
                 {Value(Array{ValueType::I32, {Value(std::int32_t{1}), Value(std::int32_t{-2})}}),
                  Value(Array{ValueType::I32, {}})}};
    return {
        {"general.architecture", Value("test")},
        {"general.alignment", Value(std::uint32_t{64})},
        {"t.u8", Value(std::uint8_t{200})},
        {"t.i8", Value(std::int8_t{-100})},
        {"t.u16", Value(std::uint16_t{65000})},
        {"t.i16", Value(std::int16_t{-32000})},
        {"t.u32", Value(std::uint32_t{4000000000u})},
        {"t.i32", Value(std::int32_t{-2000000000})},
        {"t.f32", Value(1.5f)},
        {"t.bool", Value(true)},
        {"t.str", Value("hello")},
        {"t.u64", Value(std::uint64_t{1} << 63)},
        {"t.i64", Value(std::numeric_limits<std::int64_t>::min())},
        {"t.f64", Value(-0.25)},
        {"t.arr_str", Value(strings)},
        {"t.arr_empty_f32", Value(Array{ValueType::F32, {}})},
        {"t.arr_nested", Value(nested)},
    };
}

TEST(GgufRoundTrip, EveryValueTypeAndTensorSurvives) {
    testing::TempDir dir;
    const auto path = (dir / "rt.gguf").string();
    const auto metadata = every_value_type();
    const std::vector<gguf::TensorData> tensors = {
        {"a.f32", GgmlType::F32, {3, 2}, pattern_bytes(24, 1)},
        {"b.q8_0", GgmlType::Q8_0, {64, 3}, pattern_bytes(3 * 2 * 34, 2)},
        {"c.q4_k", GgmlType::Q4_K, {256, 1, 2}, pattern_bytes(2 * 144, 3)},
        {"d.empty", GgmlType::F16, {0}, {}},
    };
    gguf::write_file(path, metadata, tensors);

    const auto f = gguf::File::open(path);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    ASSERT_EQ(f.metadata().size(), metadata.size());
    for (std::size_t i = 0; i < metadata.size(); ++i) {
        EXPECT_EQ(f.metadata()[i].key, metadata[i].key);
        EXPECT_EQ(f.metadata()[i].value, metadata[i].value) << metadata[i].key;
        EXPECT_EQ(f.metadata()[i].value.type(), metadata[i].value.type()) << metadata[i].key;
    }
    ASSERT_EQ(f.tensors().size(), tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = f.tensors()[i];
        EXPECT_EQ(t.name, tensors[i].name);
        EXPECT_EQ(t.type, tensors[i].type);
        EXPECT_EQ(t.ne, tensors[i].ne);
        EXPECT_EQ(t.offset % 64, 0u);
        const auto data = f.tensor_data(t);
        ASSERT_EQ(data.size(), tensors[i].bytes.size()) << t.name;
        EXPECT_TRUE(std::equal(data.begin(), data.end(), tensors[i].bytes.begin())) << t.name;
    }
    EXPECT_EQ(f.get_string("general.architecture"), "test");
    EXPECT_EQ(f.get_int("t.i16"), -32000);
    EXPECT_THROW(f.get_int("t.str"), FormatError);
    EXPECT_THROW(f.tensor("nope"), UsageError);
}

TEST(GgufRoundTrip, WriterRejectsWhatReadersWouldReject) {
    testing::TempDir dir;
    gguf::Writer w((dir / "bad.gguf").string());
    w.add("k", Value(std::uint32_t{1}));
    EXPECT_THROW(w.add("k", Value(std::uint32_t{2})), UsageError);
    EXPECT_THROW(w.add("general.alignment", Value(std::uint32_t{24})), UsageError);
    EXPECT_THROW(w.add("general.alignment", Value(std::uint64_t{32})), UsageError);
    w.add_tensor("t", GgmlType::Q4_0, {32});
    EXPECT_THROW(w.add_tensor("t", GgmlType::F32, {1}), UsageError);
    EXPECT_THROW(w.add_tensor("u", GgmlType::Q4_0, {33}), UsageError);
    EXPECT_THROW(w.add_tensor("v", GgmlType::F32, {1, 1, 1, 1, 1}), UsageError);
    w.write_header();
    EXPECT_THROW(w.write_tensor_data(pattern_bytes(17, 0)), UsageError);  // Q4_0 x32 is 18 bytes
    EXPECT_THROW(w.finish(), UsageError);                                   // "t" never written
}

// gguf-py (F32 files) and llama-quantize (quantized files) wrote these; rewriting their
// parsed contents with our writer must give the same bytes, which shows our writer lays
// out files the way llama.cpp does.
class GgufFixtureRewrite : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufFixtureRewrite, RewriteIsByteIdentical) {
    const std::string rel = GetParam();
    PARITY_REQUIRE_FIXTURE(path, rel);
    const auto original = gguf::File::open(path.string());
    testing::TempDir dir;
    const auto out = (dir / "rewrite.gguf").string();
    gguf::Writer w(out);
    for (const auto& e : original.metadata()) w.add(e.key, e.value);
    for (const auto& t : original.tensors()) w.add_tensor(t.name, t.type, t.ne);
    w.write_header();
    for (const auto& t : original.tensors()) w.write_tensor_data(original.tensor_data(t));
    w.finish();

    const auto a = testing::read_file(path);
    const auto b = testing::read_file(out);
    ASSERT_EQ(a.size(), b.size());
    const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin());
    EXPECT_TRUE(mismatch.first == a.end()) << "first differing byte at " << (mismatch.first - a.begin());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GgufFixtureRewrite,
                         ::testing::Values("llamacpp/models/tiny-qwen2-ref-F32.gguf",
                                           "llamacpp/models/tiny-qwen2-ref-Q8_0.gguf",
                                           "llamacpp/models/tiny-qwen2-ref-Q4_K_M.gguf",
                                           "llamacpp/models/tiny-llama-ref-F32.gguf",
                                           "llamacpp/models/tiny-llama-ref-Q4_K_M.gguf",
                                           "llamacpp/quant/quant-zoo.gguf"),
                         [](const auto& p) { return testing::param_name(p.param); });

}  // namespace
}  // namespace parity
