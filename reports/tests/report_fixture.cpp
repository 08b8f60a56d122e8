// The RunReport every writer test renders: one test of each status (PASS, FAIL, ERROR,
// SKIPPED, UNBOUND) over two contracts, plus a FAIL whose every text field is hostile.
// Each test file declares the functions it uses (tests have no headers of their own).

#include <cmath>
#include <limits>
#include <string>

#include "reports/result.h"

namespace parity::reports::testing {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Rows of a stat_ratio_band test over `layers` layers, all inside [0.5, 2].
std::vector<LayerMetric> ratio_rows(int layers) {
    std::vector<LayerMetric> rows;
    for (int i = 0; i < layers; ++i) {
        rows.push_back({i, "ffn_swiglu_inner", 1.0 + 0.01 * i, 0.5, 2.0, true});
    }
    return rows;
}
}  // namespace

/// Control characters, quotes, markup, "]]>", invalid UTF-8 (a stray 0xFF, a truncated
/// sequence, an encoded surrogate, an overlong '/'), U+FFFE, an emoji, a NUL, pipes, backticks.
std::string hostile_text() {
    std::string s = "a<b>&c \"dq\" 'sq' ]]> x]]]]>y \x01\x08\x0b\x0c\x1f|t\tn\nr\r|";
    s += std::string("nul:") + '\0' + ":";
    s += " ff:\xff tr:\xe2\x82 sur:\xed\xa0\x80 ovl:\xc0\xaf fffe:\xef\xbf\xbe";
    s += " emoji:\xf0\x9f\x98\x80 e-acute:\xc3\xa9 ```code``` *b* _u_ #h [l](x) <script>alert(1)</script> "
         "&amp;";
    return s;
}

RunReport sample_report() {
    RunReport report;
    report.tool = "pv";
    report.tool_version = "0.1.0";
    report.started_at = "2026-11-26T06:30:00Z";
    report.seconds = 12.5;
    report.command = "pv run contracts/ --suite ctest.cfg";
    report.build.version = "0.1.0";
    report.build.commit = "a800b23";
    report.build.build_type = "Release";
    report.build.compiler = "GNU 12.2.0";
    report.build.cpu_features = {"AVX", "AVX2", "FMA", "F16C"};
    report.build.cuda_built = true;
    report.build.cuda_devices = {"NVIDIA H200 (sm_90)"};

    TestResult pass;
    pass.id = "FALSIFY-A-001";
    pass.contract = "contracts/a.yaml";
    pass.rule = "per-layer ffn_swiglu_inner std ratio stays in band";
    pass.prediction = "for every layer i, std(APR)/std(GGUF) in [0.5, 2.0]";
    pass.if_fails = "divergence localized to the FFN gate path";
    pass.falsifier = "stat_ratio_band";
    pass.paths = {"apr", "gguf"};
    pass.labels = {"smoke", "cpu"};
    pass.status = Status::Pass;
    pass.message = "all 28 layers inside [0.5, 2]";
    pass.metrics = {{"max_ratio", 1.27}, {"min_ratio", 1.0}};
    pass.metric_name = "std_dev ratio";
    pass.per_layer = ratio_rows(28);
    pass.repro = "pv run contracts/a.yaml --only FALSIFY-A-001";
    pass.seconds = 0.25;

    TestResult fail = pass;
    fail.id = "FALSIFY-A-002";
    fail.status = Status::Fail;
    fail.message = "3 of 28 layers outside [0.5, 2]";
    fail.metrics = {
        {"max_ratio", 2.31}, {"sum", 0.1 + 0.2}, {"tiny", 5e-324}, {"huge", 1.7976931348623157e308},
        {"neg_zero", -0.0},  {"nan", kNaN},      {"inf", kInf},    {"ninf", -kInf}};
    fail.per_layer[3].value = 2.31;
    fail.per_layer[3].pass = false;
    fail.per_layer[5].value = kNaN;
    fail.per_layer[5].pass = false;
    fail.per_layer[7].value = kInf;
    fail.per_layer[7].pass = false;
    fail.per_layer[9].lo = std::nullopt;  // only an upper bound
    fail.per_layer[10].hi = kInf;         // an infinite bound
    fail.per_layer.push_back({-1, "logits", 0.1 + 0.7, std::nullopt, std::nullopt, true});
    fail.first_failure = Divergence{3, "ffn_swiglu_inner", "std ratio 2.31 outside [0.5, 2]"};
    fail.repro = "pv run contracts/a.yaml --only FALSIFY-A-002";
    fail.seconds = 0.5;

    TestResult error;
    error.id = "FALSIFY-A-003";
    error.contract = "contracts/a.yaml";
    error.falsifier = "logits_agreement";
    error.paths = {"apr", "gguf"};
    error.status = Status::Error;
    error.message = "models/q.gguf: at byte 24: tensor count exceeds file size";
    error.repro = "pv run contracts/a.yaml --only FALSIFY-A-003";

    TestResult skipped;
    skipped.id = "FALSIFY-B-001";
    skipped.contract = "./contracts/b.yml";
    skipped.falsifier = "slot_tolerance";
    skipped.paths = {"gguf", "gguf_cuda"};
    skipped.labels = {"gpu"};
    skipped.status = Status::Skipped;
    skipped.message = "no CUDA device";
    skipped.repro = "pv run contracts/b.yml --only FALSIFY-B-001";

    TestResult unbound;
    unbound.id = "FALSIFY-B-002";
    unbound.contract = "./contracts/b.yml";
    unbound.rule = "tokenizer round-trips";
    unbound.status = Status::Unbound;
    unbound.message = "no harness: mapping";

    TestResult hostile;
    hostile.id = "FALSIFY-H-001 " + hostile_text();
    hostile.contract = "contracts/a.yaml";
    hostile.rule = hostile_text();
    hostile.prediction = hostile_text();
    hostile.if_fails = hostile_text();
    hostile.falsifier = "stat_ratio_band";
    hostile.paths = {hostile_text()};
    hostile.labels = {hostile_text()};
    hostile.status = Status::Fail;
    hostile.message = hostile_text();
    hostile.metrics = {{hostile_text(), 3.0}};
    hostile.metric_name = hostile_text();
    hostile.per_layer = {{0, hostile_text(), 0.25, 0.5, 2.0, false}, {1, "ffn_out", 1.0, 0.5, 2.0, true}};
    hostile.repro = "pv run --only '" + hostile_text() + "'";
    hostile.seconds = kNaN;

    report.results = {pass, fail, error, skipped, unbound, hostile};
    return report;
}

/// `tests` PASS/FAIL tests over `layers` layers each, with realistic text (the size check).
RunReport large_report(int tests, int layers) {
    RunReport report = sample_report();
    const TestResult pass = report.results[0];
    report.results.clear();
    for (int t = 0; t < tests; ++t) {
        TestResult r = pass;
        r.id = "FALSIFY-APR-GGUF-PARITY-" + std::to_string(100 + t);
        r.per_layer = ratio_rows(layers);
        if (t % 5 == 4) {
            r.status = Status::Fail;
            r.per_layer[static_cast<std::size_t>(layers / 2)].value = 18.0;
            r.per_layer[static_cast<std::size_t>(layers / 2)].pass = false;
            r.first_failure = Divergence{layers / 2, "ffn_swiglu_inner", "std ratio 18 outside [0.5, 2]"};
        }
        report.results.push_back(r);
    }
    return report;
}

}  // namespace parity::reports::testing
