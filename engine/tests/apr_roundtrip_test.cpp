// APR v2 writer -> reader round trips: metadata, every stored dtype, layout, flags, streaming
// order and the writer's refusals.

#include <cstring>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/format/apr.h"
#include "engine/error.h"
#include "engine/half.h"
#include "engine/quant/quant.h"
#include "test_support.h"

namespace parity {
namespace {

using apr::DType;
using apr::Json;

template <typename T>
T le(const std::vector<std::byte>& b, std::size_t at) {
    T v{};
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

std::vector<std::byte> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> out(n);
    for (auto& b : out) b = static_cast<std::byte>(rng() & 0xFF);
    return out;
}

std::vector<std::byte> f32_bytes(const std::vector<float>& v) {
    std::vector<std::byte> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
    return out;
}

// A K-quant payload with sane scales (random d/dmin could be inf/NaN, which is fine for the
// bytes but not for comparing dequantized values).
std::vector<std::byte> kquant_bytes(GgmlType type, std::size_t n, std::uint32_t seed) {
    auto b = random_bytes(row_size(type, static_cast<std::int64_t>(n)), seed);
    const std::size_t block = traits(type).type_size;
    for (std::size_t off = 0; off < b.size(); off += block) {
        const std::uint16_t half_one = 0x3C00;  // 1.0
        if (type == GgmlType::Q4_K) {
            std::memcpy(b.data() + off, &half_one, 2);      // d
            std::memcpy(b.data() + off + 2, &half_one, 2);  // dmin
        } else {
            std::memcpy(b.data() + off + block - 2, &half_one, 2);  // Q6_K d is last
        }
    }
    return b;
}

struct Sample {
    Json metadata;
    std::vector<apr::TensorData> tensors;
};

Sample sample() {
    Sample s;
    s.metadata = Json::parse(R"({"model_type":"qwen2","architecture":"qwen2","hidden_size":8,"num_layers":1,
        "num_heads":2,"num_kv_heads":1,"vocab_size":4,"rope_theta":1000000.0,"rope_type":2,"rms_norm_eps":1e-06,
        "tied_embeddings":true,"quantization":null,"custom_field":{"nested":[1,2,3]},
        "tokenizer":{"model":"gpt2","pre":"qwen2","tokens":["a","b","ab","<s>"],"merges":["a b"],
                     "token_type":[1,1,1,3],"bos_token_id":3,"eos_token_id":3},
        "tokenizer.vocabulary":["a","b","ab","<s>"],"tokenizer.merges":["a b"],
        "tokenizer.bos_token_id":3,"tokenizer.eos_token_id":3})");
    std::vector<float> f(12);
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(i) * 0.25f - 1.0f;
    std::vector<std::byte> f16(8 * 2), bf16(8 * 2);
    for (std::size_t i = 0; i < 8; ++i) {
        const std::uint16_t h = fp32_to_fp16(static_cast<float>(i) - 3.5f);
        const std::uint16_t b = fp32_to_bf16(static_cast<float>(i) * 1.5f);
        std::memcpy(f16.data() + 2 * i, &h, 2);
        std::memcpy(bf16.data() + 2 * i, &b, 2);
    }
    // Declared out of name order on purpose: the writer sorts.
    s.tensors.push_back({"z.q6k", DType::Q6_K, {256, 2}, kquant_bytes(GgmlType::Q6_K, 512, 2)});
    s.tensors.push_back({"token_embd.weight", DType::F32, {3, 4}, f32_bytes(f)});
    s.tensors.push_back({"blk.0.f16", DType::F16, {8}, f16});
    s.tensors.push_back({"blk.0.bf16", DType::BF16, {4, 2}, bf16});
    s.tensors.push_back({"blk.0.q4k", DType::Q4_K, {256}, kquant_bytes(GgmlType::Q4_K, 256, 1)});
    s.tensors.push_back({"blk.0.aprq4", DType::AprQ4, {40}, random_bytes(36, 3)});
    s.tensors.push_back({"blk.0.aprq8", DType::AprQ8, {5, 2}, random_bytes(14, 4)});
    return s;
}

std::vector<std::byte> write_to_memory(const Sample& s) {
    std::ostringstream os(std::ios::binary);
    apr::Writer w(os, "memory.apr");
    w.set_metadata(s.metadata);
    for (const auto& t : s.tensors) w.add_tensor(t.name, t.dtype, t.ne);
    w.write_header();
    while (const apr::TensorInfo* next = w.next_tensor()) {
        for (const auto& t : s.tensors) {
            if (t.name == next->name) w.write_tensor_data(t.name, t.bytes);
        }
    }
    w.finish();
    const std::string str = os.str();
    std::vector<std::byte> out(str.size());
    std::memcpy(out.data(), str.data(), str.size());
    EXPECT_EQ(out.size(), w.bytes_written());
    return out;
}

TEST(AprRoundTrip, MetadataAndTensorsSurvive) {
    const Sample s = sample();
    const auto bytes = write_to_memory(s);
    const auto f = apr::File::parse(bytes, "memory.apr");

    EXPECT_EQ(f.version_major(), 2);
    EXPECT_EQ(f.version_minor(), 0);
    EXPECT_EQ(f.metadata(), s.metadata);
    EXPECT_EQ(f.metadata_text(), s.metadata.dump());
    ASSERT_EQ(f.tensors().size(), s.tensors.size());
    for (std::size_t i = 1; i < f.tensors().size(); ++i) EXPECT_LT(f.tensors()[i - 1].name, f.tensors()[i].name);

    for (const auto& t : s.tensors) {
        SCOPED_TRACE(t.name);
        const apr::TensorInfo& info = f.tensor(t.name);
        EXPECT_EQ(info.dtype, t.dtype);
        EXPECT_EQ(info.dtype_byte, static_cast<std::uint8_t>(t.dtype));
        EXPECT_EQ(info.ne, t.ne);
        ASSERT_EQ(info.dims.size(), t.ne.size());
        for (std::size_t d = 0; d < t.ne.size(); ++d) {
            EXPECT_EQ(info.dims[d], static_cast<std::uint64_t>(t.ne[t.ne.size() - 1 - d]));  // row-major: reversed
        }
        EXPECT_EQ(info.size, t.bytes.size());
        EXPECT_EQ((f.data_offset() + info.offset) % 64, 0u);
        const auto data = f.tensor_data(info);
        ASSERT_EQ(data.size(), t.bytes.size());
        EXPECT_EQ(std::memcmp(data.data(), t.bytes.data(), data.size()), 0);
    }
}

TEST(AprRoundTrip, DequantizeMatchesGgmlForSharedTypes) {
    const Sample s = sample();
    const auto bytes = write_to_memory(s);
    const auto f = apr::File::parse(bytes, "memory.apr");
    for (const auto& t : f.tensors()) {
        const auto g = t.ggml_type();
        if (!g) continue;
        SCOPED_TRACE(t.name);
        ASSERT_TRUE(can_dequantize(*g)) << type_name(*g);
        std::vector<float> expected(static_cast<std::size_t>(t.n_elements()));
        dequantize_row(*g, f.tensor_data(t), expected);
        const auto got = f.dequantize(t);
        ASSERT_EQ(got.size(), expected.size());
        EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size() * 4), 0);
    }
    const auto emb = f.dequantize(f.tensor("token_embd.weight"));
    EXPECT_FLOAT_EQ(emb[0], -1.0f);
    EXPECT_FLOAT_EQ(emb[11], 1.75f);
    const auto h = f.dequantize(f.tensor("blk.0.f16"));
    EXPECT_FLOAT_EQ(h[0], -3.5f);
    EXPECT_FLOAT_EQ(h[7], 3.5f);
}

TEST(AprRoundTrip, HeaderFieldsAndCrcsAsAprenderWritesThem) {
    const Sample s = sample();
    const auto b = write_to_memory(s);
    const std::string json = s.metadata.dump();
    EXPECT_EQ(static_cast<char>(b[0]), 'A');
    EXPECT_EQ(static_cast<char>(b[1]), 'P');
    EXPECT_EQ(static_cast<char>(b[2]), 'R');
    EXPECT_EQ(static_cast<std::uint8_t>(b[3]), 0);
    EXPECT_EQ(static_cast<std::uint8_t>(b[4]), 2);
    EXPECT_EQ(static_cast<std::uint8_t>(b[5]), 0);
    EXPECT_EQ(le<std::uint16_t>(b, 6), 0x0400 | 0x0200 | 0x0020);  // row-major, vocab, quantized
    EXPECT_EQ(le<std::uint32_t>(b, 8), s.tensors.size());
    EXPECT_EQ(le<std::uint64_t>(b, 12), 64u);
    EXPECT_EQ(le<std::uint32_t>(b, 20), json.size());
    const std::uint64_t index_offset = 64 + (json.size() + 63) / 64 * 64;
    EXPECT_EQ(le<std::uint64_t>(b, 24), index_offset);
    EXPECT_EQ(le<std::uint64_t>(b, 32) % 64, 0u);
    for (std::size_t i = 44; i < 64; ++i) EXPECT_EQ(static_cast<std::uint8_t>(b[i]), 0) << "reserved byte " << i;
    EXPECT_EQ(std::memcmp(b.data() + 64, json.data(), json.size()), 0);
    for (std::size_t i = 64 + json.size(); i < index_offset; ++i) EXPECT_EQ(static_cast<std::uint8_t>(b[i]), 0);

    std::vector<std::byte> hdr(b.begin(), b.begin() + 40);
    hdr.insert(hdr.end(), b.begin() + 44, b.begin() + 64);
    EXPECT_EQ(le<std::uint32_t>(b, 40), testing::crc32_ref(hdr.data(), hdr.size()));
    EXPECT_EQ(le<std::uint32_t>(b, b.size() - 4), testing::crc32_ref(b.data(), b.size() - 4));
    const char check[] = "123456789";
    EXPECT_EQ(testing::crc32_ref(reinterpret_cast<const std::byte*>(check), 9), 0xCBF43926u);  // the oracle itself

    // First index entry: the smallest name, u16 length, name, dtype, ndim, dims, offset, size.
    const auto f = apr::File::parse(b, "memory.apr");
    const auto& first = f.tensors().front();
    EXPECT_EQ(first.index_offset, index_offset);
    EXPECT_EQ(le<std::uint16_t>(b, index_offset), first.name.size());
    std::size_t p = index_offset + 2 + first.name.size();
    EXPECT_EQ(static_cast<std::uint8_t>(b[p]), first.dtype_byte);
    EXPECT_EQ(static_cast<std::uint8_t>(b[p + 1]), first.dims.size());
    p += 2;
    for (auto d : first.dims) {
        EXPECT_EQ(le<std::uint64_t>(b, p), d);
        p += 8;
    }
    EXPECT_EQ(le<std::uint64_t>(b, p), 0u);
    EXPECT_EQ(le<std::uint64_t>(b, p + 8), first.size);
}

TEST(AprRoundTrip, AprQuantsUseIds128And129NeverLegacy8And9) {
    const auto b = write_to_memory(sample());
    const auto f = apr::File::parse(b, "memory.apr");
    for (const auto& t : f.tensors()) {
        const std::size_t dtype_at = t.index_offset + 2 + t.name.size();
        const auto stored = static_cast<std::uint8_t>(b[dtype_at]);
        EXPECT_NE(stored, 8) << t.name;
        EXPECT_NE(stored, 9) << t.name;
        if (t.dtype == DType::AprQ4) {
            EXPECT_EQ(stored, 128);
        }
        if (t.dtype == DType::AprQ8) {
            EXPECT_EQ(stored, 129);
        }
    }
    EXPECT_EQ(apr::dtype_from_byte(8), DType::AprQ4);  // legacy ids still read, as aprender does
    EXPECT_EQ(apr::dtype_from_byte(9), DType::AprQ8);
    EXPECT_FALSE(apr::dtype_from_byte(2));             // ggml Q4_0 has no APR id
    EXPECT_FALSE(apr::from_ggml(GgmlType::Q8_0));      // so Q8_0 must be converted
    EXPECT_EQ(apr::from_ggml(GgmlType::Q4_K), DType::Q4_K);
}

TEST(AprRoundTrip, FlagsOnlyRowMajorWithoutTokenizerOrQuantizedTensor) {
    Sample s;
    s.metadata = Json::parse(R"({"architecture":"llama"})");
    s.tensors.push_back({"w", DType::F32, {2}, f32_bytes({1.0f, 2.0f})});
    const auto f = apr::File::parse(write_to_memory(s), "memory.apr");
    EXPECT_EQ(f.flags(), apr::flags::LAYOUT_ROW_MAJOR);
    EXPECT_FALSE(f.tokenizer().present);
}

TEST(AprRoundTrip, EmptyFileWithNoTensors) {
    Sample s;
    s.metadata = Json::object();
    const auto b = write_to_memory(s);
    EXPECT_EQ(b.size(), 64u + 64u + 4u);  // header, "{}" padded, empty index, footer
    const auto f = apr::File::parse(b, "memory.apr");
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.data_offset(), 128u);
}

TEST(AprRoundTrip, WriteFileOnDiskEqualsStreamedBytes) {
    const Sample s = sample();
    testing::TempDir dir;
    const auto path = dir / "model.apr";
    apr::write_file(path.string(), s.metadata, s.tensors);
    const auto on_disk = testing::read_file(path);
    EXPECT_EQ(on_disk, write_to_memory(s));
    const auto f = apr::File::open(path.string());
    EXPECT_EQ(f.tensors().size(), s.tensors.size());
    EXPECT_EQ(f.path(), path.string());
}

TEST(AprWriter, DataMustComeInIndexOrder) {
    std::ostringstream os;
    apr::Writer w(os, "order.apr");
    w.add_tensor("b", DType::F32, {1});
    w.add_tensor("a", DType::F32, {1});
    w.write_header();
    ASSERT_NE(w.next_tensor(), nullptr);
    EXPECT_EQ(w.next_tensor()->name, "a");
    const auto one = f32_bytes({1.0f});
    EXPECT_THROW(w.write_tensor_data("b", one), UsageError);
    w.write_tensor_data("a", one);
    EXPECT_THROW(w.write_tensor_data(f32_bytes({1.0f, 2.0f})), UsageError);  // wrong size
    EXPECT_THROW(w.finish(), UsageError);                                   // "b" missing
    w.write_tensor_data("b", one);
    EXPECT_EQ(w.next_tensor(), nullptr);
    EXPECT_THROW(w.write_tensor_data(one), UsageError);
    w.finish();
}

TEST(AprWriter, RejectsBadDeclarations) {
    std::ostringstream os;
    apr::Writer w(os, "bad.apr");
    EXPECT_THROW(w.set_metadata(Json::array()), UsageError);
    w.add_tensor("w", DType::F32, {4});
    EXPECT_THROW(w.add_tensor("w", DType::F32, {4}), UsageError);                       // duplicate
    EXPECT_THROW(w.add_tensor("", DType::F32, {4}), UsageError);                        // empty name
    EXPECT_THROW(w.add_tensor(std::string(257, 'x'), DType::F32, {4}), UsageError);     // > 256 bytes
    EXPECT_THROW(w.add_tensor("q", DType::Q4_K, {100}), UsageError);                    // row % 256
    EXPECT_THROW(w.add_tensor("n", DType::F32, {-1}), UsageError);                      // negative dim
    EXPECT_THROW(w.add_tensor("d", DType::F32, std::vector<std::int64_t>(9, 1)), UsageError);  // 9 dims
    w.add_tensor(std::string(256, 'y'), DType::F32, {1});                              // 256 is fine
    w.write_header();
    EXPECT_THROW(w.add_tensor("late", DType::F32, {1}), UsageError);
    EXPECT_THROW(w.set_metadata(Json::object()), UsageError);
    EXPECT_THROW(w.write_header(), UsageError);
}

TEST(AprDequant, AprQ4BlocksAsAprenderDecodesThem) {
    // 40 values: a full block and a short one (still 18 bytes). Scale 0.5 (f16 0x3800).
    std::vector<std::byte> b(36, std::byte{0});
    const std::uint16_t half = 0x3800;
    std::memcpy(b.data(), &half, 2);
    b[2] = std::byte{0x9F};  // value 0: low nibble 15 -> +7; value 1: high nibble 9 -> +1
    b[3] = std::byte{0x08};  // value 2: 8 -> 0; value 3: 0 -> -8
    std::memcpy(b.data() + 18, &half, 2);
    b[18 + 2 + 3] = std::byte{0x70};  // value 32+6: 0 -> -8, value 32+7: 7 -> -1
    std::vector<float> out(40);
    apr::dequantize_apr_q4(b, out);
    EXPECT_EQ(out[0], 3.5f);
    EXPECT_EQ(out[1], 0.5f);
    EXPECT_EQ(out[2], 0.0f);
    EXPECT_EQ(out[3], -4.0f);
    EXPECT_EQ(out[4], -4.0f);  // zero bytes decode to nibble 0 -> -8 * 0.5
    EXPECT_EQ(out[38], -4.0f);
    EXPECT_EQ(out[39], -0.5f);
    std::vector<float> wrong(65);
    EXPECT_THROW(apr::dequantize_apr_q4(b, wrong), UsageError);  // 65 values need 3 blocks
}

TEST(AprDequant, AprQ4SubnormalOrNonFiniteScaleDecodesAsZero) {
    for (std::uint16_t scale : {std::uint16_t{0x0001}, std::uint16_t{0x7C00}, std::uint16_t{0x7E00}}) {
        std::vector<std::byte> b(18, std::byte{0xFF});
        std::memcpy(b.data(), &scale, 2);
        std::vector<float> out(32);
        apr::dequantize_apr_q4(b, out);
        for (float v : out) EXPECT_EQ(v, 0.0f) << "scale bits " << scale;
    }
}

TEST(AprDequant, AprQ8OneScaleForTheWholeTensor) {
    std::vector<std::byte> b(4 + 3);
    const float scale = 0.25f;
    std::memcpy(b.data(), &scale, 4);
    b[4] = std::byte{0x7F};  // 127
    b[5] = std::byte{0x81};  // -127
    b[6] = std::byte{0x00};
    std::vector<float> out(3);
    apr::dequantize_apr_q8(b, out);
    EXPECT_EQ(out[0], 31.75f);
    EXPECT_EQ(out[1], -31.75f);
    EXPECT_EQ(out[2], 0.0f);
    std::vector<float> none;
    apr::dequantize_apr_q8({}, none);  // an empty tensor has no scale
    EXPECT_THROW(apr::dequantize_apr_q8(b, none), UsageError);
}

TEST(AprDequant, ByteSizesPerDtype) {
    EXPECT_EQ(apr::byte_size(DType::F32, 3, 12), 48u);
    EXPECT_EQ(apr::byte_size(DType::BF16, 3, 12), 24u);
    EXPECT_EQ(apr::byte_size(DType::Q4_K, 256, 512), 288u);
    EXPECT_EQ(apr::byte_size(DType::Q6_K, 256, 256), 210u);
    EXPECT_FALSE(apr::byte_size(DType::Q4_K, 128, 256));
    EXPECT_EQ(apr::byte_size(DType::AprQ4, 1, 33), 36u);
    EXPECT_EQ(apr::byte_size(DType::AprQ8, 1, 10), 14u);
    EXPECT_EQ(apr::byte_size(DType::AprQ8, 1, 0), 0u);
    EXPECT_FALSE(apr::byte_size(DType::F64, 1, INT64_MAX));  // overflows
}

}  // namespace
}  // namespace parity
