// Every fixture family through APR: pv convert's GGUF -> APR keeps the family's hyper-parameters
// (under aprender's metadata names) and the APR file gives the very logits of a GGUF file with
// the same weights, ggml policy, at every position.

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/convert.h"
#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "forward_test_util.h"

namespace parity {
namespace {

struct FamilyFile {
    std::string family;   ///< tiny-<family>-ref
    std::string variant;  ///< F32, Q8_0, Q4_K_M

    std::string path() const { return "llamacpp/models/tiny-" + family + "-ref-" + variant + ".gguf"; }
};

std::vector<FamilyFile> all_files() {
    std::vector<FamilyFile> out;
    for (const char* family : {"qwen2", "llama", "llama3", "spm", "qwen3", "qwen3moe", "gemma3", "phi3"}) {
        for (const char* variant : {"F32", "Q8_0", "Q4_K_M"}) out.push_back({family, variant});
    }
    return out;
}

std::string file_name(const ::testing::TestParamInfo<FamilyFile>& info) {
    return info.param.family + "_" + testing::param_name(info.param.variant);
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.n_layers, b.n_layers);
    EXPECT_EQ(a.n_embd, b.n_embd);
    EXPECT_EQ(a.n_ff, b.n_ff);
    EXPECT_EQ(a.n_head, b.n_head);
    EXPECT_EQ(a.n_head_kv, b.n_head_kv);
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.n_vocab, b.n_vocab);
    EXPECT_EQ(a.n_ctx, b.n_ctx);
    EXPECT_EQ(a.rope_base, b.rope_base);
    EXPECT_EQ(a.rms_eps, b.rms_eps);
    EXPECT_EQ(a.rope, b.rope);
    EXPECT_EQ(a.tied, b.tied);
    EXPECT_EQ(a.n_expert, b.n_expert);
    EXPECT_EQ(a.n_expert_used, b.n_expert_used);
    EXPECT_EQ(a.n_ff_expert, b.n_ff_expert);
    EXPECT_EQ(a.sliding_window, b.sliding_window);
    EXPECT_EQ(a.sliding_window_pattern, b.sliding_window_pattern);
    EXPECT_EQ(a.rope_base_local, b.rope_base_local);
    EXPECT_EQ(a.rope_freq_scale, b.rope_freq_scale);
}

// 24 ids spread over the vocabulary, its last id included.
std::vector<std::int32_t> prompt(int n_vocab) {
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 23; ++i) ids.push_back(static_cast<std::int32_t>((i * 389 + 7) % n_vocab));
    ids.push_back(n_vocab - 1);
    return ids;
}

std::vector<float> logits(const Model& m, std::span<const std::int32_t> tokens, ForwardMode mode) {
    SessionOptions opts;
    opts.matmul = MatmulPolicy::Ggml;
    opts.threads = 2;
    opts.max_context = 32;
    auto session = create_session(m, opts);
    return forward_logits(*session, tokens, mode);
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class AprFamily : public ::testing::TestWithParam<FamilyFile> {};

TEST_P(AprFamily, ConvertedAprGivesTheGgufLogitsBitForBit) {
    const FamilyFile& c = GetParam();
    PARITY_REQUIRE_FIXTURE(gguf_path, c.path());
    testing::TempDir dir;
    const std::string apr = (dir / "model.apr").string();
    const ConvertResult r = convert_model(gguf_path.string(), apr, ModelFormat::Apr, ConvertDtype::Keep);

    // Tensors APR cannot hold (Q8_0, Q5_K, ...) are F32 in the APR file; the GGUF with the same
    // weights is then the APR file converted back.
    std::string same_weights = gguf_path.string();
    if (!r.changed.empty()) {
        same_weights = (dir / "back.gguf").string();
        convert_model(apr, same_weights, ModelFormat::Gguf, ConvertDtype::Keep);
    }
    const Model g = Model::load(same_weights);
    const Model a = Model::load(apr);
    expect_same_config(a.config(), g.config());
    expect_same_config(ModelFile::open(same_weights).config(), ModelFile::open(gguf_path.string()).config());

    const auto tokens = prompt(g.config().n_vocab);
    for (ForwardMode mode : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
        const auto lg = logits(g, tokens, mode);
        const auto la = logits(a, tokens, mode);
        ASSERT_EQ(lg.size(), tokens.size() * static_cast<std::size_t>(g.config().n_vocab));
        for (float x : la) ASSERT_TRUE(std::isfinite(x));
        EXPECT_TRUE(bit_identical(la, lg)) << to_string(mode) << ": max |d| = " << testing::max_abs_diff(la, lg).max_abs;
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AprFamily, ::testing::ValuesIn(all_files()), file_name);

// The family's hyper-parameters under aprender's names (Hugging Face config.json names where
// aprender has none), with the fixtures' values (shared/fixtures/README.md).
TEST(AprFamilyMetadata, FamilyFieldsUseAprenderNames) {
    struct Expect {
        std::string family;
        apr::Json fields;
        std::vector<std::string> absent;
    };
    const std::vector<Expect> cases = {
        {"qwen3", {{"head_dim", 128}, {"rope_type", 2}, {"tied_embeddings", true}}, {"num_experts", "sliding_window"}},
        {"qwen3moe",
         {{"head_dim", 64}, {"num_experts", 8}, {"num_experts_per_tok", 2}, {"moe_intermediate_size", 256},
          {"intermediate_size", 1024}},
         {"sliding_window"}},
        {"gemma3",
         {{"head_dim", 128}, {"sliding_window", 8}, {"sliding_window_pattern", 3}, {"rope_local_base_freq", 10000.0},
          {"rope_theta", 1000000.0}},
         {"num_experts", "rope_scaling"}},
        {"phi3", {{"rope_type", 2}, {"max_position_embeddings", 4096}}, {"head_dim", "sliding_window", "num_experts"}},
        {"qwen2", {{"rope_type", 2}}, {"head_dim", "num_experts", "sliding_window", "rope_scaling"}},
    };
    for (const Expect& e : cases) {
        SCOPED_TRACE(e.family);
        PARITY_REQUIRE_FIXTURE(gguf_path, "llamacpp/models/tiny-" + e.family + "-ref-F32.gguf");
        testing::TempDir dir;
        const std::string apr = (dir / "model.apr").string();
        convert_model(gguf_path.string(), apr, ModelFormat::Apr, ConvertDtype::Keep);
        const ModelFile file = ModelFile::open(apr);
        const apr::Json& meta = file.apr()->metadata();
        for (const auto& [key, value] : e.fields.items()) EXPECT_EQ(meta.value(key, apr::Json()), value) << key;
        for (const auto& key : e.absent) EXPECT_FALSE(meta.contains(key)) << key;
    }
}

// APR -> GGUF writes the keys each family's GGUF has: every `<arch>.` key of the fixture comes
// back with its value, except what APR does not carry (phi3's
// rope.scaling.original_context_length, which only YaRN reads).
TEST(AprFamilyMetadata, RoundTripGivesTheFixtureArchKeys) {
    for (const char* family : {"qwen2", "llama3", "qwen3", "qwen3moe", "gemma3", "phi3"}) {
        SCOPED_TRACE(family);
        PARITY_REQUIRE_FIXTURE(gguf_path, std::string("llamacpp/models/tiny-") + family + "-ref-F32.gguf");
        testing::TempDir dir;
        const std::string apr = (dir / "model.apr").string();
        const std::string back = (dir / "back.gguf").string();
        convert_model(gguf_path.string(), apr, ModelFormat::Apr, ConvertDtype::Keep);
        convert_model(apr, back, ModelFormat::Gguf, ConvertDtype::Keep);
        const ModelFile original = ModelFile::open(gguf_path.string());
        const ModelFile b = ModelFile::open(back);
        const std::string prefix = original.config().arch + ".";
        for (const auto& e : original.gguf()->metadata()) {
            if (e.key.rfind(prefix, 0) != 0 || e.key == "phi3.rope.scaling.original_context_length") continue;
            const auto* v = b.gguf()->find(e.key);
            ASSERT_NE(v, nullptr) << e.key;
            EXPECT_EQ(*v, e.value) << e.key;
        }
        for (const auto& e : b.gguf()->metadata()) {
            if (e.key.rfind(prefix, 0) == 0) {
                EXPECT_NE(original.gguf()->find(e.key), nullptr) << "extra key " << e.key;
            }
        }
    }
}

}  // namespace
}  // namespace parity
