// Proof that the checks can fail (DESIGN.md: a check that cannot fail proves nothing):
//  - the sample mismatch of upstream's §27 (APR statistics over all prompt tokens, GGUF over the
//    last one) makes PARITY-007 fail, with counts 8 x dim vs dim;
//  - a fault injected into one slot of one layer of one path (`--path gguf=inject=L:SLOT:scale=F`)
//    makes stat_ratio_band fail naming that layer, and slot_tolerance name that layer and slot
//    as the first divergence;
//  - without injection the same contract passes.
// The paths are the F32 APR file (full_sequence, dequant) and the F32 GGUF file (incremental,
// ggml) of the same weights, so without a fault they agree to float rounding.

#include <string>

#include <gtest/gtest.h>

#include "pv_runner.h"
#include "run_fixture.h"

namespace parity::testing {
namespace {

class FaultProof : public ::testing::Test {
protected:
    void SetUp() override {
        suite_ = dir_ / "suite.cfg";
        write_text(suite_, suite_text("tokens: [40, 41, 42, 43, 44, 45, 46, 47]"));  // 8 tokens
        contract_ = dir_ / "proof.yaml";
        write_text(contract_,
                   contract_text({bound_test("PARITY-007-LAST", "sample_count_parity, paths: [apr, gguf], sample: last_token"),
                                  bound_test("RATIO-GATE", "stat_ratio_band, paths: [apr, gguf], sample: last_token, "
                                                           "slot: ffn_gate, stat: std_dev, band: [0.99, 1.01]"),
                                  bound_test("TOLERANCE", "slot_tolerance, paths: [gguf, apr], slots: all, "
                                                          "atol: 1.0e-5, rtol: 1.0e-4")}));
    }
    reports::RunReport execute(const std::string& contract, std::vector<std::string> path_options = {}) {
        run::RunRequest req;
        req.contracts = {contract};
        req.suite_file = suite_.string();
        req.path_options = std::move(path_options);
        const run::Plan plan = run::plan_run(req);
        run::PathCache cache(plan.suite);
        return run::execute(plan, cache, "pv run (test)");
    }
    static const reports::TestResult& by_id(const reports::RunReport& r, const std::string& id) {
        for (const auto& t : r.results) {
            if (t.id == id) return t;
        }
        throw std::runtime_error("no result " + id);
    }

    TempDir tmp_;
    std::filesystem::path dir_ = tmp_.path();
    std::filesystem::path suite_;
    std::filesystem::path contract_;
};

TEST_F(FaultProof, WithoutInjectionEverythingPasses) {
    const auto report = execute(contract_.string());
    for (const auto& r : report.results) EXPECT_EQ(r.status, reports::Status::Pass) << r.id << ": " << r.message;
    EXPECT_EQ(reports::exit_code(report), 0);
}

TEST_F(FaultProof, SampleMismatchFailsParity007) {
    const int dim = RunModels::get().n_embd;
    const auto c = dir_ / "p007.yaml";
    write_text(c, contract_text({bound_test("FALSIFY-APR-GGUF-PARITY-007",
                                            "sample_count_parity, paths: [apr, gguf], sample: full, slots: [attn_norm, output]")}));
    const auto report = execute(c.string());
    const auto& r = by_id(report, "FALSIFY-APR-GGUF-PARITY-007");
    ASSERT_EQ(r.status, reports::Status::Fail) << r.message;
    ASSERT_TRUE(r.first_failure);
    EXPECT_EQ(r.first_failure->layer, 0);
    EXPECT_EQ(r.first_failure->slot, "attn_norm");
    const std::string counts = "count " + std::to_string(8 * dim) + " (apr) vs " + std::to_string(dim) + " (gguf)";
    EXPECT_NE(r.first_failure->detail.find(counts), std::string::npos) << r.first_failure->detail;
    for (const auto& row : r.per_layer) {
        EXPECT_FALSE(row.pass);
        EXPECT_DOUBLE_EQ(row.value, 8.0);  // apr saw 8x the elements
    }
    EXPECT_EQ(reports::exit_code(report), 1);

    // Option A of upstream's fix: both sides whole-sequence (a path option) -> equal counts again.
    const auto fixed = execute(c.string(), {"gguf=mode=full_sequence"});
    EXPECT_EQ(by_id(fixed, "FALSIFY-APR-GGUF-PARITY-007").status, reports::Status::Pass)
        << by_id(fixed, "FALSIFY-APR-GGUF-PARITY-007").message;
    // Option B, what the contract binds: last-token statistics on both sides.
    EXPECT_EQ(by_id(execute(contract_.string()), "PARITY-007-LAST").status, reports::Status::Pass);
}

TEST_F(FaultProof, SampleMismatchThroughTheCli) {
    const auto c = dir_ / "p007.yaml";
    write_text(c, contract_text({bound_test("P7", "sample_count_parity, paths: [apr, gguf], sample: full")}));
    const PvResult r = run_pv({"run", c.string(), "--suite", suite_.string(), "--format", "none"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("FAIL     P7"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("apr saw 8x the elements of gguf"), std::string::npos) << r.out;
}

TEST_F(FaultProof, InjectedScaleIsLocalizedToItsLayerAndSlot) {
    const auto report = execute(contract_.string(), {"gguf=inject=1:ffn_gate:scale=1.5"});
    // The counts do not change: a fault is not a sampling problem.
    EXPECT_EQ(by_id(report, "PARITY-007-LAST").status, reports::Status::Pass);

    const auto& ratio = by_id(report, "RATIO-GATE");
    ASSERT_EQ(ratio.status, reports::Status::Fail) << ratio.message;
    ASSERT_TRUE(ratio.first_failure);
    EXPECT_EQ(ratio.first_failure->layer, 1);
    ASSERT_EQ(ratio.per_layer.size(), 3u);
    EXPECT_TRUE(ratio.per_layer[0].pass);  // layer 0 is untouched
    EXPECT_NEAR(ratio.per_layer[1].value, 1.0 / 1.5, 1e-3);

    const auto& tol = by_id(report, "TOLERANCE");
    ASSERT_EQ(tol.status, reports::Status::Fail) << tol.message;
    ASSERT_TRUE(tol.first_failure);
    EXPECT_EQ(tol.first_failure->layer, 1);
    EXPECT_EQ(tol.first_failure->slot, "ffn_gate");
    // Every slot before it in trace order agrees.
    for (const auto& row : tol.per_layer) {
        if (row.layer == 1 && row.slot == "ffn_gate") break;
        EXPECT_TRUE(row.pass) << row.layer << " " << row.slot;
    }
}

TEST_F(FaultProof, InjectionInAnotherSlotNamesThatSlot) {
    const auto report = execute(contract_.string(), {"gguf=inject=2:attn_out:scale=0.5"});
    const auto& tol = by_id(report, "TOLERANCE");
    ASSERT_EQ(tol.status, reports::Status::Fail);
    EXPECT_EQ(tol.first_failure->layer, 2);
    EXPECT_EQ(tol.first_failure->slot, "attn_out");
    // The ratio gate watches ffn_gate only; the RMSNorm in between absorbs much of a scale, so it
    // may or may not see the fault downstream — but never in a layer before it.
    const auto& ratio = by_id(report, "RATIO-GATE");
    if (ratio.status == reports::Status::Fail) {
        EXPECT_GE(ratio.first_failure->layer, 2);
    }
    EXPECT_TRUE(ratio.per_layer[0].pass);
    EXPECT_TRUE(ratio.per_layer[1].pass);
}

TEST_F(FaultProof, InjectionThroughTheCliWithRepro) {
    const PvResult r = run_pv({"run", contract_.string(), "--suite", suite_.string(), "--path",
                               "gguf=inject=1:ffn_gate:scale=1.5", "--format", "none"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("first divergence: layer 1, slot ffn_gate"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--path gguf=inject=1:ffn_gate:scale=1.5 --only TOLERANCE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("inject=1:ffn_gate:scale=1.5"), std::string::npos);
}

}  // namespace
}  // namespace parity::testing
