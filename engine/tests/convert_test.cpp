// GGUF <-> APR conversion keeps names, shapes, bytes (where the target has the type),
// architecture and tokenizer.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/convert.h"
#include "engine/error.h"
#include "engine/quant/quant.h"
#include "engine/synth/synth.h"
#include "engine/tokenizer/tokenizer.h"
#include "test_support.h"

namespace parity {
namespace {

void expect_same_model_description(const ModelFile& a, const ModelFile& b) {
    const ModelConfig ca = a.config();
    const ModelConfig cb = b.config();
    EXPECT_EQ(ca.arch, cb.arch);
    EXPECT_EQ(ca.n_layers, cb.n_layers);
    EXPECT_EQ(ca.n_embd, cb.n_embd);
    EXPECT_EQ(ca.n_ff, cb.n_ff);
    EXPECT_EQ(ca.n_head, cb.n_head);
    EXPECT_EQ(ca.n_head_kv, cb.n_head_kv);
    EXPECT_EQ(ca.n_vocab, cb.n_vocab);
    EXPECT_EQ(ca.n_ctx, cb.n_ctx);
    EXPECT_EQ(ca.rope_base, cb.rope_base);
    EXPECT_EQ(ca.rms_eps, cb.rms_eps);
    EXPECT_EQ(ca.rope, cb.rope);
    EXPECT_EQ(ca.tied, cb.tied);
    const TokenizerData ta = a.tokenizer();
    const TokenizerData tb = b.tokenizer();
    EXPECT_EQ(ta.model, tb.model);
    EXPECT_EQ(ta.pre, tb.pre);
    EXPECT_EQ(ta.tokens, tb.tokens);
    EXPECT_EQ(ta.merges, tb.merges);
    EXPECT_EQ(ta.token_types, tb.token_types);
    EXPECT_EQ(ta.bos, tb.bos);
    EXPECT_EQ(ta.eos, tb.eos);
    EXPECT_EQ(ta.add_bos, tb.add_bos);
    EXPECT_EQ(ta.scores, tb.scores);
    EXPECT_EQ(ta.unk, tb.unk);
    EXPECT_EQ(ta.add_eos, tb.add_eos);
    EXPECT_EQ(ta.add_space_prefix, tb.add_space_prefix);
}

// SentencePiece vocabularies (llama's spm, gemma3, phi3) need their scores, unknown token and
// space-prefix flag: the APR conversion carries them, and the APR file tokenizes every case of
// llama-tokenize's as the GGUF does.
TEST(Convert, SentencePieceVocabulariesTokenizeTheSameFromApr) {
    for (const std::string family : {"spm", "gemma3", "phi3", "llama3"}) {
        const auto gguf = testing::fixture("llamacpp/models/tiny-" + family + "-ref-F32.gguf");
        const auto cases = testing::fixture("llamacpp/refs/tokenize_" + family + ".json");
        if (!gguf || !cases) GTEST_SKIP() << "fixture absent: llamacpp/models/tiny-" << family << "-ref-F32.gguf";
        testing::TempDir dir;
        const std::string apr = (dir / "m.apr").string();
        convert_model(gguf->string(), apr, ModelFormat::Apr, ConvertDtype::Keep, {});
        const ModelFile g = ModelFile::open(gguf->string());
        const ModelFile a = ModelFile::open(apr);
        SCOPED_TRACE(family);
        expect_same_model_description(g, a);
        const Tokenizer tg(g.tokenizer());
        const Tokenizer ta(a.tokenizer());
        std::ifstream in(*cases);
        for (const auto& c : nlohmann::json::parse(in).at("cases")) {
            const auto text = c.at("text").get<std::string>();
            EXPECT_EQ(ta.encode(text), c.at("ids").get<std::vector<std::int32_t>>()) << text;
            EXPECT_EQ(ta.encode(text), tg.encode(text)) << text;
        }
    }
}

bool same_bytes(const ModelFile& a, const ModelTensor& ta, const ModelFile& b, const ModelTensor& tb) {
    const auto x = a.tensor_data(ta);
    const auto y = b.tensor_data(tb);
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
}

// A file written by an independent program from the fixture GGUF: our conversion of that
// GGUF must give the very same bytes (metadata JSON, index, data, both CRCs).
TEST(Convert, FixtureGgufToAprIsByteIdenticalToTheIndependentApr) {
    PARITY_REQUIRE_FIXTURE(gguf_path, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    PARITY_REQUIRE_FIXTURE(apr_path, "apr/tiny-qwen2-ref-F32.apr");
    testing::TempDir dir;
    const auto out = dir / "tiny-qwen2-ref-F32.apr";
    const auto r = convert_model(gguf_path.string(), out.string(), ModelFormat::Apr, ConvertDtype::Keep);
    EXPECT_TRUE(r.changed.empty());
    EXPECT_EQ(testing::read_file(out), testing::read_file(apr_path));
}

TEST(Convert, FixtureAprToGgufGivesTheFixtureTensorsAndKeys) {
    PARITY_REQUIRE_FIXTURE(gguf_path, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    PARITY_REQUIRE_FIXTURE(apr_path, "apr/tiny-qwen2-ref-F32.apr");
    testing::TempDir dir;
    const auto out = (dir / "back.gguf").string();
    convert_model(apr_path.string(), out, ModelFormat::Gguf, ConvertDtype::Keep);
    const auto back = ModelFile::open(out);
    const auto original = ModelFile::open(gguf_path.string());
    expect_same_model_description(back, original);
    ASSERT_EQ(back.tensors().size(), original.tensors().size());
    for (const auto& t : original.tensors()) {
        const auto& u = back.tensor(t.name);
        EXPECT_EQ(u.ne, t.ne) << t.name;
        EXPECT_TRUE(same_bytes(back, u, original, t)) << t.name;
    }
    // Every key of the original survives with its value (the tokenizer arrays included).
    for (const auto& e : original.gguf()->metadata()) {
        const auto* v = back.gguf()->find(e.key);
        ASSERT_NE(v, nullptr) << e.key;
        EXPECT_EQ(*v, e.value) << e.key;
    }
}

// GGUF -> APR -> GGUF with keep: every tensor APR could hold comes back byte for byte.
class ConvertRoundTrip : public ::testing::TestWithParam<FileType> {};

TEST_P(ConvertRoundTrip, KeptTensorsComeBackByteForByte) {
    testing::TempDir dir;
    auto shape = synth::preset("llama", "tiny");
    shape.n_vocab = 300;
    const auto src = (dir / "src.gguf").string();
    synth::write_gguf(shape, 5, GetParam(), src);
    const auto apr = (dir / "mid.apr").string();
    const auto back = (dir / "back.gguf").string();
    const auto r1 = convert_model(src, apr, ModelFormat::Apr, ConvertDtype::Keep);
    convert_model(apr, back, ModelFormat::Gguf, ConvertDtype::Keep);

    const auto a = ModelFile::open(src);
    const auto m = ModelFile::open(apr);
    const auto b = ModelFile::open(back);
    expect_same_model_description(a, m);
    expect_same_model_description(a, b);
    std::size_t kept = 0;
    for (const auto& t : a.tensors()) {
        const auto& mid = m.tensor(t.name);
        const auto& u = b.tensor(t.name);
        EXPECT_EQ(u.ne, t.ne);
        if (apr::from_ggml(*t.type)) {
            ++kept;
            EXPECT_EQ(mid.type, t.type) << t.name;
            EXPECT_TRUE(same_bytes(b, u, a, t)) << t.name;
        } else {
            // Not representable in APR: stored as F32 holding exactly the dequantized values.
            EXPECT_EQ(mid.type, GgmlType::F32) << t.name;
            EXPECT_EQ(m.dequantize(mid), a.dequantize(t)) << t.name;
        }
    }
    EXPECT_EQ(kept + r1.changed.size(), a.tensors().size());
}

INSTANTIATE_TEST_SUITE_P(FileTypes, ConvertRoundTrip,
                         ::testing::Values(FileType::ALL_F32, FileType::MOSTLY_F16, FileType::MOSTLY_Q4_K_M,
                                           FileType::MOSTLY_Q8_0),
                         [](const auto& p) { return std::string(file_type_name(p.param)); });

TEST(Convert, F16MakesMatricesHalfAndKeepsVectorsF32) {
    testing::TempDir dir;
    auto shape = synth::preset("qwen2", "tiny");
    shape.n_vocab = 300;
    const auto src = (dir / "src.gguf").string();
    synth::write_gguf(shape, 5, FileType::MOSTLY_Q8_0, src);
    const auto out = (dir / "f16.gguf").string();
    convert_model(src, out, ModelFormat::Gguf, ConvertDtype::F16);
    const auto f = ModelFile::open(out);
    EXPECT_EQ(f.gguf()->get_int("general.file_type"), static_cast<int>(FileType::MOSTLY_F16));
    for (const auto& t : f.tensors()) EXPECT_EQ(*t.type, t.ne.size() >= 2 ? GgmlType::F16 : GgmlType::F32) << t.name;
}

TEST(Convert, FailedConversionLeavesNoOutput) {
    testing::TempDir dir;
    const auto bad = dir / "bad.gguf";
    testing::write_file(bad, std::vector<std::byte>(64, std::byte{0}));
    const auto out = dir / "out.apr";
    EXPECT_THROW(convert_model(bad.string(), out.string(), ModelFormat::Apr, ConvertDtype::Keep), FormatError);
    EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace parity
