// A key or tensor that would change the math and that the family's graph does not implement is
// refused by name (engine/src/model/understood.h): a pass must never be silently wrong.

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/format/gguf_writer.h"
#include "engine/model/model.h"
#include "engine/model/rope.h"
#include "engine/runtime/forward.h"
#include "forward_test_util.h"

namespace parity {
namespace {

/// A copy of `src` with metadata entries set (added when absent) and tensors added.
std::string with_extras(const std::string& src, const std::string& dst, const std::vector<gguf::MetadataEntry>& keys,
                        const std::vector<gguf::TensorData>& extra_tensors = {}) {
    const gguf::File g = gguf::File::open(src);
    std::vector<gguf::MetadataEntry> meta = g.metadata();
    for (const auto& k : keys) {
        bool found = false;
        for (auto& e : meta) {
            if (e.key == k.key) {
                e.value = k.value;
                found = true;
            }
        }
        if (!found) meta.push_back(k);
    }
    std::vector<gguf::TensorData> tensors;
    for (const auto& t : g.tensors()) {
        const auto bytes = g.tensor_data(t);
        tensors.push_back({t.name, t.type, t.ne, std::vector<std::byte>(bytes.begin(), bytes.end())});
    }
    for (const auto& t : extra_tensors) tensors.push_back(t);
    gguf::write_file(dst, meta, tensors);
    return dst;
}

gguf::TensorData f32_tensor(const std::string& name, std::vector<float> values) {
    std::vector<std::byte> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return {name, GgmlType::F32, {static_cast<std::int64_t>(values.size())}, std::move(bytes)};
}

std::string load_error(const std::string& path) {
    try {
        (void)Model::load(path);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(loaded without error)";
}

class Refusal : public ::testing::Test {
protected:
    std::string llama(const std::vector<gguf::MetadataEntry>& keys, const std::vector<gguf::TensorData>& tensors = {}) {
        return with_extras(testing::synth_model("llama", FileType::ALL_F32), (dir_ / "m.gguf").string(), keys, tensors);
    }
    testing::TempDir dir_;
};

TEST_F(Refusal, RopeScalingTypeYarnIsNamed) {
    const auto e = load_error(llama({{"llama.rope.scaling.type", gguf::Value("yarn")}}));
    EXPECT_NE(e.find("m.gguf: metadata key 'llama.rope.scaling.type' = 'yarn'"), std::string::npos) << e;
}

TEST_F(Refusal, RopeScalingTypeNoneIsAccepted) {
    EXPECT_EQ(load_error(llama({{"llama.rope.scaling.type", gguf::Value("none")}})), "(loaded without error)");
}

TEST_F(Refusal, RopeScalingTypesOtherThanLinearAreNamed) {
    for (const char* type : {"longrope", "dynamic", "su"}) {
        const auto e = load_error(llama({{"llama.rope.scaling.type", gguf::Value(type)}}));
        EXPECT_NE(e.find("'llama.rope.scaling.type' = '" + std::string(type) + "'"), std::string::npos) << e;
    }
}

TEST_F(Refusal, ARopeScaleFactorIsLinearScalingAsInLlamaCpp) {
    // llama.cpp divides every frequency by the factor when the type is absent, none or linear.
    for (const char* type : {"", "none", "linear"}) {
        std::vector<gguf::MetadataEntry> keys = {{"llama.rope.scaling.factor", gguf::Value(8.0f)}};
        if (*type != '\0') keys.push_back({"llama.rope.scaling.type", gguf::Value(type)});
        const Model m = Model::load(llama(keys));
        ASSERT_EQ(m.rope_tables().size(), 1u) << type;
        EXPECT_EQ(m.rope_tables()[0].freq_scale, 0.125f) << type;
    }
    const Model unscaled = Model::load(llama({{"llama.rope.scaling.factor", gguf::Value(1.0f)}}));
    EXPECT_EQ(unscaled.rope_tables()[0].freq_scale, 1.0f);
}

TEST_F(Refusal, LogitSoftcappingIsNamed) {
    const auto e = load_error(llama({{"llama.attn_logit_softcapping", gguf::Value(50.0f)}}));
    EXPECT_NE(e.find("metadata key 'llama.attn_logit_softcapping' is not understood by the llama graph"),
              std::string::npos)
        << e;
    const auto f = load_error(llama({{"llama.final_logit_softcapping", gguf::Value(30.0f)}}));
    EXPECT_NE(f.find("'llama.final_logit_softcapping'"), std::string::npos) << f;
}

TEST_F(Refusal, SlidingWindowIsNamed) {
    const auto e = load_error(llama({{"llama.attention.sliding_window", gguf::Value(std::uint32_t{4096})}}));
    EXPECT_NE(e.find("metadata key 'llama.attention.sliding_window'"), std::string::npos) << e;
}

TEST_F(Refusal, ExpertsAreNamedButZeroExpertsAreAccepted) {
    const auto e = load_error(llama({{"llama.expert_count", gguf::Value(std::uint32_t{8})}}));
    EXPECT_NE(e.find("metadata key 'llama.expert_count': mixture-of-experts"), std::string::npos) << e;
    EXPECT_EQ(load_error(llama({{"llama.expert_count", gguf::Value(std::uint32_t{0})},
                                {"llama.expert_used_count", gguf::Value(std::uint32_t{0})}})),
              "(loaded without error)");
}

TEST_F(Refusal, ValueHeadSizeDifferentFromKeyHeadSizeIsNamed) {
    const auto e = load_error(llama({{"llama.attention.value_length", gguf::Value(std::uint32_t{7})}}));
    EXPECT_NE(e.find("metadata key 'llama.attention.value_length' differs from the key length"), std::string::npos)
        << e;
}

TEST_F(Refusal, ATensorTheGraphDoesNotReadIsNamed) {
    const auto e = load_error(llama({}, {f32_tensor("blk.0.ffn_gate_inp.weight", std::vector<float>(8, 1.0f))}));
    EXPECT_NE(e.find("m.gguf: tensor 'blk.0.ffn_gate_inp.weight' is not part of the llama graph"), std::string::npos)
        << e;
}

TEST_F(Refusal, RopeFreqsOnAFamilyWithoutThemIsNamed) {
    const Model m = Model::load(testing::synth_model("qwen2", FileType::ALL_F32));
    const auto n = static_cast<std::size_t>(m.config().head_dim / 2);
    const auto path = with_extras(testing::synth_model("qwen2", FileType::ALL_F32), (dir_ / "q.gguf").string(), {},
                                  {f32_tensor("rope_freqs.weight", std::vector<float>(n, 1.0f))});
    const auto e = load_error(path);
    EXPECT_NE(e.find("q.gguf: tensor 'rope_freqs.weight' is not part of the qwen2 graph"), std::string::npos) << e;
}

TEST_F(Refusal, RopeFreqsOfTheWrongLengthAreNamed) {
    const Model m = Model::load(testing::synth_model("llama", FileType::ALL_F32));
    const auto n = static_cast<std::size_t>(m.config().head_dim / 2);
    const auto e = load_error(llama({}, {f32_tensor("rope_freqs.weight", std::vector<float>(n + 1, 1.0f))}));
    EXPECT_NE(e.find("tensor 'rope_freqs.weight' has shape [" + std::to_string(n + 1) + "], expected [" +
                     std::to_string(n) + "]"),
              std::string::npos)
        << e;
}

TEST_F(Refusal, LlamaReadsRopeFreqs) {
    const Model base = Model::load(testing::synth_model("llama", FileType::ALL_F32));
    const auto n = static_cast<std::size_t>(base.config().head_dim / 2);
    std::vector<float> factors(n, 1.0f);
    factors.back() = 8.0f;
    const Model m = Model::load(llama({}, {f32_tensor("rope_freqs.weight", factors)}));
    EXPECT_EQ(m.rope_freqs(), factors);
    EXPECT_TRUE(base.rope_freqs().empty());
}

TEST_F(Refusal, AnUnknownArchitectureIsNamedWithTheSupportedOnes) {
    const auto e = load_error(llama({{"general.architecture", gguf::Value("gemma2")}}));
    EXPECT_NE(e.find("m.gguf: architecture 'gemma2' is not supported (supported: qwen2, llama, qwen3, qwen3moe, "
                     "gemma3, phi3)"),
              std::string::npos)
        << e;
}

/// A fixture model of one of the newer families with extra keys or tensors.
std::string fixture_with(const std::string& family, const testing::TempDir& dir,
                         const std::vector<gguf::MetadataEntry>& keys, const std::vector<gguf::TensorData>& tensors = {}) {
    const auto src = testing::fixture("llamacpp/models/tiny-" + family + "-ref-F32.gguf");
    if (!src) return {};
    return with_extras(src->string(), (dir / (family + ".gguf")).string(), keys, tensors);
}

TEST_F(Refusal, ABiasTheFamilyDoesNotHaveIsNamed) {
    const auto path = fixture_with("qwen3", dir_, {}, {f32_tensor("blk.0.attn_q.bias", std::vector<float>(512, 0.0f))});
    if (path.empty()) GTEST_SKIP() << "fixture llamacpp/models/tiny-qwen3-ref-F32.gguf not found";
    const auto e = load_error(path);
    EXPECT_NE(e.find("qwen3.gguf: tensor 'blk.0.attn_q.bias' is not part of the qwen3 graph"), std::string::npos) << e;
}

TEST_F(Refusal, Gemma3SoftcappingIsNamed) {
    const auto path = fixture_with("gemma3", dir_, {{"gemma3.final_logit_softcapping", gguf::Value(30.0f)}});
    if (path.empty()) GTEST_SKIP() << "fixture llamacpp/models/tiny-gemma3-ref-F32.gguf not found";
    const auto e = load_error(path);
    EXPECT_NE(e.find("metadata key 'gemma3.final_logit_softcapping' is not understood by the gemma3 graph"),
              std::string::npos)
        << e;
}

TEST_F(Refusal, Gemma3WithoutItsWindowIsNamed) {
    const auto src = testing::fixture("llamacpp/models/tiny-gemma3-ref-F32.gguf");
    if (!src) GTEST_SKIP() << "fixture llamacpp/models/tiny-gemma3-ref-F32.gguf not found";
    const gguf::File g = gguf::File::open(src->string());
    std::vector<gguf::MetadataEntry> meta;
    for (const auto& e : g.metadata()) {
        if (e.key != "gemma3.attention.sliding_window") meta.push_back(e);
    }
    std::vector<gguf::TensorData> tensors;
    for (const auto& t : g.tensors()) {
        const auto bytes = g.tensor_data(t);
        tensors.push_back({t.name, t.type, t.ne, std::vector<std::byte>(bytes.begin(), bytes.end())});
    }
    const std::string path = (dir_ / "g.gguf").string();
    gguf::write_file(path, meta, tensors);
    EXPECT_NE(load_error(path).find("g.gguf: gemma3.attention.sliding_window is missing or < 1"), std::string::npos);
}

TEST_F(Refusal, Phi3PositionsPastTheWindowLlamaCppIgnoresAreRefused) {
    const auto path = fixture_with("phi3", dir_, {{"phi3.attention.sliding_window", gguf::Value(std::uint32_t{8})}});
    if (path.empty()) GTEST_SKIP() << "fixture llamacpp/models/tiny-phi3-ref-F32.gguf not found";
    const Model m = Model::load(path);
    SessionOptions o;
    o.threads = 1;
    o.max_context = 16;
    auto s = create_session(m, o);
    const std::vector<std::int32_t> eight(8, 5);
    std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
    s->evaluate(eight, LogitsWanted::Last, logits, nullptr);  // positions 0..7: inside the window
    try {
        s->evaluate(std::vector<std::int32_t>{5}, LogitsWanted::Last, logits, nullptr);
        ADD_FAILURE() << "position 8 was evaluated";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("position 8 is past phi3.attention.sliding_window = 8"), std::string::npos)
            << e.what();
    }
}

// A linear scale of 1/2 at position 2 is the unscaled angle of position 1, bit for bit (halving
// and doubling are exact).
TEST(RopeTable, LinearScalingMultipliesEachAngle) {
    constexpr int kDims = 128;
    std::vector<float> plain(kDims), scaled(kDims);
    rope_cache(plain.data(), 1, kDims, 1000000.0f);
    rope_cache(scaled.data(), 2, kDims, 1000000.0f, {}, 0.5f);
    EXPECT_EQ(std::memcmp(plain.data(), scaled.data(), sizeof(float) * kDims), 0);
}

// theta_i(pos) / f for f = 8 (a power of two) is exactly theta_i(pos / 8): the table of position
// 8 with every factor 8 must be the table of position 1 without factors, bit for bit.
TEST(RopeTable, FrequencyFactorsDivideEachPairsAngle) {
    constexpr int kDims = 64;
    std::vector<float> plain(kDims), scaled(kDims), ones(kDims);
    rope_cache(plain.data(), 1, kDims, 500000.0f);
    const std::vector<float> eights(kDims / 2, 8.0f);
    rope_cache(scaled.data(), 8, kDims, 500000.0f, eights);
    EXPECT_EQ(std::memcmp(plain.data(), scaled.data(), sizeof(float) * kDims), 0);
    // Factors of 1 change nothing.
    std::vector<float> unscaled(kDims);
    rope_cache(unscaled.data(), 37, kDims, 500000.0f);
    rope_cache(ones.data(), 37, kDims, 500000.0f, std::vector<float>(kDims / 2, 1.0f));
    EXPECT_EQ(std::memcmp(unscaled.data(), ones.data(), sizeof(float) * kDims), 0);
}

}  // namespace
}  // namespace parity
