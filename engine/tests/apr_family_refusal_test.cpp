// APR metadata fields that change the math are accepted by a family whose graph implements them
// and refused, by name, by the others (engine/src/model/understood.h).

#include <string>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/format/apr.h"
#include "engine/model/model.h"
#include "engine/synth/synth.h"
#include "test_support.h"

namespace parity {
namespace {

// A tiny synthetic model of `arch` as APR, with `patch` merged into its metadata.
std::string apr_with(const testing::TempDir& dir, const std::string& arch, const apr::Json& patch) {
    const std::string src = (dir / (arch + "-src.apr")).string();
    synth::write_apr_f32(synth::preset(arch, "tiny"), 3, src);
    const apr::File f = apr::File::open(src);
    apr::Json meta = f.metadata();
    for (const auto& [key, value] : patch.items()) meta[key] = value;
    const std::string out = (dir / (arch + "-patched.apr")).string();
    apr::Writer w(out);
    w.set_metadata(std::move(meta));
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.dtype, t.ne);
    w.write_header();
    while (const apr::TensorInfo* t = w.next_tensor()) w.write_tensor_data(t->name, f.tensor_data(f.tensor(t->name)));
    w.finish();
    return out;
}

std::string load_error(const std::string& path) {
    try {
        (void)Model::load(path);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(loaded without error)";
}

TEST(AprFamilyRefusal, SlidingWindowOnlyWhereTheFamilyHasOne) {
    testing::TempDir dir;
    const auto e = load_error(apr_with(dir, "qwen3", {{"sliding_window", 4096}}));
    EXPECT_NE(e.find("metadata field 'sliding_window' is set, and the qwen3 graph does not implement it"),
              std::string::npos)
        << e;
    // gemma3's local layers read it; phi3 keeps it and refuses positions past it (as from GGUF).
    const Model g = Model::load(apr_with(dir, "gemma3", {{"sliding_window", 16}}));
    EXPECT_EQ(g.config().sliding_window, 16);
    EXPECT_EQ(g.plan(0).window, 16);
    EXPECT_EQ(g.plan(2).window, 0);
    const Model p = Model::load(apr_with(dir, "phi3", {{"sliding_window", 2047}}));
    EXPECT_EQ(p.config().sliding_window, 2047);
    // null means absent
    EXPECT_NO_THROW((void)Model::load(apr_with(dir, "qwen2", {{"sliding_window", nullptr}})));
}

TEST(AprFamilyRefusal, LocalLayerFieldsOnlyForGemma3) {
    testing::TempDir dir;
    auto e = load_error(apr_with(dir, "phi3", {{"sliding_window_pattern", 6}}));
    EXPECT_NE(e.find("'sliding_window_pattern'"), std::string::npos) << e;
    e = load_error(apr_with(dir, "llama", {{"rope_local_base_freq", 10000.0}}));
    EXPECT_NE(e.find("'rope_local_base_freq'"), std::string::npos) << e;
}

TEST(AprFamilyRefusal, ExpertsOnlyForQwen3Moe) {
    testing::TempDir dir;
    const auto e = load_error(apr_with(dir, "qwen3", {{"num_experts", 8}}));
    EXPECT_NE(e.find("metadata field 'num_experts' is set, and the qwen3 graph does not implement it"),
              std::string::npos)
        << e;
    const Model m = Model::load(apr_with(dir, "qwen3moe", {}));
    EXPECT_EQ(m.config().n_expert, 8);
    EXPECT_EQ(m.config().n_expert_used, 2);
    EXPECT_EQ(m.config().n_ff_expert, 256);
}

TEST(AprFamilyRefusal, RopeScalingOnlyLinear) {
    testing::TempDir dir;
    const Model m = Model::load(apr_with(dir, "qwen2", {{"rope_scaling", {{"rope_type", "linear"}, {"factor", 4.0}}}}));
    EXPECT_EQ(m.config().rope_freq_scale, 0.25f);
    EXPECT_EQ(m.rope_tables().at(0).freq_scale, 0.25f);
    // Hugging Face's older spelling of the type
    const Model old = Model::load(apr_with(dir, "llama", {{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}}));
    EXPECT_EQ(old.config().rope_freq_scale, 0.5f);
    const auto e = load_error(apr_with(dir, "qwen3", {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}));
    EXPECT_NE(e.find("metadata field 'rope_scaling' is set"), std::string::npos) << e;
    EXPECT_NE(e.find("'yarn'"), std::string::npos) << e;
}

TEST(AprFamilyRefusal, SoftcappingIsRefusedEverywhere) {
    testing::TempDir dir;
    const auto e = load_error(apr_with(dir, "gemma3", {{"final_logit_softcapping", 30.0}}));
    EXPECT_NE(e.find("'final_logit_softcapping'"), std::string::npos) << e;
}

}  // namespace
}  // namespace parity
