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

TEST_F(Refusal, LinearRopeScaleFactorIsNamedButFactorOneIsAccepted) {
    const auto e = load_error(llama({{"llama.rope.scaling.factor", gguf::Value(8.0f)}}));
    EXPECT_NE(e.find("metadata key 'llama.rope.scaling.factor' asks for scaled rope"), std::string::npos) << e;
    EXPECT_EQ(load_error(llama({{"llama.rope.scaling.factor", gguf::Value(1.0f)}})), "(loaded without error)");
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
