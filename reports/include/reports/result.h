#pragma once
// The result model every report writer reads: one TestResult per falsification test, one
// RunReport per `pv run`. Falsifiers fill it; writers (JSON, JUnit XML, Markdown, HTML) only
// render it. Nothing here knows about models or YAML.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/build_info.h"
#include "reports/status.h"

namespace parity::reports {

/// One row of a per-layer table: the metric a falsifier computed for one layer (and slot),
/// and the bounds it was held to. Bounds that do not apply are nullopt.
struct LayerMetric {
    int layer = 0;             ///< 0-based layer index; -1 for model-level rows (embed, logits)
    std::string slot;          ///< "ffn_swiglu_inner", "logits", ...
    double value = 0.0;        ///< the metric (ratio, max |Δ|, count, ...); may be NaN or ±inf
    std::optional<double> lo;  ///< lower bound (inclusive)
    std::optional<double> hi;  ///< upper bound (inclusive)
    bool pass = true;
    /// More numbers of the row, in display order (per_op: max_abs, worst_position, positions).
    std::vector<std::pair<std::string, double>> details = {};
};

/// Where two paths first part ways: the first failing (layer, slot) in trace order.
struct Divergence {
    int layer = 0;
    std::string slot;
    std::string detail;  ///< one line: "std ratio 2.31 outside [0.5, 2]"
};

struct TestResult {
    std::string id;          ///< FALSIFY-APR-GGUF-PARITY-001
    std::string contract;    ///< the contract file, as given on the command line
    std::string rule;        ///< the test's rule text
    std::string prediction;  ///< the test's prediction text
    std::string if_fails;    ///< what a failure means, from the contract
    std::string falsifier;   ///< registry name; empty when unbound
    std::vector<std::string> paths;   ///< the suite paths it compared ("apr", "gguf")
    std::vector<std::string> labels;  ///< "smoke", "cpu", "gpu", "nightly"
    Status status = Status::Unbound;
    /// The suite allows this test to be UNMEASURED (`allow_unmeasured`): then that status does
    /// not make the exit code 1. It never makes UNMEASURED a pass.
    bool allow_unmeasured = false;
    std::string message;     ///< one line saying why this status
    /// Summary metrics in display order: {"max_ratio", 1.07}, {"cosine", 0.9999}, ...
    std::vector<std::pair<std::string, double>> metrics;
    std::string metric_name;           ///< what `per_layer[].value` is ("std_dev ratio")
    std::vector<LayerMetric> per_layer;
    std::optional<Divergence> first_failure;
    /// Lines beside the table, e.g. per_op's stages present on one side only ("not compared: ...").
    std::vector<std::string> notes;
    std::string repro;       ///< one shell line that reruns exactly this test
    double seconds = 0.0;    ///< wall time of the test itself
};

/// How many results of each status.
struct Summary {
    std::size_t total = 0;
    std::size_t passed = 0;
    std::size_t failed = 0;
    std::size_t errors = 0;
    std::size_t skipped = 0;
    std::size_t unbound = 0;
    std::size_t unmeasured = 0;          ///< UNMEASURED, allowed or not
    std::size_t unmeasured_allowed = 0;  ///< of those, the ones the suite allows
    /// Tests that produced a verdict (PASS or FAIL).
    std::size_t evaluated() const noexcept { return passed + failed; }
};

/// The summary line every text report prints: "5 tests, 2 evaluated: 1 passed, 1 failed,
/// 0 errors, 1 skipped, 1 unbound, 1 unmeasured" (then " (1 allowed)" when the suite allows
/// some of the unmeasured ones).
std::string describe_summary(const Summary& summary);

struct RunReport {
    std::string tool = "pv";
    std::string tool_version;  ///< project version
    std::string started_at;    ///< ISO 8601 UTC, "2026-11-26T06:30:00Z"
    double seconds = 0.0;      ///< wall time of the whole run
    std::string command;       ///< the pv command line of the run
    BuildInfo build;           ///< the build of pv that ran it
    std::vector<TestResult> results;

    Summary summary() const;
};

/// `pv run`'s exit code for a report: 1 when any test FAILed or ERRORed, or was UNMEASURED
/// without the suite allowing it; 77 when nothing passed because everything was skipped,
/// unbound or (allowed) unmeasured; 0 when at least one test passed and none failed. (2, bad
/// usage or input, is decided before a report exists.)
int exit_code(const RunReport& report) noexcept;

}  // namespace parity::reports
