#pragma once
// The suite configuration (`ctest.cfg`, YAML): the input prompt or token ids, the models, the
// named paths (model + backend + mode + matmul ...) that contracts compare, and per contract
// its labels and timeout. docs/running.md describes the format; in short:
//
//   prompt: "What is 2+2?"                # or  tokens: [3838, 374, 220, 17, 10, 17, 30]
//                                         # or  prompt_file: corpus.txt (a long prompt's text)
//   labels: []                            # labels of every test (optional)
//   timeout: 300                          # seconds per CTest test (optional)
//   models:                               # names for model files (optional)
//     tiny_f32_apr: ${PARITY_MODELS_DIR:-build/release/models}/synth-qwen2-tiny-F32.apr
//     ref_f32: {file: ${PARITY_FIXTURES_DIR:-../shared/fixtures}/ref-F32.gguf, optional: true}
//   paths:
//     apr:  {model: tiny_f32_apr, backend: cpu, mode: full_sequence, matmul: dequant}
//     gguf: {model: tiny_q4km, backend: cpu, mode: incremental, matmul: ggml}
//   contracts:                            # what `pv run --suite` runs without CONTRACT args
//     - {file: contracts/apr-vs-gguf-forward-parity-v1.yaml, labels: [smoke], timeout: 120}
//     - {file: contracts/per-op-parity-v1.yaml, allow_unmeasured: [FALSIFY-PER-OP-003]}  # or true
//
// A model file that does not exist makes the tests reading it ERROR (a typo never turns a job
// green), unless the model is marked `optional: true`: then they are SKIPPED. A contract entry's
// `allow_unmeasured` (true: every test of the contract; or a list of test ids) lets those tests
// be UNMEASURED without failing the run (never as a pass).
//
// ${NAME} and ${NAME:-default} expand from the environment in model files, path models and
// contract files; a relative file is taken from the suite file's directory. Unknown keys, wrong
// types and unknown enum values are errors naming FILE:LINE:COLUMN (a typo never falls back to
// a default), and so is YAML beyond the limits of harness/contract/yaml_limits.h (too deep, an
// alias bomb).
//
// Path fields: model (required: a `models` name or a file), backend (cpu | cuda; default cpu),
// mode (full_sequence | incremental; default full_sequence), matmul (dequant | ggml; default
// ggml), kv_type (f32 | f16; default f32), threads (default 0: all), inject (fault injection:
// "LAYER:SLOT:scale=F" or a list of them — multiplies one slot's output in one layer; used to
// prove that the checks can fail).
//
// A path may instead be an external engine's stage tensor dumps: `ext: {dumps: DIR}` (an APRT
// tree, either layout, docs/dumps.md). It has no model: only falsifiers that read stage tensors
// (per_op) can use it, and it is fed the suite's `tokens:` (it cannot encode a prompt).
//
// `pv run --path NAME=key=value,key=value...` adds a path, or overrides fields of a suite path
// (inject= may repeat and adds to the path's faults).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/forward.h"
#include "engine/trace/trace.h"

namespace parity::run {

/// A malformed suite config, --path option or variable reference. what(): "WHERE: CAUSE".
class SuiteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Multiply the output of `slot` in layer `layer` by `scale` (engine fault injection).
struct FaultSpec {
    int layer = 0;
    TraceSlot slot = TraceSlot::AttnNorm;
    float scale = 1.0f;
};

/// "2:ffn_gate:scale=1.5" -> FaultSpec. Throws SuiteError (prefixed with `where`).
FaultSpec parse_fault(std::string_view text, const std::string& where);
/// "2:ffn_gate:scale=1.5".
std::string to_string(const FaultSpec& f);

struct PathSpec {
    std::string name;
    std::string model;  ///< the model file (variables expanded, relative to the suite's directory)
    std::string dumps;  ///< instead of a model: an APRT dump tree directory (same expansion)
    BackendKind backend = BackendKind::Cpu;
    ForwardMode mode = ForwardMode::FullSequence;
    MatmulPolicy matmul = MatmulPolicy::Ggml;
    KvType kv_type = KvType::F32;
    int threads = 0;
    std::vector<FaultSpec> faults;
    std::string origin;  ///< "ctest.cfg:12:3" or "--path"
    /// The --path option that set `backend`, when one did (an explicit backend must run: plan_run
    /// refuses backend cuda there when it cannot, rather than skipping the path).
    std::string backend_option;
    /// The model is a `models:` entry marked `optional: true`: when its file is absent, the
    /// path's tests are SKIPPED (else they are an ERROR).
    bool optional = false;
};

/// "model=FILE,backend=cpu,mode=incremental,matmul=ggml,kv_type=f32[,threads=N][,inject=...]".
std::string describe(const PathSpec& p);

struct ContractEntry {
    std::string file;  ///< variables expanded, relative to the suite's directory
    std::vector<std::string> labels;
    std::optional<double> timeout;
    std::string origin;
    bool allow_unmeasured_all = false;          ///< `allow_unmeasured: true`
    std::vector<std::string> allow_unmeasured;  ///< `allow_unmeasured: [ID, ...]`
    /// True when the entry lets test `id` be UNMEASURED without failing the run.
    bool allows_unmeasured(std::string_view id) const noexcept;
};

struct SuiteConfig {
    std::string file;  ///< the suite file as given; empty when there is none
    std::optional<std::string> prompt;  ///< `prompt:` or the text of `prompt_file:`
    std::optional<std::vector<std::int32_t>> tokens;
    std::vector<std::string> labels;  ///< labels of every test
    double timeout = 0.0;             ///< default CTest timeout in seconds (0: CTest's default)
    std::vector<std::pair<std::string, std::string>> models;  ///< name -> file
    std::vector<std::string> optional_models;  ///< names of the models marked `optional: true`
    std::vector<PathSpec> paths;
    std::vector<ContractEntry> contracts;

    const PathSpec* find_path(std::string_view name) const noexcept;
    std::vector<std::string> path_names() const;
};

/// Expands ${NAME} and ${NAME:-default} from the environment. An unset variable without a
/// default, or a malformed reference, throws SuiteError naming `where`.
std::string expand_variables(std::string_view text, const std::string& where);

/// Reads a suite file. Throws SuiteError (also for an unreadable file or a YAML syntax error).
SuiteConfig load_suite(const std::filesystem::path& file);

/// Parses suite text; relative files are taken from `base_dir`.
SuiteConfig parse_suite(std::string_view text, const std::string& file_name, const std::filesystem::path& base_dir);

/// Applies one `--path NAME=key=value,...` option: overrides fields of the suite path NAME, or
/// adds a new path (then `model` is required). Relative model files are taken from the current
/// directory. Throws SuiteError.
void apply_path_option(SuiteConfig& suite, std::string_view option);

}  // namespace parity::run
