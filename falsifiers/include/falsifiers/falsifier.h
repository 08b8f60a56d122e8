#pragma once
// The runtime side of the falsifiers: what a falsifier reads (Evidence, supplied by the runner)
// and what it is (Falsifier, made from a checked `harness:` binding by the factory attached to
// the registry under its name). docs/running.md describes every falsifier's verdict and table.
//
// A falsifier never loads models or runs forward passes itself: it asks the Evidence for the
// trace, logits or generation of a named suite path, and the runner computes each of those once
// per path and shares it between all tests that ask for the same thing (docs/running.md,
// "Sharing"). So falsifiers can be tested on hand-built traces, and a suite of many tests over
// one pair of paths costs one forward pass per path.
//
// Verdicts a falsifier returns (reports::TestResult):
//   status         PASS or FAIL; SKIPPED when something it needs is absent here (a reference
//                  file); UNMEASURED when a path did not produce the data it needs (per_op
//                  with every stage on one side only); ERROR is set by the runner when run()
//                  throws.
//   message        one line saying why.
//   metrics        summary numbers (worst ratio, cosine, ...), in display order.
//   per_layer      one row per compared (layer, slot) with its metric and bounds; model-level
//                  rows (embed, final_norm, logits, generated tokens) have layer -1.
//   first_failure  for a FAIL: the first failing layer and slot in trace order
//                  (embed, layer 0 attn_norm ... output, layer 1 ..., final_norm, logits).
//   paths          the suite paths it read.
// The runner adds the test's id, texts, labels, the repro line and the time.
//
// Exceptions from Evidence: PathUnavailable (a path that cannot run here: an optional model
// file missing, CUDA not built or no device) makes the test SKIPPED; NotMeasured (the path
// cannot produce what was asked: a dump tree asked for trace statistics) makes it UNMEASURED;
// anything else makes it ERROR.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/runtime/forward.h"
#include "engine/model/model_file.h"
#include "engine/trace/stage_dump.h"
#include "engine/trace/trace.h"
#include "falsifiers/registry.h"
#include "reports/result.h"

namespace parity::falsifiers {

/// A path that cannot run on this machine; what() is the reason (the test is SKIPPED).
class PathUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A path that ran (or was read) but does not hold the data a test needs, e.g. the trace
/// statistics of an external dump tree that holds only stage tensors; what() says what is
/// missing where (the test is UNMEASURED, never a pass).
class NotMeasured : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What the contract validator (`pv validate`) says of the contract a test comes from.
struct ContractFindings {
    std::string file;                   ///< the contract file, as the runner loaded it
    std::vector<std::string> errors;    ///< one line each: "[ERROR] SCHEMA-008: FILE:LINE:COL: message"
    std::vector<std::string> warnings;  ///< one line each: "[WARN] ..."
};

/// Which input a test feeds a path: the suite's input (prompt or token ids) unless the binding
/// gives `prompt` (encoded by the path's tokenizer) or `tokens`.
struct InputRequest {
    std::optional<std::string> prompt;
    std::optional<std::vector<std::int32_t>> tokens;
};

/// Greedy generation after a prompt, n_new tokens, never stopping early (so paths compare
/// token for token); `text` is what a user would see: the tokens before the first
/// end-of-generation token, decoded.
struct Generation {
    std::vector<std::int32_t> tokens;  ///< the generated ids
    std::vector<std::string> pieces;   ///< each id's text (empty strings without a tokenizer)
    std::string text;                  ///< decoded tokens before the first end-of-generation token
    int eog_index = -1;                ///< index in `tokens` of the first end-of-generation token; -1: none
};

/// What falsifiers read, by suite path name. Implemented by the runner (one cache per run) and
/// by tests (hand-built traces). Results stay valid for the Evidence's lifetime.
class Evidence {
public:
    virtual ~Evidence() = default;

    /// The path's model hyper-parameters.
    virtual const ModelConfig& config(const std::string& path) = 0;
    /// The input ids a test feeds `path` (see InputRequest).
    virtual std::vector<std::int32_t> input(const std::string& path, const InputRequest& request) = 0;
    /// The trace of `tokens` on `path`, in the path's own mode or in `mode` when given, with each
    /// slot's last-token values kept (LayerActivation::last_token_values) and the last
    /// position's logits.
    virtual const ForwardTrace& trace(const std::string& path, std::span<const std::int32_t> tokens,
                                      std::optional<ForwardMode> mode = std::nullopt) = 0;
    /// The logits of every position of `tokens` on `path` in its own mode, [n_tokens, n_vocab].
    virtual const std::vector<float>& logits(const std::string& path, std::span<const std::int32_t> tokens) = 0;
    /// The same as logits(), computed for this call and not kept (kl_divergence reads each chunk
    /// of a corpus once; keeping them all would hold n_tokens × n_vocab floats). The default
    /// copies logits().
    virtual std::vector<float> logits_once(const std::string& path, std::span<const std::int32_t> tokens);
    /// The BOS id that `path`'s tokenizer puts before a text (its add_bos flag), or nullopt when
    /// it adds none or the path has no tokenizer. The default: nullopt.
    virtual std::optional<std::int32_t> bos_token(const std::string& path);
    /// Greedy generation of n_new tokens after `prompt` on `path`.
    virtual const Generation& generate(const std::string& path, std::span<const std::int32_t> prompt, int n_new) = 0;
    /// A file a binding names: ${VAR} / ${VAR:-default} expanded from the environment, a
    /// relative name taken from the contract's directory. The file may not exist.
    virtual std::filesystem::path resolve_file(const std::string& name) = 0;
    /// The stage tensors of every position of `tokens` on `path` (engine/trace/stage_dump.h):
    /// an engine path's from its forward in its own mode, a `dumps:` path's read from its tree
    /// (an error when the tree does not hold tokens.size() positions). The default throws
    /// std::runtime_error: evidence without stage tensors.
    virtual const StageDump& stages(const std::string& path, std::span<const std::int32_t> tokens);
    /// The validator's findings on the running test's contract file, read from disk again (the
    /// runner owns the validator; falsifiers cannot depend on it). The default throws
    /// std::runtime_error: evidence without a contract.
    virtual ContractFindings contract_findings();
};

/// One bound falsification test, ready to run.
class Falsifier {
public:
    explicit Falsifier(BoundParams params) : params_(std::move(params)) {}
    virtual ~Falsifier() = default;
    Falsifier(const Falsifier&) = delete;
    Falsifier& operator=(const Falsifier&) = delete;

    const BoundParams& params() const noexcept { return params_; }
    const std::string& name() const noexcept { return params_.falsifier(); }
    /// The suite paths the binding names (`path`, then `paths`, in the binding's order, then
    /// `arbiter`).
    std::vector<std::string> paths() const;

    /// Runs the test (see the header comment for what it fills in). May throw PathUnavailable
    /// or any other std::exception; the runner maps them to SKIPPED and ERROR.
    virtual reports::TestResult run(Evidence& evidence) const = 0;

private:
    BoundParams params_;
};

/// Attaches the built-in implementations to `registry` by name.
void attach_builtin_falsifiers(Registry& registry);

/// Registry::builtin() with the implementations attached (done once, thread-safe).
Registry& runtime_registry();

/// The falsifier of a checked binding, from the factory attached under params.falsifier().
/// Throws std::invalid_argument when no implementation is attached under that name.
std::shared_ptr<Falsifier> make_falsifier(const Registry& registry, const BoundParams& params);

}  // namespace parity::falsifiers
