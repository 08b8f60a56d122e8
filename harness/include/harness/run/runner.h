#pragma once
// The contract runner behind `pv run` (docs/running.md).
//
//   1. plan_run: reads the suite config (and --path options), collects the contract files,
//      validates every contract (against the falsifier registry and the suite's path names) and
//      makes one PlannedTest per falsification test, filtered by --only / --label. Any problem
//      there is bad input: RunInputError, exit 2.
//   2. execute: runs the planned tests in order against one PathCache. The cache computes each
//      path's trace (per input and mode), logits and generations ONCE and shares them between
//      all tests that ask for the same thing. A path whose model file (or dump tree) is missing
//      makes its tests ERROR, unless the suite marks the model `optional: true`: then, as for a
//      cuda path without CUDA in the build, the CUDA module, its libraries or a device, they are
//      SKIPPED (the first cuda path loads the module).
//
// Statuses: PASS / FAIL from the falsifier, SKIPPED (path unavailable, missing reference),
// UNBOUND (no `harness:`), UNMEASURED (a path did not produce the data the test needs: from
// the falsifier, or falsifiers::NotMeasured), ERROR (the test could not run: an exception, a
// missing model file). The exit code is reports::exit_code: 0 all evaluated tests passed, 1 any
// FAIL or ERROR or UNMEASURED the suite does not allow, 77 nothing evaluated.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/runtime/forward.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "falsifiers/falsifier.h"
#include "harness/contract/contract.h"
#include "harness/run/suite.h"
#include "reports/result.h"

namespace parity::run {

/// Bad input found while planning (suite, --path, contracts, --only): every message, one line each.
class RunInputError : public std::runtime_error {
public:
    explicit RunInputError(std::vector<std::string> messages);
    const std::vector<std::string>& messages() const noexcept { return messages_; }

private:
    std::vector<std::string> messages_;
};

// ---------------------------------------------------------------------------------------------
// The shared evidence.

struct CacheStats {
    std::size_t models_loaded = 0;  ///< Model::load calls (one per model file)
    std::size_t sessions = 0;       ///< sessions created (one per path, more only to grow the KV cache)
    std::size_t traces = 0;         ///< traced forward passes (one per path, input and mode)
    std::size_t logits = 0;         ///< all-position logits passes (one per path and input)
    std::size_t generations = 0;    ///< greedy generations (one per path, prompt and length)
    std::size_t stage_dumps = 0;    ///< stage tensor passes or dump trees read (one per path and input)
};

/// Evidence over the suite's paths; computes everything lazily, once.
class PathCache final : public falsifiers::Evidence {
public:
    explicit PathCache(const SuiteConfig& suite);
    ~PathCache() override;

    /// Relative files named by bindings are taken from this contract's directory.
    void set_contract(const std::filesystem::path& contract_file);

    /// Why `path` cannot run here (model file missing, CUDA not built, CUDA module missing or
    /// not loadable, no device, unknown path), or nullopt when it can.
    std::optional<std::string> unavailable(const std::string& path) const;
    /// The error when `path` names a file that does not exist and is not optional (a model
    /// file, a dump tree): "SUITE:LINE:COL: path NAME: model file FILE not found (...)"; else
    /// nullopt. Such a path's tests are ERROR, not SKIPPED.
    std::optional<std::string> missing_file(const std::string& path) const;

    const ModelConfig& config(const std::string& path) override;
    std::vector<std::int32_t> input(const std::string& path, const falsifiers::InputRequest& request) override;
    const ForwardTrace& trace(const std::string& path, std::span<const std::int32_t> tokens,
                              std::optional<ForwardMode> mode = std::nullopt) override;
    const std::vector<float>& logits(const std::string& path, std::span<const std::int32_t> tokens) override;
    std::vector<float> logits_once(const std::string& path, std::span<const std::int32_t> tokens) override;
    std::optional<std::int32_t> bos_token(const std::string& path) override;
    const falsifiers::Generation& generate(const std::string& path, std::span<const std::int32_t> prompt,
                                           int n_new) override;
    std::filesystem::path resolve_file(const std::string& name) override;
    const StageDump& stages(const std::string& path, std::span<const std::int32_t> tokens) override;
    /// The validator's findings on the contract of set_contract(), loaded again from disk and
    /// checked as `pv run` checks it (the registry and the suite's path names).
    falsifiers::ContractFindings contract_findings() override;

    const CacheStats& stats() const noexcept { return stats_; }

private:
    struct PathState;
    PathState& state(const std::string& path);
    Session& session(PathState& st, std::size_t needed_context);

    const SuiteConfig& suite_;
    std::filesystem::path contract_file_;
    std::filesystem::path contract_dir_;
    std::map<std::string, std::shared_ptr<Model>> models_;  // by file
    std::map<std::string, std::unique_ptr<PathState>> paths_;
    CacheStats stats_;
};

// ---------------------------------------------------------------------------------------------
// Planning and running.

struct RunRequest {
    std::vector<std::string> contracts;     ///< files or directories; empty: the suite's contracts
    std::optional<std::string> suite_file;  ///< --suite
    std::vector<std::string> path_options;  ///< --path, in order
    std::vector<std::string> only;          ///< --only test ids
    std::vector<std::string> labels;       ///< --label: run tests carrying any of these
};

struct PlannedTest {
    std::string contract;  ///< the contract file, as collected
    const contract::FalsificationTest* test = nullptr;
    std::shared_ptr<falsifiers::Falsifier> falsifier;  ///< null when unbound
    std::vector<std::string> labels;
    double timeout = 0.0;  ///< seconds (0: none given)
    bool allow_unmeasured = false;  ///< the suite's contract entry allows this test to be UNMEASURED
    std::string repro;     ///< one shell line that reruns exactly this test
};

struct Plan {
    SuiteConfig suite;
    std::vector<std::unique_ptr<contract::Contract>> contracts;
    std::vector<PlannedTest> tests;
    std::size_t warnings = 0;  ///< validator warnings over all contracts (not printed by pv run)
};

/// Reads, validates and selects. Throws RunInputError for any bad input.
Plan plan_run(const RunRequest& request);

/// Runs every planned test against `cache` (which must be over plan.suite) and returns the
/// report (command, start time and duration filled in).
reports::RunReport execute(const Plan& plan, PathCache& cache, const std::string& command_line);

/// Quotes a word for a POSIX shell when it needs it.
std::string shell_quote(const std::string& word);

}  // namespace parity::run
