// Stage tensor dumps end to end: `pv trace --save-tensor` writes upstream's APRT layouts
// (file count, header layer, element counts; identical bytes twice), and per_op between our
// paths and external dump trees names the injected fault's layer, a scaled stage exactly, lists
// a one-sided stage as not compared, and refuses a truncated file with its name and place.

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/trace/aprt.h"
#include "pv_runner.h"
#include "run_fixture.h"

namespace parity::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kPerLayerStages = 16;  // qwen2 has biases: every per-layer stage, qkv_bias included
constexpr int kWholeModelStages = 3;
const char* kTokens = "40,41,42,43";

std::vector<char> bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> files_under(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir));
    }
    std::sort(out.begin(), out.end());
    return out;
}

PvResult save(const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"trace", RunModels::get().gguf_f32.string(), "--tokens", kTokens, "--threads", "1",
                                     "--save-tensor", "all", "--output", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_pv(args);
}

TEST(PvSaveTensor, PerPositionTreeHasEveryStageWithUpstreamsHeaders) {
    TempDir tmp;
    const fs::path out = tmp.path() / "dump";
    const auto r = save(out);
    ASSERT_EQ(r.code, 0) << r.err;
    const int layers = RunModels::get().n_layers;
    const auto files = files_under(out);
    EXPECT_EQ(files.size(), static_cast<std::size_t>(4 * (kPerLayerStages * layers + kWholeModelStages)));
    EXPECT_NE(r.out.find("wrote " + std::to_string(files.size()) + " APRT files"), std::string::npos) << r.out;

    // n_embd 64, n_ff 128, 4 heads of 16, 2 kv heads: q_dim 64, kv_dim 32; vocab 300.
    const auto gate = aprt::read_file(out / "pos-0002/layer-1/ffn_gate.bin");
    EXPECT_EQ(gate.layer, 1u);
    EXPECT_EQ(gate.values.size(), 128u);
    EXPECT_EQ(aprt::read_file(out / "pos-0000/layer-0/qkv_matmul.bin").values.size(), 64u + 2u * 32u);
    EXPECT_EQ(aprt::read_file(out / "pos-0000/layer-0/qkv_bias.bin").values.size(), 64u + 2u * 32u);
    EXPECT_EQ(aprt::read_file(out / "pos-0001/layer-2/k_post_rope.bin").values.size(), 32u);
    EXPECT_EQ(aprt::read_file(out / "pos-0001/layer-2/attention.bin").values.size(), 64u);
    const auto head = aprt::read_file(out / "pos-0003/lm_head.bin");
    EXPECT_EQ(head.layer, aprt::kWholeModelLayer);
    EXPECT_EQ(head.values.size(), 300u);
    EXPECT_EQ(aprt::read_file(out / "pos-0000/embedding.bin").values.size(), 64u);
    // layer_output is upstream's alias of post_ffn_residual: the same bytes.
    EXPECT_EQ(bytes_of(out / "pos-0003/layer-2/layer_output.bin"), bytes_of(out / "pos-0003/layer-2/post_ffn_residual.bin"));
    // The bias moved q|k|v.
    EXPECT_NE(bytes_of(out / "pos-0000/layer-0/qkv_matmul.bin"), bytes_of(out / "pos-0000/layer-0/qkv_bias.bin"));
}

TEST(PvSaveTensor, DumpsAreByteIdenticalAcrossRuns) {
    TempDir tmp;
    ASSERT_EQ(save(tmp.path() / "one").code, 0);
    ASSERT_EQ(save(tmp.path() / "two").code, 0);
    const auto one = files_under(tmp.path() / "one");
    ASSERT_EQ(one, files_under(tmp.path() / "two"));
    ASSERT_FALSE(one.empty());
    for (const auto& f : one) EXPECT_EQ(bytes_of(tmp.path() / "one" / f), bytes_of(tmp.path() / "two" / f)) << f;
}

TEST(PvSaveTensor, ConcatenatedLayoutAndStageSelection) {
    TempDir tmp;
    const fs::path out = tmp.path() / "cat";
    const auto r = save(out, {"--layout", "concatenated"});
    ASSERT_EQ(r.code, 0) << r.err;
    const int layers = RunModels::get().n_layers;
    EXPECT_EQ(files_under(out).size(), static_cast<std::size_t>(kPerLayerStages * layers + kWholeModelStages));
    const auto gate = aprt::read_file(out / "layer-1/ffn_gate.bin");
    EXPECT_EQ(gate.layer, 1u);
    EXPECT_EQ(gate.values.size(), 4u * 128u);
    EXPECT_EQ(aprt::read_file(out / "lm_head.bin").values.size(), 4u * 300u);

    const fs::path some = tmp.path() / "some";
    const auto s = run_pv({"trace", RunModels::get().gguf_f32.string(), "--tokens", kTokens, "--save-tensor",
                           "ffn_gate,lm_head", "--output", some.string(), "--layout", "concatenated"});
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_EQ(files_under(some).size(), static_cast<std::size_t>(layers + 1));

    const auto bad = run_pv({"trace", RunModels::get().gguf_f32.string(), "--tokens", kTokens, "--save-tensor",
                             "ffn_gates", "--output", some.string()});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("unknown stage 'ffn_gates'"), std::string::npos) << bad.err;
}

// ---------------------------------------------------------------------------------------------
// per_op through pv run's runner.

class PerOpRun : public ::testing::Test {
protected:
    void SetUp() override {
        suite_ = dir_ / "suite.cfg";
        std::string tokens = "tokens: [";
        for (int i = 0; i < 64; ++i) tokens += (i ? ", " : "") + std::to_string(20 + i);
        write_text(suite_, suite_text(tokens + "]"));
        contract_ = dir_ / "per-op.yaml";
        write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [gguf, apr], min_cosine: 0.99999")}));
    }
    reports::TestResult run_one(std::vector<std::string> path_options = {}) {
        run::RunRequest req;
        req.contracts = {contract_.string()};
        req.suite_file = suite_.string();
        req.path_options = std::move(path_options);
        const run::Plan plan = run::plan_run(req);
        run::PathCache cache(plan.suite);
        const auto report = run::execute(plan, cache, "pv run (test)");
        EXPECT_EQ(report.results.size(), 1u);
        return report.results.at(0);
    }
    /// Our gguf path's dumps of the suite tokens as an external tree.
    fs::path dump_gguf(const std::string& name) {
        std::string ids;
        for (int i = 0; i < 64; ++i) ids += (i ? "," : "") + std::to_string(20 + i);
        const fs::path out = dir_ / name;
        const auto r = run_pv({"trace", RunModels::get().gguf_f32.string(), "--tokens", ids, "--mode", "incremental",
                               "--threads", "1", "--save-tensor", "all", "--output", out.string()});
        EXPECT_EQ(r.code, 0) << r.err;
        return out;
    }

    TempDir tmp_;
    fs::path dir_ = tmp_.path();
    fs::path suite_;
    fs::path contract_;
};

TEST_F(PerOpRun, OurTwoPathsAgreeOnSixtyFourPositions) {
    const auto r = run_one();
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(r.per_layer.size(), static_cast<std::size_t>(kPerLayerStages * RunModels::get().n_layers + 3));
    for (const auto& m : r.per_layer) EXPECT_EQ(m.details.at(2).second, 64.0) << m.slot;
}

TEST_F(PerOpRun, AnInjectedFaultIsNamedAtTheInjectedLayer) {
    // ffn_up x 1.5 in layer 1 keeps the direction of ffn_up, ffn_swigl and ffn_out (a cosine does
    // not see a scale); the residual add is where it turns, so the cosine names
    // post_ffn_residual layer 1, and max_abs names ffn_up layer 1 itself.
    const auto r = run_one({"gguf=inject=1:ffn_up:scale=1.5"});
    ASSERT_EQ(r.status, reports::Status::Fail) << r.message;
    ASSERT_TRUE(r.first_failure);
    EXPECT_EQ(r.first_failure->layer, 1) << r.message;
    EXPECT_EQ(r.first_failure->slot, "post_ffn_residual") << r.message;
    EXPECT_NE(r.message.find("first divergence: post_ffn_residual layer 1 ("), std::string::npos) << r.message;

    write_text(contract_,
               contract_text({bound_test("PER-OP", "per_op, paths: [gguf, apr], min_cosine: 0.99999, max_abs: 1.0e-3")}));
    const auto a = run_one({"gguf=inject=1:ffn_up:scale=1.5"});
    ASSERT_EQ(a.status, reports::Status::Fail) << a.message;
    EXPECT_EQ(a.first_failure->layer, 1) << a.message;
    EXPECT_EQ(a.first_failure->slot, "ffn_up") << a.message;
}

TEST_F(PerOpRun, AnExternalTreeAgreesAndOneScaledStageIsNamedExactly) {
    const fs::path ext = dump_gguf("ext");
    write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [ext, apr], min_cosine: 0.99999")}));
    const auto ok = run_one({"ext=dumps=" + ext.string()});
    EXPECT_EQ(ok.status, reports::Status::Pass) << ok.message;

    // Change the direction of ffn_gate in layer 2 at position 10 only.
    const fs::path file = ext / "pos-0010/layer-2/ffn_gate.bin";
    auto t = aprt::read_file(file);
    for (std::size_t i = 0; i < t.values.size(); i += 2) t.values[i] *= 3.0f;
    aprt::write_file(file, t.layer, t.values);
    const auto bad = run_one({"ext=dumps=" + ext.string()});
    ASSERT_EQ(bad.status, reports::Status::Fail) << bad.message;
    EXPECT_EQ(bad.first_failure->slot, "ffn_gate");
    EXPECT_EQ(bad.first_failure->layer, 2);
    EXPECT_NE(bad.message.find("first divergence: ffn_gate layer 2 (min cosine"), std::string::npos) << bad.message;
    EXPECT_NE(bad.message.find("@pos 10"), std::string::npos) << bad.message;
}

// The statistic falsifiers read a dump tree too: its trace is computed from the stage values
// (every position; last-token values from the last one).
TEST_F(PerOpRun, StatisticFalsifiersJudgeAnExternalTree) {
    const fs::path ext = dump_gguf("ext");
    write_text(contract_, contract_text({bound_test("SLOTS", "slot_tolerance, paths: [ext, apr], slots: all, atol: 1.0e-4"),
                                         bound_test("STD", "stat_ratio_band, paths: [ext, apr], slot: ffn_out, stat: std_dev, "
                                                           "band: [0.999, 1.001], sample: full")}));
    run::RunRequest req;
    req.contracts = {contract_.string()};
    req.suite_file = suite_.string();
    req.path_options = {"ext=dumps=" + ext.string()};
    {
        const run::Plan plan = run::plan_run(req);
        run::PathCache cache(plan.suite);
        const auto report = run::execute(plan, cache, "pv run (test)");
        ASSERT_EQ(report.results.size(), 2u);
        for (const auto& r : report.results) EXPECT_EQ(r.status, reports::Status::Pass) << r.id << ": " << r.message;
    }
    // Scale ffn_gate of layer 2 at the last position: slot_tolerance names it.
    const fs::path file = ext / "pos-0063/layer-2/ffn_gate.bin";
    auto t = aprt::read_file(file);
    for (float& v : t.values) v *= 1.5f;
    aprt::write_file(file, t.layer, t.values);
    const run::Plan plan = run::plan_run(req);
    run::PathCache cache(plan.suite);
    const auto report = run::execute(plan, cache, "pv run (test)");
    const auto& slots = report.results.at(0);
    ASSERT_EQ(slots.status, reports::Status::Fail) << slots.message;
    EXPECT_EQ(slots.first_failure->layer, 2) << slots.message;
    EXPECT_EQ(slots.first_failure->slot, "ffn_gate") << slots.message;
}

TEST_F(PerOpRun, AStageMissingOnOneSideIsListedAsNotCompared) {
    const fs::path ext = dump_gguf("ext");
    for (int p = 0; p < 64; ++p) {
        char name[32];
        std::snprintf(name, sizeof name, "pos-%04d/layer-0/ffn_silu.bin", p);
        fs::remove(ext / name);
    }
    write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [ext, apr], min_cosine: 0.99999")}));
    const auto r = run_one({"ext=dumps=" + ext.string()});
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0], "not compared: ffn_silu layer 0 (only in apr)");
}

TEST_F(PerOpRun, EverySelectedStageOnOneSideOnlyIsUnmeasured) {
    // The tree lacks ffn_silu in every layer, and only ffn_silu is compared: nothing measured.
    const fs::path ext = dump_gguf("ext");
    std::vector<fs::path> silu;
    for (const auto& e : fs::recursive_directory_iterator(ext)) {
        if (e.path().filename() == "ffn_silu.bin") silu.push_back(e.path());
    }
    std::size_t removed = 0;
    for (const auto& f : silu) removed += fs::remove(f) ? 1 : 0;
    EXPECT_EQ(removed, static_cast<std::size_t>(64 * RunModels::get().n_layers));
    write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [ext, apr], stages: [ffn_silu]")}));
    const auto r = run_one({"ext=dumps=" + ext.string()});
    EXPECT_EQ(r.status, reports::Status::Unmeasured) << r.message;
    EXPECT_NE(r.message.find("nothing compared: no selected stage is present on both ext and apr"), std::string::npos)
        << r.message;
    EXPECT_EQ(r.notes.size(), static_cast<std::size_t>(RunModels::get().n_layers));
    EXPECT_EQ(r.notes.at(0), "not compared: ffn_silu layer 0 (only in apr)");
    // pv run: exit 1 (UNMEASURED is not allowed by this suite), counted apart.
    const auto pv = run_pv({"run", contract_.string(), "--suite", suite_.string(), "--path", "ext=dumps=" + ext.string(),
                            "--format", "none"});
    EXPECT_EQ(pv.code, 1) << pv.out;
    EXPECT_NE(pv.out.find("1 tests, 0 evaluated: 0 passed, 0 failed, 0 errors, 0 skipped, 0 unbound, 1 unmeasured"),
              std::string::npos)
        << pv.out;
}

TEST_F(PerOpRun, ATruncatedFileIsAnErrorNamingItAndAPositionMismatchToo) {
    const fs::path ext = dump_gguf("ext");
    write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [ext, apr]")}));
    const fs::path file = ext / "pos-0005/layer-1/attn_out.bin";
    auto bytes = bytes_of(file);
    bytes.resize(bytes.size() - 3);
    std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const auto r = run_one({"ext=dumps=" + ext.string()});
    EXPECT_EQ(r.status, reports::Status::Error);
    EXPECT_NE(r.message.find("pos-0005/layer-1/attn_out.bin"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("truncated APRT values"), std::string::npos) << r.message;
    // pv diff on the same file: exit 2, bad input.
    const auto d = run_pv({"diff", file.string(), file.string()});
    EXPECT_EQ(d.code, 2) << d.out;

    fs::remove_all(ext);
    const fs::path few = dump_gguf("few");
    fs::remove_all(few / "pos-0063");
    const auto m = run_one({"ext=dumps=" + few.string()});
    EXPECT_EQ(m.status, reports::Status::Error);
    EXPECT_NE(m.message.find("holds 63 positions, the input has 64 tokens"), std::string::npos) << m.message;
}

TEST_F(PerOpRun, AConcatenatedTreeOfAnotherPositionCountIsAnError) {
    // 32 positions concatenated: read for the suite's 64 tokens, every file splits evenly into
    // rows of half the width, so only the widths tell; that is an ERROR, never a row of cosine 0.
    std::string ids;
    for (int i = 0; i < 32; ++i) ids += (i ? "," : "") + std::to_string(20 + i);
    const fs::path half = dir_ / "half";
    const auto d = run_pv({"trace", RunModels::get().gguf_f32.string(), "--tokens", ids, "--threads", "1",
                           "--save-tensor", "all", "--output", half.string(), "--layout", "concatenated"});
    ASSERT_EQ(d.code, 0) << d.err;
    write_text(contract_, contract_text({bound_test("PER-OP", "per_op, paths: [ext, apr]")}));
    const auto r = run_one({"ext=dumps=" + half.string()});
    EXPECT_EQ(r.status, reports::Status::Error) << r.message;
    EXPECT_NE(r.message.find("every stage differs in width (embedding: "), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("a dump tree written for another number of positions"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace parity::testing
