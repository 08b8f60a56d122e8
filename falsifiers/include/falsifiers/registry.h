#pragma once
// The falsifier registry: every falsifier kind by name, with the schema of the parameters a
// contract's `harness:` block gives it, and the check that turns such a block into typed,
// defaulted parameters (or into issues that name the parameter and its line:column).
//
// The registry knows nothing of YAML: a `harness:` block reaches it as a ParamNode tree, which
// the contract loader builds from the YAML document (keeping every node's place in the file).
//
// Implementations attach later, by the same name (Registry::attach); the schema is here now so
// that `pv validate` can check bindings before any falsifier runs.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parity::falsifiers {

/// A place in a source file: 1-based line and column; 0 when unknown.
struct SourcePos {
    int line = 0;
    int column = 0;
    bool known() const noexcept { return line > 0; }
};

struct ParamMember;

/// A parameter value as written (a YAML-shaped tree, independent of any YAML library).
struct ParamNode {
    enum class Kind { Null, Scalar, Sequence, Mapping };
    Kind kind = Kind::Null;
    std::string text;      ///< Scalar: the text as written (without quotes).
    bool quoted = false;   ///< Scalar: written in quotes (so "4" is text, never a number).
    SourcePos pos;         ///< Where the value starts.
    std::vector<ParamNode> items;      ///< Sequence items.
    std::vector<ParamMember> members;  ///< Mapping members, in file order.

    static ParamNode scalar(std::string text, SourcePos pos = {}, bool quoted = false);
    static ParamNode sequence(std::vector<ParamNode> items, SourcePos pos = {});
    static ParamNode mapping(std::vector<ParamMember> members, SourcePos pos = {});
    /// The member named `key`, or nullptr (Mapping only).
    const ParamNode* find(std::string_view key) const;
};

struct ParamMember {
    std::string key;
    SourcePos key_pos;
    ParamNode value;
};

// ---------------------------------------------------------------------------------------------
// Vocabulary shared by the falsifiers (the trace model of DESIGN.md).

/// The ten per-layer activation slots, in trace order.
std::span<const std::string_view> layer_slot_names();
/// The model-level slots: embed, final_norm, logits.
std::span<const std::string_view> model_slot_names();
/// Upstream's 19 APRT stage names in forward order (engine/trace/aprt.h), for per_op's `stages`.
std::span<const std::string_view> stage_names();
/// The ActivationStats fields: count, min, max, mean, std_dev, nan_count, inf_count, zero_count.
std::span<const std::string_view> stat_names();
/// The samples a statistic can cover: last_token, full.
std::span<const std::string_view> sample_names();
/// True for a well-formed suite path name: a letter or '_', then letters, digits, '_' or '-'.
bool is_path_name(std::string_view name);
/// The candidate closest to `name` when it is a likely typo of it (a few edits away, or one a
/// prefix of the other), else empty. Used for "did you mean" hints.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// ---------------------------------------------------------------------------------------------
// Parameter schema.

enum class ParamKind {
    String,     ///< any scalar text
    Regex,      ///< an ECMAScript regular expression that compiles
    File,       ///< a file name (resolved and opened when the falsifier runs, not when validating)
    Number,     ///< a finite number, optionally within [min, max]
    Int,        ///< an integer, optionally within [min, max]
    Bool,       ///< true or false
    Choice,     ///< one of `choices`
    Path,       ///< one suite path name (defined by the suite config)
    PathList,   ///< a list of distinct path names, min_items..max_items long
    Slot,       ///< one slot name (layer or model-level)
    SlotList,   ///< `all` or a list of distinct slot names
    Stat,       ///< one ActivationStats field
    Band,       ///< [lo, hi]: two finite numbers with lo <= hi
    Layers,     ///< `all`, one layer index, or a list of distinct layer indices (>= 0)
    Positions,  ///< `last`, `all`, or a list of distinct token positions (>= 0)
    IntList,    ///< a non-empty list of integers >= 0 (token ids)
    StageList,  ///< `all` or a list of distinct APRT stage names (engine/trace/aprt.h)
};

/// Human-readable type, as the docs and messages say it ("number", "list of 2 path names", ...).
std::string describe_kind(ParamKind kind);

struct ParamSpec {
    std::string name;
    ParamKind kind = ParamKind::String;
    bool required = false;
    /// Default as it would be written in YAML ("all", "last_token", "1e-9"); empty: no default.
    std::string default_text;
    std::string description;
    std::optional<double> min;  ///< Number/Int: lower bound
    bool min_exclusive = false;
    std::optional<double> max;  ///< Number/Int: upper bound (inclusive)
    std::vector<std::string> choices;  ///< Choice: the allowed values
    std::size_t min_items = 1;         ///< PathList
    std::size_t max_items = 0;         ///< PathList: 0 = unbounded

    /// "list of 2 path names", "number >= 0", "one of last_token, full", ...
    std::string type_text() const;
};

/// A rule that ties several parameters together.
struct Constraint {
    enum class Kind {
        ExactlyOne,  ///< exactly one of `params` must be given
        AtLeastOne,  ///< at least one of `params` must be given
        AtMostOne,   ///< at most one of `params` may be given
        Together,    ///< all of `params` or none
        NotGreater,  ///< params[0] <= params[1] (both numeric), checked when both are given
    };
    Kind kind;
    std::vector<std::string> params;
};

struct FalsifierSpec {
    std::string name;
    std::string summary;
    std::vector<ParamSpec> params;
    std::vector<Constraint> constraints;

    const ParamSpec* param(std::string_view param_name) const;
};

// ---------------------------------------------------------------------------------------------
// Checked parameters.

/// One parameter after checking, typed by its spec's kind; `from_default` when not written.
struct ParamValue {
    ParamKind kind = ParamKind::String;
    bool from_default = false;
    SourcePos pos;
    std::string text;                  ///< String, Regex, File, Choice, Path, Slot, Stat
    double number = 0.0;               ///< Number
    std::int64_t integer = 0;          ///< Int
    bool boolean = false;              ///< Bool
    double lo = 0.0, hi = 0.0;         ///< Band
    bool all = false;                  ///< SlotList/Layers/Positions: `all`
    bool last = false;                 ///< Positions: `last`
    std::vector<std::string> names;    ///< PathList, SlotList, StageList (expanded when `all`)
    std::vector<std::int64_t> indices; ///< Layers, Positions, IntList
};

/// The checked parameters of one binding: every given or defaulted parameter by name.
class BoundParams {
public:
    const std::string& falsifier() const noexcept { return falsifier_; }
    bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
    const ParamValue* find(std::string_view name) const noexcept;
    /// The parameter `name`; throws std::out_of_range when it is neither given nor defaulted.
    const ParamValue& at(std::string_view name) const;
    const std::vector<std::pair<std::string, ParamValue>>& all() const noexcept { return values_; }

private:
    friend class Registry;
    std::string falsifier_;
    std::vector<std::pair<std::string, ParamValue>> values_;
};

enum class IssueCode {
    NotAMapping,         ///< the harness block is not a mapping, or `falsifier` is missing
    UnknownFalsifier,    ///< `falsifier` names no registered falsifier
    MissingParameter,    ///< a required parameter (or one of a required group) is absent
    InvalidValue,        ///< wrong type or out of range
    UnknownParameter,    ///< a key the falsifier does not take
    UnknownSlot,         ///< a slot name that does not exist
    UnknownStat,         ///< a stat name that does not exist
    UnknownChoice,       ///< a value outside a Choice parameter's choices
    BadPathName,         ///< not a path name, or not among the suite's paths
    Conflict,            ///< parameters that exclude each other, or an inconsistent pair
};

/// One problem with a binding; `pos` points at the offending key or value (or the block).
struct Issue {
    IssueCode code;
    std::string param;  ///< the parameter concerned; empty for the block itself
    std::string message;
    SourcePos pos;
};

struct CheckOptions {
    /// The suite's path names; when set, every path parameter must be one of them.
    std::optional<std::vector<std::string>> known_paths;
};

struct CheckResult {
    std::vector<Issue> issues;
    BoundParams params;  ///< complete only when issues is empty
    bool ok() const noexcept { return issues.empty(); }
};

// ---------------------------------------------------------------------------------------------

class Falsifier;  // the runtime interface, defined with the implementations
/// Makes a falsifier from checked parameters. shared_ptr (not unique_ptr) so that this header
/// needs no complete Falsifier type: the deleter is captured where the object is made.
using FalsifierFactory = std::function<std::shared_ptr<Falsifier>(const BoundParams&)>;

/// Every falsifier kind by name. `builtin()` holds the nine kinds of DESIGN.md.
class Registry {
public:
    /// The process-wide registry with the built-in schemas (implementations attach to it).
    static Registry& builtin();

    /// A registry with the built-in schemas and no implementations (for tests).
    static Registry with_builtin_specs();

    const std::vector<FalsifierSpec>& specs() const noexcept { return specs_; }
    const FalsifierSpec* find(std::string_view name) const noexcept;
    /// The registered name closest to `name` (for "did you mean"), or empty when none is close.
    std::string closest(std::string_view name) const;

    /// Checks a whole `harness:` block (a Mapping with `falsifier:` and the parameters).
    CheckResult check(const ParamNode& block, const CheckOptions& options = {}) const;
    /// Checks `params` (a Mapping; a `falsifier` key in it is ignored) against one spec.
    CheckResult check(const FalsifierSpec& spec, const ParamNode& params, const CheckOptions& options = {}) const;

    /// Attaches the implementation of a registered falsifier; throws std::invalid_argument
    /// when `name` is not registered.
    void attach(std::string_view name, FalsifierFactory factory);
    /// The attached implementation, or nullptr when none is attached yet.
    const FalsifierFactory* factory(std::string_view name) const noexcept;

private:
    std::vector<FalsifierSpec> specs_;
    std::vector<FalsifierFactory> factories_;  // parallel to specs_
};

}  // namespace parity::falsifiers
