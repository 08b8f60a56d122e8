// APR metadata: the whole JSON is kept; typed accessors fail for the key they read, naming it
// and pointing at it, and never make the rest of the metadata unreadable.

#include <cstring>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/format/apr.h"
#include "engine/error.h"

namespace parity {
namespace {

using apr::Json;

// A file with `json_text` (at least 8 bytes) as its metadata, verbatim, and one F32 tensor:
// the writer lays the file out around a placeholder of the same length, the text is swapped in
// and the footer CRC recomputed (the header CRC does not cover the metadata).
std::vector<std::byte> file_with_metadata_text(const std::string& json_text) {
    std::ostringstream os(std::ios::binary);
    apr::Writer w(os, "meta.apr");
    w.set_metadata(Json::object({{"p", std::string(json_text.size() >= 8 ? json_text.size() - 8 : 0, 'x')}}));
    w.add_tensor("w", apr::DType::F32, {1});
    w.write_header();
    const float one = 1.0f;
    w.write_tensor_data(std::as_bytes(std::span(&one, 1)));
    w.finish();
    const std::string s = os.str();
    std::vector<std::byte> b(s.size());
    std::memcpy(b.data(), s.data(), s.size());
    // {"p":"xxx"} is 8 + n bytes: same length as json_text when it is at least 8 bytes long.
    EXPECT_GE(json_text.size(), 8u);
    std::memcpy(b.data() + 64, json_text.data(), json_text.size());
    // Fix the footer CRC (the header does not cover the metadata).
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i + 4 < b.size(); ++i) {
        c ^= static_cast<std::uint8_t>(b[i]);
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    c = ~c;
    std::memcpy(b.data() + b.size() - 4, &c, 4);
    return b;
}

// Expects `fn` to throw FormatError about meta.apr whose cause contains `cause`, at `offset`.
template <typename Fn>
void expect_key_error(Fn fn, const std::string& cause, std::uint64_t offset) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected: " << cause;
    } catch (const FormatError& e) {
        EXPECT_NE(e.cause().find(cause), std::string::npos) << "cause: " << e.cause() << "\nexpected: " << cause;
        EXPECT_EQ(e.offset(), offset) << e.what();
        EXPECT_EQ(e.file(), "meta.apr");
    }
}

TEST(AprMetadata, ArchitectureKeys) {
    const std::string text =
        R"({"model_type":"qwen2","architecture":"qwen2","hidden_size":896,"num_layers":24,"num_heads":14,)"
        R"("num_kv_heads":2,"vocab_size":151936,"intermediate_size":4864,"max_position_embeddings":32768,)"
        R"("rope_theta":1000000.0,"rope_type":2,"rms_norm_eps":1e-06,"tied_embeddings":true,"head_dim":null})";
    const auto b = file_with_metadata_text(text);
    const auto f = apr::File::parse(b, "meta.apr");
    const auto a = f.architecture();
    EXPECT_EQ(a.model_type, "qwen2");
    EXPECT_EQ(a.architecture, "qwen2");
    EXPECT_EQ(a.hidden_size, 896);
    EXPECT_EQ(a.num_layers, 24);
    EXPECT_EQ(a.num_heads, 14);
    EXPECT_EQ(a.num_kv_heads, 2);
    EXPECT_EQ(a.vocab_size, 151936);
    EXPECT_EQ(a.intermediate_size, 4864);
    EXPECT_EQ(a.max_position_embeddings, 32768);
    EXPECT_EQ(a.rope_theta, 1e6);
    EXPECT_EQ(a.rope_type, 2);
    EXPECT_EQ(a.rms_norm_eps, 1e-6);
    EXPECT_EQ(a.tied_embeddings, true);
    EXPECT_FALSE(a.head_dim);  // null is absent
    EXPECT_EQ(f.get_int("hidden_size"), 896);
    EXPECT_EQ(f.get_string("architecture"), "qwen2");
    EXPECT_DOUBLE_EQ(f.get_number("rope_theta"), 1e6);
    EXPECT_TRUE(f.get_bool("tied_embeddings"));
}

TEST(AprMetadata, WrongTypeFailsForThatKeyOnlyAndNamesIt) {
    const std::string text = R"({"architecture":"qwen2","hidden_size":"896","num_layers":24,"custom":[1,2]})";
    const auto b = file_with_metadata_text(text);
    const auto f = apr::File::parse(b, "meta.apr");  // loading keeps everything
    const std::uint64_t at = 64 + text.find("\"hidden_size\"");
    expect_key_error([&] { (void)f.architecture(); }, "metadata key 'hidden_size' is a string, expected a non-negative integer", at);
    expect_key_error([&] { (void)f.get_int("hidden_size"); }, "'hidden_size' is a string", at);
    // The rest stays readable, raw JSON included.
    EXPECT_EQ(f.get_int("num_layers"), 24);
    EXPECT_EQ(f.get_string("architecture"), "qwen2");
    ASSERT_NE(f.find("hidden_size"), nullptr);
    EXPECT_EQ(*f.find("hidden_size"), "896");
    EXPECT_EQ(*f.find("custom"), Json::parse("[1,2]"));
}

TEST(AprMetadata, FloatNegativeAndOutOfRangeIntegersAreErrors) {
    const std::string text = R"({"num_heads":14.0,"num_layers":-1,"rope_type":1,"vocab_size":18446744073709551615})";
    const auto b = file_with_metadata_text(text);
    const auto f = apr::File::parse(b, "meta.apr");
    expect_key_error([&] { (void)f.get_int("num_heads"); }, "'num_heads' is a float (14.0), expected an integer",
                     64 + text.find("\"num_heads\""));
    expect_key_error([&] { (void)f.architecture(); }, "'num_layers' = -1, expected a non-negative integer",
                     64 + text.find("\"num_layers\""));
    expect_key_error([&] { (void)f.get_int("vocab_size"); }, "does not fit a signed 64-bit integer",
                     64 + text.find("\"vocab_size\""));
}

TEST(AprMetadata, RopeTypeMustBeNormOrNeox) {
    const std::string text = R"({"rope_type":1,"padding":"...."})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    expect_key_error([&] { (void)f.architecture(); }, "expected 0 (NORM) or 2 (NEOX)", 64 + text.find("\"rope_type\""));
}

TEST(AprMetadata, MissingAndNullKeys) {
    const std::string text = R"({"quantization":null,"name":"x"})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    expect_key_error([&] { (void)f.get_string("nope"); }, "metadata key 'nope' is missing", 64);
    expect_key_error([&] { (void)f.get_string("quantization"); }, "metadata key 'quantization' is null",
                     64 + text.find("\"quantization\""));
    EXPECT_FALSE(f.architecture().hidden_size);
}

TEST(AprMetadata, TokenizerNestedAndFlatAgree) {
    const std::string text =
        R"({"tokenizer":{"model":"gpt2","pre":"qwen2","tokens":["a","b","ab"],"merges":["a b"],"token_type":[1,1,1],)"
        R"("bos_token_id":2,"eos_token_id":1},"tokenizer.vocabulary":["a","b","ab"],"tokenizer.merges":["a b"],)"
        R"("tokenizer.bos_token_id":2,"tokenizer.eos_token_id":1,"tokenizer.model":"gpt2"})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    const auto t = f.tokenizer();
    EXPECT_TRUE(t.present);
    EXPECT_EQ(t.model, "gpt2");
    EXPECT_EQ(t.pre, "qwen2");
    EXPECT_EQ(t.tokens, (std::vector<std::string>{"a", "b", "ab"}));
    EXPECT_EQ(t.merges, (std::vector<std::string>{"a b"}));
    EXPECT_EQ(t.token_type, (std::vector<std::int32_t>{1, 1, 1}));
    EXPECT_EQ(t.bos_token_id, 2);
    EXPECT_EQ(t.eos_token_id, 1);
}

TEST(AprMetadata, TokenizerFlatKeysOnlyAsRealizarReadsThem) {
    const std::string text =
        R"({"tokenizer.vocabulary":["x","y"],"tokenizer.merges":[["x","y"]],"tokenizer.bos_token_id":0,)"
        R"("tokenizer.eos_token_id":1})";
    const auto bytes = file_with_metadata_text(text);
    const auto t = apr::File::parse(bytes, "meta.apr").tokenizer();
    EXPECT_TRUE(t.present);
    EXPECT_EQ(t.tokens, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(t.merges, (std::vector<std::string>{"x y"}));  // pair form joined
    EXPECT_EQ(t.bos_token_id, 0);
    EXPECT_EQ(t.eos_token_id, 1);
    EXPECT_FALSE(t.model);
}

TEST(AprMetadata, TokenizerNestedAndFlatDisagreeIsAnError) {
    const std::string text = R"({"tokenizer":{"tokens":["a","b"]},"tokenizer.vocabulary":["a","c"]})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    expect_key_error([&] { (void)f.tokenizer(); }, "'tokenizer.vocabulary' disagrees with 'tokenizer.tokens",
                     64 + text.find("\"tokenizer.vocabulary\""));
}

TEST(AprMetadata, TokenizerElementOfWrongTypeNamesItsIndex) {
    const std::string text = R"({"tokenizer":{"model":"gpt2","tokens":["a",7,"c"]}})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    expect_key_error([&] { (void)f.tokenizer(); }, "'tokenizer.tokens' has element [1] of type number, expected a string",
                     64 + text.find("\"tokens\""));
    const std::string text2 = R"({"tokenizer":"gpt2","x":"......"})";
    const auto f2_bytes = file_with_metadata_text(text2);
    const auto f2 = apr::File::parse(f2_bytes, "meta.apr");
    expect_key_error([&] { (void)f2.tokenizer(); }, "'tokenizer' is a string, expected an object", 64 + 1);
}

TEST(AprMetadata, DuplicateKeyIsRejectedAtLoad) {
    const std::string text = R"({"hidden_size":8,"vocab_size":4,"hidden_size":9})";
    const auto b = file_with_metadata_text(text);
    expect_key_error([&] { (void)apr::File::parse(b, "meta.apr"); }, "the key 'hidden_size' twice",
                     64 + text.rfind("\"hidden_size\""));
}

TEST(AprMetadata, DuplicateKeyInNestedObjectIsRejected) {
    const std::string text = R"({"tokenizer":{"model":"a","pre":"b","model":"c"}})";
    const auto b = file_with_metadata_text(text);
    expect_key_error([&] { (void)apr::File::parse(b, "meta.apr"); }, "the key 'model' twice", 64 + text.rfind("\"model\""));
}

TEST(AprMetadata, SameKeyInDifferentObjectsIsFine) {
    const std::string text = R"({"a":{"k":1},"b":{"k":2},"k":3})";
    const auto f_bytes = file_with_metadata_text(text);
    const auto f = apr::File::parse(f_bytes, "meta.apr");
    EXPECT_EQ(f.get_int("k"), 3);
}

TEST(AprMetadata, NestingDepthIsBounded) {
    const std::string text = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
    const auto b = file_with_metadata_text(text);
    expect_key_error([&] { (void)apr::File::parse(b, "meta.apr"); }, "nests deeper than 64 levels", 64);
}

}  // namespace
}  // namespace parity
