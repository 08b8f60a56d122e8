// Synthetic models: deterministic bytes, llama-quantize's per-tensor types, a valid BPE
// vocabulary, and weights with the documented scales.

#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/tokenizer/gpt2_bytes.h"
#include "engine/model/model_file.h"
#include "engine/quant/quant.h"
#include "engine/synth/synth.h"
#include "test_support.h"

namespace parity {
namespace {

synth::ModelShape small_qwen2() {
    auto s = synth::preset("qwen2", "tiny");
    s.n_vocab = 400;  // keeps the test quick; still learns merges from the corpus
    return s;
}

TEST(Synth, SameArgumentsSameBytesOtherSeedOtherBytes) {
    testing::TempDir dir;
    const auto s = small_qwen2();
    synth::write_gguf(s, 7, FileType::MOSTLY_Q4_K_M, (dir / "a.gguf").string());
    synth::write_gguf(s, 7, FileType::MOSTLY_Q4_K_M, (dir / "b.gguf").string());
    synth::write_gguf(s, 8, FileType::MOSTLY_Q4_K_M, (dir / "c.gguf").string());
    const auto a = testing::read_file(dir / "a.gguf");
    EXPECT_EQ(a, testing::read_file(dir / "b.gguf"));
    const auto c = testing::read_file(dir / "c.gguf");
    ASSERT_EQ(a.size(), c.size());
    EXPECT_NE(a, c);
}

// Every quantized file holds exactly the F32 file's values run through quantize_row.
TEST(Synth, QuantizedFilesEncodeTheSameWeights) {
    testing::TempDir dir;
    const auto s = small_qwen2();
    synth::write_gguf(s, 3, FileType::ALL_F32, (dir / "f32.gguf").string());
    synth::write_gguf(s, 3, FileType::MOSTLY_Q8_0, (dir / "q8.gguf").string());
    const auto f32 = gguf::File::open((dir / "f32.gguf").string());
    const auto q8 = gguf::File::open((dir / "q8.gguf").string());
    ASSERT_EQ(f32.tensors().size(), q8.tensors().size());
    for (const auto& t : q8.tensors()) {
        const auto& src = f32.tensor(t.name);
        ASSERT_EQ(src.type, GgmlType::F32);
        const auto values = f32.dequantize(src);
        std::vector<std::byte> expected(t.n_bytes);
        const auto row_bytes = row_size(t.type, t.ne[0]);
        const auto cols = static_cast<std::size_t>(t.ne[0]);
        for (std::int64_t r = 0; r < t.n_rows(); ++r) {
            const auto ur = static_cast<std::size_t>(r);
            quantize_row(t.type, std::span<const float>(values).subspan(ur * cols, cols),
                         std::span<std::byte>(expected).subspan(ur * row_bytes, row_bytes));
        }
        const auto got = q8.tensor_data(t);
        EXPECT_TRUE(std::equal(got.begin(), got.end(), expected.begin())) << t.name;
    }
}

// The APR twin holds the F32 GGUF's weights byte for byte, with the same hyper-parameters.
TEST(Synth, AprTwinHoldsTheF32Weights) {
    testing::TempDir dir;
    const auto s = small_qwen2();
    synth::write_gguf(s, 9, FileType::ALL_F32, (dir / "m.gguf").string());
    synth::write_apr_f32(s, 9, (dir / "m.apr").string());
    const auto g = ModelFile::open((dir / "m.gguf").string());
    const auto a = ModelFile::open((dir / "m.apr").string());
    EXPECT_EQ(a.format(), ModelFormat::Apr);
    EXPECT_EQ(a.config().n_layers, g.config().n_layers);
    EXPECT_EQ(a.config().rope, RopeType::Neox);
    EXPECT_EQ(a.tokenizer().merges, g.tokenizer().merges);
    ASSERT_EQ(a.tensors().size(), g.tensors().size());
    for (const auto& t : g.tensors()) {
        const auto x = g.tensor_data(t);
        const auto y = a.tensor_data(a.tensor(t.name));
        ASSERT_EQ(x.size(), y.size()) << t.name;
        EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin())) << t.name;
    }
}

// llama-quantize chose the fixtures' tensor types; ours must make the same choice for the
// same shapes, tensor by tensor (and write the tensors in the same order).
class SynthMatchesLlamaQuantize : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SynthMatchesLlamaQuantize, SameTypesSameOrderSameKeys) {
    const auto [arch, file] = GetParam();
    PARITY_REQUIRE_FIXTURE(fixture_path, file);
    const auto fixture = gguf::File::open(fixture_path.string());
    const auto ftype = static_cast<FileType>(fixture.get_int("general.file_type"));
    testing::TempDir dir;
    const auto out = (dir / "m.gguf").string();
    synth::write_gguf(synth::preset(arch, "tiny"), 1, ftype, out);
    const auto ours = gguf::File::open(out);
    ASSERT_EQ(ours.tensors().size(), fixture.tensors().size());
    for (std::size_t i = 0; i < ours.tensors().size(); ++i) {
        const auto& a = ours.tensors()[i];
        const auto& b = fixture.tensors()[i];
        EXPECT_EQ(a.name, b.name) << "position " << i;
        EXPECT_EQ(type_name(a.type), type_name(b.type)) << b.name;
        EXPECT_EQ(a.ne, b.ne) << b.name;
    }
    for (const auto& e : fixture.metadata()) {
        if (e.key == "general.name") continue;
        const auto* v = ours.find(e.key);
        ASSERT_NE(v, nullptr) << "missing key " << e.key;
        EXPECT_EQ(v->type(), e.value.type()) << e.key;
        if (e.key.rfind("tokenizer.ggml.tokens", 0) != 0 && e.key.rfind("tokenizer.ggml.merges", 0) != 0) {
            EXPECT_EQ(*v, e.value) << e.key;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SynthMatchesLlamaQuantize,
                         ::testing::Values(std::make_pair("qwen2", "llamacpp/models/tiny-qwen2-ref-Q4_K_M.gguf"),
                                           std::make_pair("qwen2", "llamacpp/models/tiny-qwen2-ref-Q8_0.gguf"),
                                           std::make_pair("llama", "llamacpp/models/tiny-llama-ref-Q4_K_M.gguf"),
                                           std::make_pair("llama", "llamacpp/models/tiny-llama-ref-Q8_0.gguf")),
                         [](const auto& p) { return testing::param_name(p.param.second); });

// Widths that are not a multiple of 256 cannot hold K-quants: llama-quantize falls back to
// Q5_0 for Q4_K and Q8_0 for Q6_K (and the output projection to Q8_0).
TEST(Synth, Q4KMFallbackTypesForNonMultipleOf256Rows) {
    auto s = synth::preset("qwen2", "tiny");
    s.n_embd = 384;  // 1.5 x 256; n_ff stays 768
    s.n_head = 6;
    s.n_head_kv = 2;
    const auto plan = synth::tensor_plan(s);
    TensorTypeChooser chooser(FileType::MOSTLY_Q4_K_M, {s.n_layers, 3, true});
    std::map<std::string, GgmlType> types;
    for (const auto& t : plan) types[t.name] = chooser.choose(t.name, t.ne);
    EXPECT_EQ(types["output.weight"], GgmlType::Q8_0);
    EXPECT_EQ(types["token_embd.weight"], GgmlType::Q5_0);
    EXPECT_EQ(types["blk.0.attn_q.weight"], GgmlType::Q5_0);
    EXPECT_EQ(types["blk.0.attn_v.weight"], GgmlType::Q5_0);  // layer 0: Q4_K -> Q5_0
    EXPECT_EQ(types["blk.3.attn_v.weight"], GgmlType::Q8_0);  // layer 3: Q6_K -> Q8_0
    EXPECT_EQ(types["blk.0.ffn_down.weight"], GgmlType::Q4_K);  // rows of n_ff = 768 fit
    EXPECT_EQ(types["blk.2.ffn_down.weight"], GgmlType::Q6_K);
    EXPECT_EQ(types["blk.0.attn_norm.weight"], GgmlType::F32);
    EXPECT_EQ(types["blk.0.attn_q.bias"], GgmlType::F32);
}

// Q3_K_M as llama-quantize (llama_tensor_get_type) chooses it: attn_v Q5_K in the first two
// layers and Q4_K after; ffn_down Q5_K below n_layer / 16 and Q4_K after; attn_output Q4_K;
// the output projection Q6_K; the rest Q3_K.
TEST(Synth, Q3KMTensorTypesAreLlamaQuantizes) {
    auto s = synth::preset("qwen2", "bench-1024");
    s.n_layers = 32;  // n_layer / 16 = 2
    const auto plan = synth::tensor_plan(s);
    TensorTypeChooser chooser(FileType::MOSTLY_Q3_K_M, {s.n_layers, s.n_head / s.n_head_kv, true});
    std::map<std::string, GgmlType> types;
    for (const auto& t : plan) types[t.name] = chooser.choose(t.name, t.ne);
    EXPECT_EQ(types["output.weight"], GgmlType::Q6_K);
    EXPECT_EQ(types["token_embd.weight"], GgmlType::Q3_K);
    EXPECT_EQ(types["blk.0.attn_q.weight"], GgmlType::Q3_K);
    EXPECT_EQ(types["blk.0.attn_v.weight"], GgmlType::Q5_K);
    EXPECT_EQ(types["blk.1.attn_v.weight"], GgmlType::Q5_K);
    EXPECT_EQ(types["blk.2.attn_v.weight"], GgmlType::Q4_K);
    EXPECT_EQ(types["blk.31.attn_v.weight"], GgmlType::Q4_K);
    EXPECT_EQ(types["blk.1.ffn_down.weight"], GgmlType::Q5_K);
    EXPECT_EQ(types["blk.2.ffn_down.weight"], GgmlType::Q4_K);
    EXPECT_EQ(types["blk.5.attn_output.weight"], GgmlType::Q4_K);
    EXPECT_EQ(types["blk.5.ffn_up.weight"], GgmlType::Q3_K);
    EXPECT_EQ(file_type_name(FileType::MOSTLY_Q3_K_M), "q3_k_m");
    EXPECT_EQ(static_cast<int>(FileType::MOSTLY_Q3_K_M), 12);  // llama_ftype's value
}

TEST(Synth, VocabularyIsAValidByteLevelBpe) {
    const auto s = synth::preset("qwen2", "tiny");
    const auto v = synth::make_vocabulary(s);
    ASSERT_EQ(v.tokens.size(), 1024u);
    EXPECT_EQ(v.merges.size(), 765u);
    EXPECT_EQ(v.tokens[0], "!");
    EXPECT_EQ(v.tokens[255], gpt2::byte_to_utf8(0xAD));  // the last byte outside the printable ranges
    EXPECT_EQ(v.tokens[1021], "<|endoftext|>");
    EXPECT_EQ(v.token_types[1021], 3);
    EXPECT_EQ(v.token_types[500], 1);
    EXPECT_EQ(v.bos, 1021);
    EXPECT_EQ(v.padding, 1021);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < v.tokens.size(); ++i) EXPECT_TRUE(seen.insert(v.tokens[i]).second) << v.tokens[i];
    // Each merge joins two tokens that exist before it into the token that follows the bytes.
    std::set<std::string> known(v.tokens.begin(), v.tokens.begin() + 256);
    for (std::size_t m = 0; m < v.merges.size(); ++m) {
        const auto space = v.merges[m].find(' ');
        ASSERT_NE(space, std::string::npos);
        const auto left = v.merges[m].substr(0, space);
        const auto right = v.merges[m].substr(space + 1);
        EXPECT_TRUE(known.count(left)) << v.merges[m];
        EXPECT_TRUE(known.count(right)) << v.merges[m];
        EXPECT_EQ(v.tokens[256 + m], left + right);
        known.insert(left + right);
    }
    // Common English sub-words are learned from the corpus first.
    EXPECT_TRUE(known.count(gpt2::encode_bytes(" the")));
}

// The bench presets' vocabulary (32000 tokens) is mostly synthesized merges; every token must
// still be unique and every merge valid (this also ran into a dangling reference once).
TEST(Synth, BenchVocabularyIsValid) {
    const auto v = synth::make_vocabulary(synth::preset("qwen2", "bench-1024"));
    ASSERT_EQ(v.tokens.size(), 32000u);
    EXPECT_EQ(v.merges.size(), 32000u - 259u);
    const std::set<std::string> unique(v.tokens.begin(), v.tokens.end());
    EXPECT_EQ(unique.size(), v.tokens.size());
    for (std::size_t m = 0; m < v.merges.size(); ++m) {
        const auto space = v.merges[m].find(' ');
        ASSERT_EQ(v.tokens[256 + m], v.merges[m].substr(0, space) + v.merges[m].substr(space + 1)) << m;
    }
}

TEST(Synth, ByteTokensMatchTheFixtureVocabulary) {
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    const auto f = gguf::File::open(path.string());
    const auto& fixture_tokens = f.find("tokenizer.ggml.tokens")->as_array()->items;
    const auto v = synth::make_vocabulary(synth::preset("qwen2", "tiny"));
    for (std::size_t i = 0; i < 256; ++i) EXPECT_EQ(v.tokens[i], *fixture_tokens[i].as_string()) << "token " << i;
    for (std::size_t i = 1021; i < 1024; ++i) EXPECT_EQ(v.tokens[i], *fixture_tokens[i].as_string()) << "token " << i;
}

TEST(Synth, WeightsHaveTheDocumentedScale) {
    const auto s = synth::preset("qwen2", "tiny");
    auto stats = [&](const synth::TensorSpec& t) {
        std::vector<float> v(static_cast<std::size_t>(t.ne[0] * (t.ne.size() > 1 ? t.ne[1] : 1)));
        synth::generate_rows(s, 42, t, 0, v);
        double sum = 0, sq = 0;
        for (float x : v) sum += x;
        const double mean = sum / static_cast<double>(v.size());
        for (float x : v) sq += (x - mean) * (x - mean);
        return std::make_pair(mean, std::sqrt(sq / static_cast<double>(v.size() - 1)));
    };
    const auto [q_mean, q_std] = stats({"blk.0.attn_q.weight", {256, 256}});
    EXPECT_NEAR(q_mean, 0.0, 0.01);
    EXPECT_NEAR(q_std, 1.0 / 16.0, 0.002);  // 1/sqrt(256)
    const auto [d_mean, d_std] = stats({"blk.0.ffn_down.weight", {768, 256}});
    EXPECT_NEAR(d_std, 1.0 / std::sqrt(768.0) / 2.0, 0.002);  // also / sqrt(4 layers)
    const auto [n_mean, n_std] = stats({"blk.0.attn_norm.weight", {256}});
    EXPECT_NEAR(n_mean, 1.0, 0.02);
    EXPECT_NEAR(n_std, 0.05, 0.01);
}

/// layers, n_embd, n_ff, heads, kv heads, vocabulary, tied: one published configuration.
struct PublishedShape {
    int layers, embd, ff, heads, kv, vocab;
    bool tied;
};

void expect_shape(const synth::ModelShape& s, const PublishedShape& p) {
    SCOPED_TRACE(s.name);
    EXPECT_EQ(s.n_layers, p.layers);
    EXPECT_EQ(s.n_embd, p.embd);
    EXPECT_EQ(s.n_ff, p.ff);
    EXPECT_EQ(s.n_head, p.heads);
    EXPECT_EQ(s.n_head_kv, p.kv);
    EXPECT_EQ(s.n_vocab, p.vocab);
    EXPECT_EQ(s.tied, p.tied);
}

// The published configurations (Qwen2.5-0.5B, Qwen2.5-7B, Meta-Llama-3-8B config.json): the large
// vocabularies exercise the output projection as real models do.
TEST(Synth, PresetsHaveTheRealModelsShapes) {
    expect_shape(synth::preset("qwen2", "bench-0.5b"), {24, 896, 4864, 14, 2, 151936, true});
    expect_shape(synth::preset("qwen2", "bench-7b"), {28, 3584, 18944, 28, 4, 152064, false});
    const auto llama3 = synth::preset("llama", "llama3-8b");
    expect_shape(llama3, {32, 4096, 14336, 32, 8, 128256, false});
    EXPECT_FLOAT_EQ(llama3.rope_base, 500000.0f);
    EXPECT_THROW(synth::preset("qwen2", "llama3-8b"), UsageError);
}

TEST(Synth, BadShapesAreRejected) {
    auto s = synth::preset("llama", "tiny");
    s.n_head = 3;  // does not divide 256
    EXPECT_THROW(synth::validate(s), UsageError);
    EXPECT_THROW(synth::preset("gpt2", "tiny"), UsageError);
    EXPECT_THROW(synth::preset("qwen2", "huge"), UsageError);
}

}  // namespace
}  // namespace parity
