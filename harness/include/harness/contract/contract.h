#pragma once
// The contract model: one YAML falsification contract in the provable-contracts schema (the
// newest one, as aprender's `pv` reads it), plus our `harness:` extension that binds a
// falsification test to a falsifier. docs/contracts.md describes the schema in full.
//
// Every field keeps where it was written (line:column, 1-based), so every message can point at
// the place. Keys the schema does not know are kept (UnknownKey), never silently dropped.
//
// Aliases (older spellings) are accepted and recorded in Field::key:
//   proof_obligations[]: property <- statement, formal <- verification
//   falsification_tests[]: rule <- description, prediction <- expected, test <- command,
//                          if_fails <- fails_if

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "falsifiers/registry.h"

namespace parity::contract {

/// A place in a file: 1-based line and column; 0 when unknown.
struct Mark {
    int line = 0;
    int column = 0;
    bool known() const noexcept { return line > 0; }
    friend bool operator==(const Mark&, const Mark&) = default;
};

/// One value of the contract and where it was written. `present` is false when the key is
/// absent (then `value` holds the schema's default and the marks are unknown).
template <class T>
struct Field {
    T value{};
    bool present = false;
    std::string key;  ///< the spelling used in the file (an alias shows here)
    Mark mark;        ///< the key
    Mark value_mark;  ///< the value (the key's mark when the value is empty)
};

using Text = Field<std::string>;
using TextList = Field<std::vector<Text>>;

// ---------------------------------------------------------------------------------------------
// Enumerations of the schema. Each has to_string and a parse_* returning nullopt on an unknown
// spelling, and a list of every spelling (for messages and docs).

enum class ContractKind {
    Kernel,  // the default
    Registry,
    ModelFamily,
    ModelFamilyVariant,
    Tokenizer,
    TrainingLoop,
    PretrainingCorpus,
    TrainingPreconditionGate,
    CorpusAssembly,
    Pattern,
    Schema,
    BeatBenchmark,
    CompetitiveParity,
};

enum class ObligationType {
    Invariant,  // the default
    Equivalence,
    Bound,
    Monotonicity,
    Idempotency,
    Linearity,
    Symmetry,
    Associativity,
    Conservation,
    Ordering,
    Completeness,
    Soundness,
    Involution,
    Determinism,
    Roundtrip,
    StateMachine,
    Classification,
    Independence,
    Termination,
    Safety,
    Liveness,
    Precondition,
    Postcondition,
    Frame,
    LoopInvariant,
    LoopVariant,
    OldState,
    Subcontract,
};

enum class KaniStrategy { Exhaustive, StubFloat, Compositional, BoundedInt };
enum class EnforcementLevel { Basic, Standard, Strict, Proven };
enum class LeanStatus { Proved, Sorry, Wip, NotApplicable };

std::string_view to_string(ContractKind v);
std::string_view to_string(ObligationType v);
std::string_view to_string(KaniStrategy v);
std::string_view to_string(EnforcementLevel v);
std::string_view to_string(LeanStatus v);
std::optional<ContractKind> parse_contract_kind(std::string_view s);
std::optional<ObligationType> parse_obligation_type(std::string_view s);
std::optional<KaniStrategy> parse_kani_strategy(std::string_view s);
std::optional<EnforcementLevel> parse_enforcement_level(std::string_view s);
std::optional<LeanStatus> parse_lean_status(std::string_view s);
std::vector<std::string_view> contract_kind_names();
std::vector<std::string_view> obligation_type_names();
std::vector<std::string_view> kani_strategy_names();
std::vector<std::string_view> enforcement_level_names();
std::vector<std::string_view> lean_status_names();

// ---------------------------------------------------------------------------------------------
// Sections.

struct Metadata {
    Mark mark;  ///< the `metadata:` key
    Text version;
    Text description;
    Text created;
    Text author;
    TextList references;
    TextList depends_on;  ///< contract stems this one composes
    Field<bool> registry;
    Field<ContractKind> kind;  ///< Kernel when absent
    Field<EnforcementLevel> enforcement_level;
    Text locked_level;
};

struct Equation {
    std::string name;      ///< the map key, or the `id` of the list form
    Mark mark;             ///< the key (map form) or the list item
    Text formula;
    Text domain;
    Text codomain;
    TextList invariants;
    TextList preconditions;
    TextList postconditions;
    Text lean_theorem;
    Field<double> float_tolerance;
};

struct LeanProof {
    Mark mark;
    Text theorem;
    Text module;
    Field<LeanStatus> status;  ///< Sorry when absent
    TextList depends_on;
    TextList mathlib_imports;
    Text notes;
};

struct ProofObligation {
    Mark mark;  ///< the list item
    Field<ObligationType> type;  ///< Invariant when absent
    Text property;               ///< alias: statement
    Text formal;                 ///< alias: verification
    Field<double> tolerance;
    Text applies_to;  ///< all, scalar, simd, converter or an algorithm-specific target
    std::optional<LeanProof> lean;
    Text requires_precondition;  ///< `requires`: the precondition it relies on (postcondition only)
    Text applies_to_phase;  ///< loop_invariant / loop_variant only
    Text parent_contract;   ///< subcontract only
};

/// Our extension: `harness:` inside a falsification test, binding it to a falsifier.
struct HarnessBinding {
    Mark mark;  ///< the `harness:` key
    Text falsifier;
    /// The whole block as written (with `falsifier`), for the registry's check.
    falsifiers::ParamNode block;
};

struct FalsificationTest {
    Mark mark;  ///< the list item
    Text id;
    Text rule;        ///< alias: description
    Text prediction;  ///< alias: expected
    Text test;        ///< alias: command. Never executed by pv validate.
    Text if_fails;    ///< alias: fails_if
    Text test_harness;
    Text name;
    std::optional<HarnessBinding> harness;
    bool bound() const noexcept { return harness.has_value(); }
};

struct KaniHarness {
    Mark mark;
    Text id;
    Text obligation;
    Text property;
    Field<std::int64_t> bound;
    Field<KaniStrategy> strategy;
    Text solver;
    Text harness;
    Field<bool> actually_verified;
};

struct QaGate {
    Mark mark;
    Text id;
    Text name;
    Text description;
    TextList checks;
    Text pass_criteria;
    Text falsification;
};

struct VerificationSummary {
    Mark mark;
    Field<std::int64_t> total_obligations;
    Field<std::int64_t> l2_property_tested;
    Field<std::int64_t> l3_kani_proved;
    Field<std::int64_t> l4_lean_proved;
    Field<std::int64_t> l4_sorry_count;
    Field<std::int64_t> l4_not_applicable;
};

struct KernelPhase {
    Mark mark;
    Text name;
    Text description;
    Text invariant;
};

struct KernelStructure {
    Mark mark;
    Field<std::vector<KernelPhase>> phases;
};

/// simd_dispatch: operation -> {variant -> function}.
struct SimdDispatch {
    Mark mark;
    std::string op;
    std::vector<std::pair<Text, Text>> variants;  ///< (variant key, function)
};

/// enforcement: name -> rule.
struct EnforcementRule {
    Mark mark;
    std::string name;
    Text description;
    Text check;
    Text severity;
    Text reference;
};

struct TypeInvariant {
    Mark mark;
    Text name;
    Text type;
    Text predicate;
    Text description;
};

/// A key the schema does not model (kept with its place and a bounded rendering of its value).
struct UnknownKey {
    std::string section;  ///< "" (top level), "metadata", "falsification_tests[2]", ...
    std::string key;
    Mark mark;
    std::string value;  ///< flow-style rendering, truncated for very large values
};

/// A section the schema accepts but we do not model field by field (coq_spec, beat, parity).
struct OpaqueSection {
    std::string key;
    Mark mark;
    std::string value;
};

enum class Severity { Error, Warning, Info };
std::string_view to_string(Severity s);  // "ERROR", "WARN", "INFO"

/// One finding about a contract: a rule id (SCHEMA-001, HARNESS-003, ...), its severity, the
/// message and the place (unknown for whole-contract findings).
struct Finding {
    Severity severity = Severity::Error;
    std::string rule;
    std::string message;
    Mark mark;
};

struct Contract {
    std::string file;  ///< as given to the loader (used in messages)

    Field<Metadata> metadata;
    /// Present when `equations:` was written; `value` true when it was the list-with-id form.
    Field<bool> equations_as_list;
    std::vector<Equation> equations;
    Field<std::vector<ProofObligation>> proof_obligations;
    Field<std::vector<FalsificationTest>> falsification_tests;
    Field<std::vector<KaniHarness>> kani_harnesses;
    std::optional<QaGate> qa_gate;
    std::optional<VerificationSummary> verification_summary;
    std::optional<KernelStructure> kernel_structure;
    std::vector<SimdDispatch> simd_dispatch;
    std::vector<EnforcementRule> enforcement;
    Field<std::vector<TypeInvariant>> type_invariants;
    std::vector<OpaqueSection> opaque_sections;

    std::vector<UnknownKey> unknown_keys;
    /// What the loader found wrong with the document's shape (SCHEMA-100..105): wrong types,
    /// missing required keys, unknown enum values, duplicate keys, unknown keys.
    std::vector<Finding> load_findings;

    /// The kind the rules apply: metadata.kind, with the legacy `registry: true` making a
    /// kernel contract a registry.
    ContractKind effective_kind() const noexcept;
};

}  // namespace parity::contract
