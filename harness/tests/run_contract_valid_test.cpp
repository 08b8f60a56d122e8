// contract_valid: the validator runs on the test's own contract file (read again from disk) and
// the test fails with its messages; every contract of the project passes and has no unbound test.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"
#include "run_fixture.h"

namespace parity::testing {
namespace {

namespace fs = std::filesystem;

class ContractValid : public ::testing::Test {
protected:
    void SetUp() override {
        suite_file_ = dir_ / "suite.cfg";
        write_text(suite_file_, suite_text());
        contract_ = dir_ / "c.yaml";
    }

    /// Plans `text` (which must be valid then) and runs its test CV after `edit` rewrote the file.
    reports::TestResult run(const std::string& text, const std::string& edit = "") {
        write_text(contract_, text);
        run::RunRequest req;
        req.contracts = {contract_.string()};
        req.suite_file = suite_file_.string();
        req.only = {"CV"};
        const run::Plan plan = run::plan_run(req);
        if (!edit.empty()) write_text(contract_, edit);
        run::PathCache cache(plan.suite);
        const reports::RunReport report = run::execute(plan, cache, "pv run (test)");
        EXPECT_EQ(report.results.size(), 1u);
        return report.results.at(0);
    }

    TempDir tmp_;
    fs::path dir_ = tmp_.path();
    fs::path suite_file_;
    fs::path contract_;
};

const std::string kValid = contract_text({bound_test("CV", "contract_valid"), bound_test("T-2", "finite, path: gguf")});

TEST_F(ContractValid, AValidContractPasses) {
    const auto r = run(kValid);
    EXPECT_EQ(r.status, reports::Status::Pass) << r.message;
    EXPECT_EQ(r.message, contract_.string() + " is valid: 0 errors, 0 warning(s)");
    EXPECT_EQ(r.metrics.at(0), (std::pair<std::string, double>{"errors", 0.0}));
    EXPECT_TRUE(r.paths.empty());
}

TEST_F(ContractValid, AnInvalidContractFailsWithTheValidatorsMessages) {
    // A binding naming a path the suite does not have, and a band upside down: two errors.
    const std::string bad = contract_text({bound_test("CV", "contract_valid"), bound_test("T-2", "finite, path: nowhere"),
                                           bound_test("T-3", "stat_ratio_band, paths: [apr, gguf], sample: full, "
                                                             "slot: ffn_gate, stat: std_dev, band: [2, 1]")});
    const auto r = run(kValid, bad);
    ASSERT_EQ(r.status, reports::Status::Fail) << r.message;
    // The messages are the validator's own, as `pv validate` prints them, in the one-line message.
    contract::ValidateOptions options;
    options.known_paths = run::load_suite(suite_file_).path_names();
    std::vector<std::string> expected;
    for (const auto& f : contract::validate_contract(contract::load_contract_file(contract_), options)) {
        if (f.severity == contract::Severity::Error) expected.push_back(contract::format_finding(f, contract_.string()));
    }
    ASSERT_EQ(expected.size(), 2u);
    EXPECT_EQ(r.message, contract_.string() + ": the validator reports 2 error(s), 0 warning(s): " + expected[0] + "; " +
                             expected[1]);
    EXPECT_NE(expected[0].find("[ERROR] "), std::string::npos);
    EXPECT_NE(expected[0].find("nowhere"), std::string::npos) << expected[0];
    EXPECT_EQ(r.notes, expected);
    EXPECT_EQ(r.message.find('\n'), std::string::npos);
}

TEST_F(ContractValid, AnUnreadableContractFailsWithTheLoadersMessage) {
    const auto r = run(kValid, "metadata: [unclosed\n");
    ASSERT_EQ(r.status, reports::Status::Fail) << r.message;
    EXPECT_NE(r.message.find(contract_.string() + ": the validator reports 1 error(s)"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find(contract_.string() + ":"), std::string::npos);
}

TEST_F(ContractValid, WarningsFailOnlyWhenStrict) {
    // An empty if_fails is a warning (SCHEMA-009).
    const std::string warn = contract_text({bound_test("CV", "contract_valid"),
                                            "  - id: T-2\n    prediction: \"holds\"\n    if_fails: \"\"\n"
                                            "    harness: {falsifier: finite, path: gguf}\n"});
    const auto lax = run(warn);
    EXPECT_EQ(lax.status, reports::Status::Pass) << lax.message;
    EXPECT_EQ(lax.message, contract_.string() + " is valid: 0 errors, 1 warning(s) (warnings allowed)");
    ASSERT_EQ(lax.notes.size(), 1u);
    EXPECT_NE(lax.notes[0].find("SCHEMA-009"), std::string::npos) << lax.notes[0];

    const std::string strict = contract_text({bound_test("CV", "contract_valid, strict: true"),
                                              "  - id: T-2\n    prediction: \"holds\"\n    if_fails: \"\"\n"
                                              "    harness: {falsifier: finite, path: gguf}\n"});
    const auto s = run(strict);
    ASSERT_EQ(s.status, reports::Status::Fail) << s.message;
    EXPECT_NE(s.message.find("0 error(s), 1 warning(s) (strict): [WARN] SCHEMA-009"), std::string::npos) << s.message;
}

TEST(ProjectContracts, EveryContractIsValidAndEveryTestBound) {
    const fs::path root(PARITY_SOURCE_DIR);
    const run::SuiteConfig suite = run::load_suite(root / "ctest.cfg");
    const contract::CollectedFiles files = contract::collect_contract_files({(root / "contracts").string()});
    ASSERT_GE(files.files.size(), 8u);
    run::PathCache cache(suite);
    for (const auto& file : files.files) {
        const contract::Contract c = contract::load_contract_file(file);
        const contract::TestCounts counts = contract::count_tests(c);
        EXPECT_GT(counts.total, 0u) << file;
        EXPECT_EQ(counts.unbound, 0u) << file << ": every falsification test of our contracts is bound";
        cache.set_contract(file);
        const falsifiers::ContractFindings f = cache.contract_findings();
        EXPECT_TRUE(f.errors.empty()) << file << ": " << (f.errors.empty() ? "" : f.errors.front());
    }
}

TEST(ProjectContracts, ParityFourIsBoundToContractValidAndPasses) {
    const fs::path root(PARITY_SOURCE_DIR);
    run::RunRequest req;
    req.contracts = {(root / "contracts/apr-vs-gguf-forward-parity-v1.yaml").string()};
    req.suite_file = (root / "ctest.cfg").string();
    req.only = {"FALSIFY-APR-GGUF-PARITY-004"};
    const run::Plan plan = run::plan_run(req);
    run::PathCache cache(plan.suite);
    const reports::RunReport report = run::execute(plan, cache, "pv run (test)");
    ASSERT_EQ(report.results.size(), 1u);
    EXPECT_EQ(report.results[0].falsifier, "contract_valid");
    EXPECT_EQ(report.results[0].status, reports::Status::Pass) << report.results[0].message;
    EXPECT_EQ(reports::exit_code(report), 0);
}

}  // namespace
}  // namespace parity::testing
