// The llama.cpp-written fixture models read as the fixtures' README describes them.

#include <gtest/gtest.h>

#include "engine/format/gguf.h"
#include "test_support.h"

namespace parity {
namespace {

using Shape = std::vector<std::int64_t>;

std::size_t array_size(const gguf::File& f, const std::string& key) {
    const auto* v = f.find(key);
    if (v == nullptr || v->as_array() == nullptr) return 0;
    return v->as_array()->items.size();
}

TEST(GgufFixtures, Qwen2MetadataMatchesReadme) {
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/models/tiny-qwen2-ref-F32.gguf");
    const auto f = gguf::File::open(path.string());
    EXPECT_EQ(f.get_string("general.architecture"), "qwen2");
    EXPECT_EQ(f.get_int("qwen2.block_count"), 4);
    EXPECT_EQ(f.get_int("qwen2.embedding_length"), 256);
    EXPECT_EQ(f.get_int("qwen2.feed_forward_length"), 768);
    EXPECT_EQ(f.get_int("qwen2.attention.head_count"), 4);
    EXPECT_EQ(f.get_int("qwen2.attention.head_count_kv"), 2);
    EXPECT_EQ(f.get_int("qwen2.context_length"), 256);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_number("qwen2.rope.freq_base")), 1e6f);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_number("qwen2.attention.layer_norm_rms_epsilon")), 1e-6f);
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1021);
    EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 1021);
    EXPECT_EQ(array_size(f, "tokenizer.ggml.tokens"), 1024u);
    EXPECT_EQ(array_size(f, "tokenizer.ggml.merges"), 765u);
    const auto& tokens = f.find("tokenizer.ggml.tokens")->as_array()->items;
    EXPECT_EQ(*tokens[1022].as_string(), "<|im_start|>");
}

// Expected type of a 2-D weight per file variant, as the README's tables state.
struct Variant {
    const char* file;
    GgmlType weight;                        // the 2-D weights' type
    std::vector<std::string> q6k_tensors;   // Q4_K_M's exceptions
};

class Qwen2Tensors : public ::testing::TestWithParam<Variant> {};

TEST_P(Qwen2Tensors, NamesTypesAndShapes) {
    const Variant& v = GetParam();
    PARITY_REQUIRE_FIXTURE(path, v.file);
    const auto f = gguf::File::open(path.string());
    ASSERT_EQ(f.tensors().size(), 51u);  // 4 layers x 12 + token_embd, output_norm, output

    auto weight_type = [&](const std::string& name) {
        for (const auto& q : v.q6k_tensors) {
            if (q == name) return GgmlType::Q6_K;
        }
        return v.weight;
    };
    auto expect = [&](const std::string& name, GgmlType type, const Shape& ne) {
        const auto* t = f.find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(type_name(t->type), type_name(type)) << name;
        EXPECT_EQ(t->ne, ne) << name;
    };
    expect("token_embd.weight", v.weight == GgmlType::F32 ? GgmlType::F32 : v.weight, {256, 1024});
    expect("output_norm.weight", GgmlType::F32, {256});
    expect("output.weight", weight_type("output.weight"), {256, 1024});
    for (int i = 0; i < 4; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        expect(b + "attn_norm.weight", GgmlType::F32, {256});
        expect(b + "ffn_norm.weight", GgmlType::F32, {256});
        expect(b + "attn_q.weight", weight_type(b + "attn_q.weight"), {256, 256});
        expect(b + "attn_k.weight", weight_type(b + "attn_k.weight"), {256, 128});
        expect(b + "attn_v.weight", weight_type(b + "attn_v.weight"), {256, 128});
        expect(b + "attn_q.bias", GgmlType::F32, {256});
        expect(b + "attn_k.bias", GgmlType::F32, {128});
        expect(b + "attn_v.bias", GgmlType::F32, {128});
        expect(b + "attn_output.weight", weight_type(b + "attn_output.weight"), {256, 256});
        expect(b + "ffn_gate.weight", weight_type(b + "ffn_gate.weight"), {256, 768});
        expect(b + "ffn_up.weight", weight_type(b + "ffn_up.weight"), {256, 768});
        expect(b + "ffn_down.weight", weight_type(b + "ffn_down.weight"), {768, 256});
    }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, Qwen2Tensors,
    ::testing::Values(Variant{"llamacpp/models/tiny-qwen2-ref-F32.gguf", GgmlType::F32, {}},
                      Variant{"llamacpp/models/tiny-qwen2-ref-Q8_0.gguf", GgmlType::Q8_0, {}},
                      Variant{"llamacpp/models/tiny-qwen2-ref-Q4_K_M.gguf",
                              GgmlType::Q4_K,
                              {"output.weight", "blk.2.attn_v.weight", "blk.3.attn_v.weight",
                               "blk.2.ffn_down.weight", "blk.3.ffn_down.weight"}}),
    [](const auto& p) { return testing::param_name(p.param.file); });

TEST(GgufFixtures, LlamaMetadataMatchesReadme) {
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/models/tiny-llama-ref-F32.gguf");
    const auto f = gguf::File::open(path.string());
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_int("llama.block_count"), 2);
    EXPECT_EQ(f.get_int("llama.embedding_length"), 256);
    EXPECT_EQ(f.get_int("llama.feed_forward_length"), 512);
    EXPECT_EQ(f.get_int("llama.attention.head_count"), 4);
    EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 1);
    EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 64);
    EXPECT_EQ(f.get_int("llama.vocab_size"), 1024);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_number("llama.rope.freq_base")), 1e4f);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get_number("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "llama-bpe");
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1021);
    EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 1022);
    const auto* add_bos = f.find("tokenizer.ggml.add_bos_token");
    ASSERT_NE(add_bos, nullptr);
    EXPECT_EQ(*add_bos, gguf::Value(true));
    EXPECT_EQ(f.tensors().size(), 20u);
    EXPECT_EQ(f.find_tensor("output.weight"), nullptr);  // tied output
}

class LlamaTensors : public ::testing::TestWithParam<Variant> {};

TEST_P(LlamaTensors, TypesAndShapes) {
    const Variant& v = GetParam();
    PARITY_REQUIRE_FIXTURE(path, v.file);
    const auto f = gguf::File::open(path.string());
    ASSERT_EQ(f.tensors().size(), 20u);
    auto expect = [&](const std::string& name, const Shape& ne) {
        const auto* t = f.find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        GgmlType want = ne.size() == 1 ? GgmlType::F32 : v.weight;
        for (const auto& q : v.q6k_tensors) {
            if (q == name) want = GgmlType::Q6_K;
        }
        EXPECT_EQ(type_name(t->type), type_name(want)) << name;
        EXPECT_EQ(t->ne, ne) << name;
    };
    expect("token_embd.weight", {256, 1024});
    expect("output_norm.weight", {256});
    for (int i = 0; i < 2; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        expect(b + "attn_norm.weight", {256});
        expect(b + "ffn_norm.weight", {256});
        expect(b + "attn_q.weight", {256, 256});
        expect(b + "attn_k.weight", {256, 64});
        expect(b + "attn_v.weight", {256, 64});
        expect(b + "attn_output.weight", {256, 256});
        expect(b + "ffn_gate.weight", {256, 512});
        expect(b + "ffn_up.weight", {256, 512});
        expect(b + "ffn_down.weight", {512, 256});
    }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, LlamaTensors,
    ::testing::Values(Variant{"llamacpp/models/tiny-llama-ref-F32.gguf", GgmlType::F32, {}},
                      Variant{"llamacpp/models/tiny-llama-ref-Q8_0.gguf", GgmlType::Q8_0, {}},
                      Variant{"llamacpp/models/tiny-llama-ref-Q4_K_M.gguf",
                              GgmlType::Q4_K,
                              {"token_embd.weight", "blk.1.attn_v.weight", "blk.1.ffn_down.weight"}}),
    [](const auto& p) { return testing::param_name(p.param.file); });

TEST(GgufFixtures, QuantZooHoldsFiftyTensorsOfSixteenTypes) {
    PARITY_REQUIRE_FIXTURE(path, "llamacpp/quant/quant-zoo.gguf");
    const auto f = gguf::File::open(path.string());
    EXPECT_EQ(f.file_size(), 625792u);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.tensors().size(), 50u);
    EXPECT_EQ(array_size(f, "zoo.types"), 16u);
    for (const char* name : {"Q8_1", "IQ4_XS", "Q3_K", "BF16"}) {
        const auto& t = f.tensor(std::string("q.") + name);
        EXPECT_EQ(type_name(t.type), name);
        EXPECT_EQ(t.ne, (Shape{256, 16}));
        EXPECT_EQ(t.n_bytes, static_cast<std::uint64_t>(f.get_int(std::string("zoo.") + name + ".ggml_type_size")) *
                                 16 * 256 / static_cast<std::uint64_t>(f.get_int(std::string("zoo.") + name + ".ggml_blck_size")));
    }
}

}  // namespace
}  // namespace parity
