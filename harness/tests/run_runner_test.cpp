// pv run end to end on tiny synthetic models: verdicts, exit codes, reports, sharing of the
// forward passes between tests, skipping, selection.

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/runtime/cuda_device.h"
#include "engine/runtime/cuda_module.h"
#include "json_schema.h"
#include "pv_runner.h"
#include "run_fixture.h"

namespace parity::testing {
namespace {

class PvRun : public ::testing::Test {
protected:
    void SetUp() override {
        RunModels::get();
        suite_ = dir_ / "suite.cfg";
        write_text(suite_, suite_text());
    }
    std::string contract(const std::string& name, const std::vector<std::string>& tests) {
        const auto p = dir_ / name;
        write_text(p, contract_text(tests));
        return p.string();
    }
    PvResult pv_run(std::vector<std::string> args) {
        args.insert(args.begin(), "run");
        args.push_back("--suite");
        args.push_back(suite_.string());
        if (std::find(args.begin(), args.end(), "--report-dir") == args.end()) {
            args.push_back("--report-dir");
            args.push_back((dir_ / "reports").string());
        }
        return run_pv(args);
    }
    /// Plans and executes in-process, for structured assertions.
    reports::RunReport execute(const std::vector<std::string>& contracts, run::CacheStats* stats = nullptr,
                               std::vector<std::string> path_options = {}) {
        run::RunRequest req;
        req.contracts = contracts;
        req.suite_file = suite_.string();
        req.path_options = std::move(path_options);
        const run::Plan plan = run::plan_run(req);
        run::PathCache cache(plan.suite);
        auto report = run::execute(plan, cache, "pv run (test)");
        if (stats) *stats = cache.stats();
        return report;
    }

    TempDir tmp_;
    std::filesystem::path dir_ = tmp_.path();
    std::filesystem::path suite_;
};

const std::string kRatio = "stat_ratio_band, paths: [apr, gguf], sample: last_token, slot: ffn_swiglu_inner, stat: std_dev, band: [0.999, 1.001]";
const std::string kCount = "sample_count_parity, paths: [apr, gguf], sample: last_token";
const std::string kTol = "slot_tolerance, paths: [gguf, apr], slots: all, atol: 1.0e-5, rtol: 1.0e-4";
const std::string kFinite = "finite, paths: [apr, gguf]";
const std::string kLogits = "logits_agreement, paths: [gguf, apr], min_cosine: 0.99999, max_abs: 1.0e-4, top_k: 5, min_overlap: 5";

TEST_F(PvRun, AllPassExitZeroWithSummaryAndReports) {
    const auto c = contract("ok.yaml", {bound_test("T-RATIO", kRatio), bound_test("T-COUNT", kCount),
                                        bound_test("T-TOL", kTol), bound_test("T-FIN", kFinite),
                                        bound_test("T-LOGITS", kLogits),
                                        bound_test("T-GREEDY", "greedy_tokens_agree, paths: [apr, gguf, gguf_q8], n_tokens: 4"),
                                        bound_test("T-KV", "prefill_vs_decode, path: gguf, atol: 1.0e-5, rtol: 1.0e-4")});
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("STATUS"), std::string::npos);
    EXPECT_NE(r.out.find("PASS     T-RATIO"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("7 tests, 7 evaluated: 7 passed, 0 failed, 0 errors, 0 skipped, 0 unbound"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("reports: "), std::string::npos);
    for (const char* f : {"report.json", "report.junit.xml", "report.md", "report.html"}) {
        EXPECT_TRUE(std::filesystem::exists(dir_ / "reports" / f)) << f;
    }
    std::ifstream in(dir_ / "reports" / "report.json");
    const auto j = nlohmann::json::parse(in);
    ASSERT_EQ(j["tests"].size(), 7u);
    EXPECT_EQ(j["summary"]["exit_code"], 0);
    const auto& t0 = j["tests"][0];
    EXPECT_EQ(t0["id"], "T-RATIO");
    EXPECT_EQ(t0["falsifier"], "stat_ratio_band");
    EXPECT_EQ(t0["per_layer"].size(), 3u);  // one row per layer
    EXPECT_EQ(t0["labels"], nlohmann::json::array({"cpu"}));
    EXPECT_NE(t0["repro"].get<std::string>().find("--only T-RATIO"), std::string::npos);
}

TEST_F(PvRun, ColorPaintsOnlyTheStatusColumnWhenAsked) {
    const auto c = contract("color.yaml", {bound_test("T-FIN", kFinite),
                                           bound_test("T-BAND", "stat_ratio_band, paths: [apr, gguf_q8], sample: last_token, "
                                                                "slot: ffn_swiglu_inner, stat: std_dev, band: [5.0, 6.0]"),
                                           unbound_test("T-FREE")});
    const PvResult painted = pv_run({c, "--color", "always", "--format", "none"});
    EXPECT_EQ(painted.code, 1) << painted.out << painted.err;
    EXPECT_NE(painted.out.find("\033[32mPASS\033[0m     T-FIN "), std::string::npos) << painted.out;
    EXPECT_NE(painted.out.find("\033[31mFAIL\033[0m     T-BAND "), std::string::npos) << painted.out;
    EXPECT_NE(painted.out.find("\033[2mUNBOUND\033[0m  T-FREE "), std::string::npos) << painted.out;
    EXPECT_NE(painted.out.find("\nSTATUS   ID"), std::string::npos) << painted.out;  // the header stays plain

    for (const char* mode : {"never", "auto"}) {  // auto: the output is no terminal here
        const PvResult plain = pv_run({c, "--color", mode, "--format", "none"});
        EXPECT_EQ(plain.out.find('\033'), std::string::npos) << mode << ":\n" << plain.out;
        EXPECT_NE(plain.out.find("PASS     T-FIN "), std::string::npos) << plain.out;
    }
    const PvResult bad = pv_run({c, "--color", "sometimes"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--color: 'sometimes' is not auto, always or never"), std::string::npos) << bad.err;
}

TEST_F(PvRun, ReportRecordsTheBuildAndMatchesTheSchema) {
    const auto c = contract("build.yaml", {bound_test("T-FIN", kFinite), unbound_test("T-FREE")});
    const PvResult r = pv_run({c, "--format", "json"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    std::ifstream in(dir_ / "reports" / "report.json");
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(JsonSchema::load(PARITY_REPORT_SCHEMA).validate(j), std::vector<std::string>{});
    const auto& b = j.at("build");
    EXPECT_EQ(b.at("version"), PARITY_TEST_VERSION);
    EXPECT_EQ(b.at("version"), j.at("run").at("tool_version"));
    EXPECT_EQ(b.at("build_type"), PARITY_TEST_BUILD_TYPE);
    const std::string commit = b.at("commit");
    EXPECT_TRUE(commit == "unknown" || (commit.size() >= 7 && commit.find_first_not_of("0123456789abcdef") == std::string::npos))
        << commit;
    EXPECT_EQ(b.at("cuda").at("built"), cuda::built_with_cuda());
    // A run of CPU paths never loads the CUDA module, so the report lists no device.
    EXPECT_FALSE(cuda::cuda_backend_loaded());
    EXPECT_EQ(b.at("cuda").at("loaded"), false);
    EXPECT_EQ(b.at("cuda").at("devices").size(), 0u);
}

TEST_F(PvRun, EachPathIsComputedOnceAndShared) {
    const auto c = contract("share.yaml", {bound_test("A", kRatio), bound_test("B", kCount), bound_test("C", kTol),
                                           bound_test("D", kFinite), bound_test("E", kLogits),
                                           bound_test("F", "finite, path: gguf, slots: [ffn_swiglu_inner]")});
    run::CacheStats stats;
    const auto report = execute({c}, &stats);
    for (const auto& r : report.results) EXPECT_EQ(r.status, reports::Status::Pass) << r.id << ": " << r.message;
    EXPECT_EQ(stats.traces, 2u);  // apr once, gguf once, for six tests
    EXPECT_EQ(stats.models_loaded, 2u);
    EXPECT_EQ(stats.sessions, 2u);
    EXPECT_EQ(stats.logits, 0u);  // last-position logits come from the shared traces

    // prefill_vs_decode on gguf adds only the full_sequence pass; all-position logits one per path.
    const auto c2 = contract("share2.yaml",
                             {bound_test("A", kRatio), bound_test("K", "prefill_vs_decode, path: gguf"),
                              bound_test("L", "logits_agreement, paths: [gguf, apr], positions: all, max_abs: 1.0e-4"),
                              bound_test("L2", "logits_agreement, paths: [gguf, apr], positions: [0, 3], min_cosine: 0.9999")});
    execute({c2}, &stats);
    EXPECT_EQ(stats.traces, 3u);
    EXPECT_EQ(stats.logits, 2u);
}

TEST_F(PvRun, FailExitsOneWithDivergenceAndRepro) {
    const auto c = contract("fail.yaml", {bound_test("T-OK", kCount),
                                          bound_test("T-BAD", "stat_ratio_band, paths: [apr, gguf], sample: last_token, "
                                                              "slot: ffn_gate, stat: std_dev, band: [2, 3]")});
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("FAIL     T-BAD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("first divergence: layer 0, slot ffn_gate"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("repro: pv run " + c + " --suite " + suite_.string() + " --only T-BAD"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("2 tests, 2 evaluated: 1 passed, 1 failed"), std::string::npos) << r.out;
}

TEST_F(PvRun, ErrorCountsAsFailure) {
    const auto c = contract("err.yaml", {bound_test("T-OK", kCount),
                                         bound_test("T-ERR", "finite, path: gguf, layers: [7]")});  // 3 layers
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("ERROR    T-ERR"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("layer 7 does not exist"), std::string::npos) << r.out;
}

TEST_F(PvRun, BadContractExitsTwoWithTheValidatorsMessages) {
    const auto c = contract("bad.yaml", {bound_test("T-1", "stat_ratio_band, paths: [apr, nope], sample: last_token, "
                                                           "slot: ffn_gate, stat: std_dev, band: [0.5, 2]"),
                                         bound_test("T-2", "finite, path: apr, colour: red")});
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("[ERROR] HARNESS-008"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("[ERROR] HARNESS-004"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("STATUS"), std::string::npos);  // nothing ran
}

TEST_F(PvRun, BadUsageExitsTwo) {
    const auto c = contract("ok.yaml", {bound_test("T-1", kCount)});
    EXPECT_EQ(pv_run({c, "--only", "NO-SUCH-ID"}).code, 2);
    EXPECT_NE(pv_run({c, "--only", "NO-SUCH-ID"}).err.find("NO-SUCH-ID"), std::string::npos);
    EXPECT_EQ(pv_run({c, "--format", "pdf"}).code, 2);
    EXPECT_EQ(pv_run({c, "--path", "gguf=mode=sideways"}).code, 2);
    EXPECT_EQ(pv_run({(dir_ / "nothing-here").string()}).code, 2);
    write_text(suite_, "prompt: x\nmodles: {}\n");
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("suite.cfg:2:1"), std::string::npos) << r.err;
    EXPECT_EQ(run_pv({"run", c}).code, 2);  // no suite, no --path: `apr` and `gguf` are unknown
}

TEST_F(PvRun, UnboundAndSkippedNeverCountAsPasses) {
    // Only unbound tests: nothing evaluated -> 77.
    const auto u = contract("unbound.yaml", {unbound_test("U-1"), unbound_test("U-2")});
    const PvResult ru = pv_run({u});
    EXPECT_EQ(ru.code, 77) << ru.out;
    EXPECT_NE(ru.out.find("UNBOUND  U-1"), std::string::npos) << ru.out;
    // An absent model the suite marks optional: SKIPPED saying so, 77 when nothing else ran.
    const auto m = contract("optional.yaml", {bound_test("M-1", "finite, path: fixture")});
    const PvResult rm = pv_run({m});
    EXPECT_EQ(rm.code, 77) << rm.out;
    EXPECT_NE(rm.out.find("SKIPPED  M-1"), std::string::npos);
    EXPECT_NE(rm.out.find("path fixture: the optional model file " + (RunModels::get().dir / "no-such-fixture.gguf").string() +
                          " is absent"),
              std::string::npos)
        << rm.out;
    // Skipped and unbound beside a pass: 0, and they are counted as what they are.
    const auto mix = contract("mix.yaml", {bound_test("P-1", kCount), unbound_test("U-1"),
                                           bound_test("M-1", "finite, paths: [gguf, fixture]")});
    const PvResult rx = pv_run({mix});
    EXPECT_EQ(rx.code, 0) << rx.out;
    EXPECT_NE(rx.out.find("3 tests, 1 evaluated: 1 passed, 0 failed, 0 errors, 1 skipped, 1 unbound, 0 unmeasured"),
              std::string::npos)
        << rx.out;
}

TEST_F(PvRun, AMissingModelFileIsAnErrorNamingSuitePathAndFile) {
    // A typo must not turn a job green: beside a pass, the missing model still makes exit 1.
    const auto c = contract("missing.yaml", {bound_test("P-1", kCount), bound_test("M-1", "finite, paths: [gguf, missing]")});
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("ERROR    M-1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no-such-model.gguf,backend=cpu,mode=incremental,matmul=ggml,kv_type=f32  [file missing: its tests are ERROR]\n"),
              std::string::npos)
        << r.out;
    // One line: the suite file with the path's place, the path name, the missing file.
    const std::string line = suite_.string() + ":11:3: path missing: model file " +
                             (RunModels::get().dir / "no-such-model.gguf").string() + " not found";
    EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 tests, 1 evaluated: 1 passed, 0 failed, 1 errors, 0 skipped"), std::string::npos) << r.out;
    const reports::RunReport rep = execute({c});
    ASSERT_EQ(rep.results.size(), 2u);
    EXPECT_EQ(rep.results[1].status, reports::Status::Error);
    EXPECT_EQ(rep.results[1].message.find('\n'), std::string::npos);
    EXPECT_EQ(rep.results[1].message.rfind(line, 0), 0u) << rep.results[1].message;
    // A path added by --path with a missing model: an error too, naming --path.
    const auto d = contract("direct.yaml", {bound_test("D-1", "finite, path: typo")});
    const reports::RunReport dr = execute({d}, nullptr, {"typo=model=" + (dir_ / "typo.gguf").string()});
    ASSERT_EQ(dr.results.size(), 1u);
    EXPECT_EQ(dr.results[0].status, reports::Status::Error);
    EXPECT_EQ(dr.results[0].message, "--path: path typo: model file " + (dir_ / "typo.gguf").string() + " not found");
}

TEST_F(PvRun, UnmeasuredFailsTheRunUnlessTheSuiteAllowsIt) {
    // A dump tree holds the stage tensors of one run: a generation asked of it is UNMEASURED,
    // never a pass.
    const std::string ext = "ext=dumps=" + dir_.string();
    const auto c = contract("unmeasured.yaml", {bound_test("P-1", kCount),
                                                bound_test("U-1", "output_matches, path: ext, n_tokens: 2, regex: x")});
    const reports::RunReport rep = execute({c}, nullptr, {ext});
    ASSERT_EQ(rep.results.size(), 2u);
    EXPECT_EQ(rep.results[1].status, reports::Status::Unmeasured);
    EXPECT_NE(rep.results[1].message.find("path ext is a dump tree (dumps:): it holds the stage tensors of one run"),
              std::string::npos)
        << rep.results[1].message;
    EXPECT_FALSE(rep.results[1].allow_unmeasured);
    EXPECT_EQ(reports::exit_code(rep), 1);
    const PvResult r = pv_run({c, "--path", ext});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("UNMEASURED U-1"), std::string::npos) << r.out;
    EXPECT_NE(pv_run({c, "--path", ext, "--color", "always"}).out.find("\033[35mUNMEASURED\033[0m U-1"), std::string::npos);
    EXPECT_NE(r.out.find("2 tests, 1 evaluated: 1 passed, 0 failed, 0 errors, 0 skipped, 0 unbound, 1 unmeasured\n"),
              std::string::npos)
        << r.out;

    // The suite allows it for U-1: exit 0 beside the pass, and the reports say it was allowed.
    write_text(suite_, suite_text() + "contracts:\n  - {file: " + c + ", allow_unmeasured: [U-1]}\n");
    const reports::RunReport allowed = execute({c}, nullptr, {ext});
    EXPECT_EQ(allowed.results[1].status, reports::Status::Unmeasured);
    EXPECT_TRUE(allowed.results[1].allow_unmeasured);
    EXPECT_FALSE(allowed.results[0].allow_unmeasured);
    EXPECT_EQ(reports::exit_code(allowed), 0);
    const PvResult ra = pv_run({c, "--path", ext, "--format", "json"});
    EXPECT_EQ(ra.code, 0) << ra.out;
    EXPECT_NE(ra.out.find("1 unmeasured (1 allowed)"), std::string::npos) << ra.out;
    std::ifstream in(dir_ / "reports" / "report.json");
    const auto doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc.at("summary").at("unmeasured"), 1);
    EXPECT_EQ(doc.at("summary").at("unmeasured_allowed"), 1);
    EXPECT_EQ(doc.at("tests").at(1).at("status"), "UNMEASURED");
    EXPECT_EQ(doc.at("tests").at(1).at("allow_unmeasured"), true);

    // Alone and allowed: nothing evaluated, 77 (never 0).
    const PvResult alone = pv_run({c, "--path", ext, "--only", "U-1"});
    EXPECT_EQ(alone.code, 77) << alone.out;

    // An id the contract does not have is a typo: bad input.
    write_text(suite_, suite_text() + "contracts:\n  - {file: " + c + ", allow_unmeasured: [U-2]}\n");
    const PvResult typo = pv_run({c, "--path", ext});
    EXPECT_EQ(typo.code, 2) << typo.out;
    EXPECT_NE(typo.err.find("allow_unmeasured: " + c + " has no test U-2"), std::string::npos) << typo.err;
}

TEST_F(PvRun, CudaPathWithoutDeviceIsSkipped) {
    if (cuda::built_with_cuda() && cuda::device_count() > 0) GTEST_SKIP() << "this machine has a CUDA device";
    const auto c = contract("gpu.yaml", {bound_test("G-1", "slot_tolerance, paths: [gguf_cuda, gguf], slot: qkv, atol: 1.0e-3")});
    const PvResult r = pv_run({c});
    EXPECT_EQ(r.code, 77) << r.out;
    EXPECT_NE(r.out.find("SKIPPED  G-1"), std::string::npos) << r.out;
    if (!cuda::built_with_cuda()) {
        EXPECT_NE(r.out.find("backend cuda: this build was not built with CUDA"), std::string::npos) << r.out;
    } else {
        EXPECT_TRUE(r.out.find("backend cuda: no CUDA device") != std::string::npos ||
                    r.out.find("backend cuda: CUDA module not found at ") != std::string::npos)
            << r.out;
    }
    EXPECT_NE(r.out.find("[unavailable here]"), std::string::npos);
}

TEST_F(PvRun, OnlyLabelAndList) {
    const auto c = contract("sel.yaml", {bound_test("S-CPU", kCount),
                                         bound_test("S-GPU", "finite, path: gguf_cuda"), unbound_test("S-UNB")});
    const PvResult only = pv_run({c, "--only", "S-CPU", "--format", "none"});
    EXPECT_EQ(only.code, 0);
    EXPECT_NE(only.out.find("1 tests, 1 evaluated"), std::string::npos) << only.out;
    EXPECT_EQ(only.out.find("reports:"), std::string::npos);  // --format none

    const PvResult list = pv_run({c, "--list"});
    EXPECT_EQ(list.code, 0);
    EXPECT_EQ(list.out, "S-CPU\t" + c + "\tcpu\t0\tbound\nS-GPU\t" + c + "\tgpu\t0\tbound\nS-UNB\t" + c + "\tcpu\t0\tunbound\n");

    const PvResult gpu = pv_run({c, "--label", "gpu", "--list"});
    EXPECT_EQ(gpu.out, "S-GPU\t" + c + "\tgpu\t0\tbound\n");
}

TEST_F(PvRun, SuiteLabelsTimeoutsAndDefaultContracts) {
    const auto c = contract("lab.yaml", {bound_test("L-1", kCount)});
    write_text(suite_, suite_text() + "labels: [all]\ntimeout: 9\ncontracts:\n  - {file: lab.yaml, labels: [smoke], timeout: 3}\n");
    const PvResult list = pv_run({"--list"});  // no CONTRACT: the suite's
    EXPECT_EQ(list.code, 0) << list.err;
    EXPECT_EQ(list.out, "L-1\t" + c + "\tall,smoke,cpu\t3\tbound\n");
}

TEST_F(PvRun, ReproLineRerunsTheTest) {
    const auto c = contract("repro.yaml", {bound_test("R-1", kCount), bound_test("R-2", kRatio)});
    const auto report = execute({c});
    ASSERT_EQ(report.results.size(), 2u);
    std::istringstream words(report.results[1].repro);
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    ASSERT_GE(args.size(), 3u);
    EXPECT_EQ(args[0], "pv");
    args.erase(args.begin());
    args.push_back("--format");
    args.push_back("none");
    const PvResult r = run_pv(args);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("PASS     R-2"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("R-1"), std::string::npos);
}

TEST_F(PvRun, OutputMatchesOnARealGeneration) {
    // What does the apr path generate? Ask the cache, then hold the runner to it.
    run::RunRequest req;
    req.suite_file = suite_.string();
    req.contracts = {contract("probe.yaml", {bound_test("P", kCount)})};
    const run::Plan plan = run::plan_run(req);
    run::PathCache cache(plan.suite);
    const auto& g = cache.generate("apr", cache.input("apr", {}), 6);
    ASSERT_EQ(g.tokens.size(), 6u);
    const auto& g2 = cache.generate("apr", cache.input("apr", {}), 6);
    EXPECT_EQ(&g, &g2);  // cached
    EXPECT_EQ(cache.stats().generations, 1u);
    ASSERT_FALSE(g.pieces.empty());
    // The first generated token's text, as a literal regex (escape everything but letters/digits).
    std::string literal;
    for (const unsigned char ch : g.pieces[0]) {
        if (std::isalnum(ch)) {
            literal += static_cast<char>(ch);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", ch);
            literal += buf;
        }
    }
    ASSERT_FALSE(g.eog_index == 0) << "the synthetic model stops at once: no text to match";
    const auto c = contract("out.yaml", {bound_test("O-MATCH", "output_matches, path: apr, n_tokens: 6, regex: \"^" + literal + "\""),
                                         bound_test("O-MISS", "output_matches, path: gguf, n_tokens: 6, regex: \"^ZZZ never\"")});
    const auto report = execute({c});
    ASSERT_EQ(report.results.size(), 2u);
    EXPECT_EQ(report.results[0].status, reports::Status::Pass) << report.results[0].message;
    EXPECT_EQ(report.results[1].status, reports::Status::Fail) << report.results[1].message;
    ASSERT_TRUE(report.results[1].first_failure);
    EXPECT_EQ(report.results[1].first_failure->slot, "output text");
}

TEST_F(PvRun, PromptIsTokenizedPerPath) {
    write_text(suite_, suite_text("prompt: \"What is 2+2?\""));
    const auto c = contract("prompt.yaml", {bound_test("P-1", kCount), bound_test("P-2", kTol),
                                            bound_test("P-3", "greedy_tokens_agree, paths: [apr, gguf], n_tokens: 3, prompt: \"Hello\"")});
    const auto report = execute({c});
    for (const auto& r : report.results) EXPECT_EQ(r.status, reports::Status::Pass) << r.id << ": " << r.message;
}

TEST(PvRunProject, EveryContractValidatesAgainstTheSuite) {
    // The project's contracts and ctest.cfg: pv run plans them without a single error, and every
    // falsification test is bound (upstream's `pv validate` gate by contract_valid).
    run::RunRequest req;
    req.suite_file = (std::filesystem::path(PARITY_SOURCE_DIR) / "ctest.cfg").string();
    req.contracts = {(std::filesystem::path(PARITY_SOURCE_DIR) / "contracts").string()};
    run::Plan plan;
    try {
        plan = run::plan_run(req);
    } catch (const run::RunInputError& e) {
        std::string all;
        for (const auto& m : e.messages()) all += m + "\n";
        FAIL() << all;
    }
    std::size_t unbound = 0;
    for (const auto& t : plan.tests) unbound += t.falsifier ? 0 : 1;
    EXPECT_GE(plan.tests.size(), 30u);
    EXPECT_EQ(unbound, 0u);
}

}  // namespace
}  // namespace parity::testing
