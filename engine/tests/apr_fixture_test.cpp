// The independent APR fixture (written by a separate numpy program from the llama.cpp GGUF
// fixture): our reader accepts it with the values its README states, every tensor equals the
// GGUF tensor of the same name, and our writer reproduces it.

#include <cstring>

#include <gtest/gtest.h>

#include "engine/format/apr.h"
#include "engine/format/gguf.h"
#include "test_support.h"

namespace parity {
namespace {

constexpr const char* kApr = "apr/tiny-qwen2-ref-F32.apr";
constexpr const char* kGguf = "llamacpp/models/tiny-qwen2-ref-F32.gguf";

TEST(AprFixture, HeaderAndMetadataMatchReadme) {
    PARITY_REQUIRE_FIXTURE(path, kApr);
    const auto f = apr::File::open(path.string());
    EXPECT_EQ(f.file_size(), 14733124u);
    EXPECT_EQ(f.version_major(), 2);
    EXPECT_EQ(f.version_minor(), 0);
    EXPECT_EQ(f.flags(), 0x0600);  // HAS_VOCAB | LAYOUT_ROW_MAJOR
    EXPECT_EQ(f.tensors().size(), 51u);
    EXPECT_EQ(f.metadata_offset(), 64u);
    EXPECT_EQ(f.tensor_index_offset(), 64 + (f.metadata_size() + 63) / 64 * 64);

    const auto a = f.architecture();
    EXPECT_EQ(a.model_type, "qwen2");
    EXPECT_EQ(a.architecture, "qwen2");
    EXPECT_EQ(a.hidden_size, 256);
    EXPECT_EQ(a.num_layers, 4);
    EXPECT_EQ(a.num_heads, 4);
    EXPECT_EQ(a.num_kv_heads, 2);
    EXPECT_EQ(a.vocab_size, 1024);
    EXPECT_EQ(a.intermediate_size, 768);
    EXPECT_EQ(a.max_position_embeddings, 256);
    EXPECT_EQ(a.rope_theta, 1e6);
    EXPECT_EQ(a.rope_type, 2);  // NEOX
    EXPECT_FLOAT_EQ(static_cast<float>(*a.rms_norm_eps), 1e-6f);
    EXPECT_EQ(f.get_string("original_format"), "gguf");
    EXPECT_EQ(f.get_int("param_count"), 3674368);
    ASSERT_NE(f.find("quantization"), nullptr);
    EXPECT_TRUE(f.find("quantization")->is_null());

    const auto t = f.tokenizer();
    EXPECT_TRUE(t.present);
    EXPECT_EQ(t.model, "gpt2");
    EXPECT_EQ(t.pre, "qwen2");
    ASSERT_EQ(t.tokens.size(), 1024u);
    EXPECT_EQ(t.tokens[1022], "<|im_start|>");
    EXPECT_EQ(t.merges.size(), 765u);
    EXPECT_EQ(t.token_type.size(), 1024u);
    EXPECT_EQ(t.bos_token_id, 1021);
    EXPECT_EQ(t.eos_token_id, 1021);
    // The flat keys realizar reads are there too (and agree, or tokenizer() would have thrown).
    EXPECT_EQ(f.find("tokenizer.vocabulary")->size(), 1024u);
    EXPECT_EQ(f.get_int("tokenizer.bos_token_id"), 1021);
}

TEST(AprFixture, EveryTensorEqualsTheGgufTensor) {
    PARITY_REQUIRE_FIXTURE(apr_path, kApr);
    PARITY_REQUIRE_FIXTURE(gguf_path, kGguf);
    const auto a = apr::File::open(apr_path.string());
    const auto g = gguf::File::open(gguf_path.string());
    ASSERT_EQ(a.tensors().size(), g.tensors().size());
    for (const auto& gt : g.tensors()) {
        SCOPED_TRACE(gt.name);
        const apr::TensorInfo* at = a.find_tensor(gt.name);
        ASSERT_NE(at, nullptr);
        EXPECT_EQ(at->ggml_type(), gt.type);
        EXPECT_EQ(at->ne, gt.ne);
        ASSERT_EQ(at->dims.size(), gt.ne.size());
        for (std::size_t d = 0; d < gt.ne.size(); ++d) {
            EXPECT_EQ(at->dims[d], static_cast<std::uint64_t>(gt.ne[gt.ne.size() - 1 - d]));  // GGUF ne reversed
        }
        const auto ab = a.tensor_data(*at);
        const auto gb = g.tensor_data(gt);
        ASSERT_EQ(ab.size(), gb.size());
        EXPECT_EQ(std::memcmp(ab.data(), gb.data(), ab.size()), 0);
    }
}

TEST(AprFixture, DequantizedEmbeddingEqualsGguf) {
    PARITY_REQUIRE_FIXTURE(apr_path, kApr);
    PARITY_REQUIRE_FIXTURE(gguf_path, kGguf);
    const auto a = apr::File::open(apr_path.string());
    const auto g = gguf::File::open(gguf_path.string());
    const auto av = a.dequantize(a.tensor("token_embd.weight"));
    const auto gv = g.dequantize(g.tensor("token_embd.weight"));
    ASSERT_EQ(av.size(), 256u * 1024u);
    EXPECT_EQ(av, gv);
}

// Re-writes the fixture's metadata and tensors with our writer: the result must be accepted
// and hold the same tensors, and when our JSON text equals the fixture's, the same bytes.
TEST(AprFixture, OurWriterReproducesTheFixture) {
    PARITY_REQUIRE_FIXTURE(apr_path, kApr);
    const auto src = apr::File::open(apr_path.string());
    testing::TempDir dir;
    const auto out = dir / "rewritten.apr";
    {
        apr::Writer w(out.string());
        w.set_metadata(src.metadata());
        for (const auto& t : src.tensors()) w.add_tensor(t.name, t.dtype, t.ne);
        w.write_header();
        for (const auto& t : src.tensors()) w.write_tensor_data(t.name, src.tensor_data(t));
        w.finish();
        EXPECT_EQ(w.flags(), src.flags());
    }
    const auto re = apr::File::open(out.string());
    ASSERT_EQ(re.tensors().size(), src.tensors().size());
    for (std::size_t i = 0; i < re.tensors().size(); ++i) {
        const auto& x = re.tensors()[i];
        const auto& y = src.tensors()[i];
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.dims, y.dims);
        EXPECT_EQ(x.offset, y.offset);
        const auto xb = re.tensor_data(x);
        const auto yb = src.tensor_data(y);
        ASSERT_EQ(xb.size(), yb.size());
        EXPECT_EQ(std::memcmp(xb.data(), yb.data(), xb.size()), 0) << x.name;
    }
    EXPECT_EQ(re.metadata(), src.metadata());
    // nlohmann's compact dump of the parsed JSON equals the numpy writer's text...
    EXPECT_EQ(re.metadata_text(), src.metadata_text());
    // ...so the whole file is byte-identical, CRCs included.
    EXPECT_EQ(re.header_crc(), src.header_crc());
    EXPECT_EQ(re.footer_crc(), src.footer_crc());
    EXPECT_EQ(testing::read_file(out), testing::read_file(apr_path));
}

}  // namespace
}  // namespace parity
