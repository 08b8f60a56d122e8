// Spellings of the contract schema's enumerations.

#include <array>
#include <utility>

#include "harness/contract/contract.h"

namespace parity::contract {

namespace {

template <class E, std::size_t N>
using Table = std::array<std::pair<E, std::string_view>, N>;

constexpr Table<ContractKind, 13> kKinds = {{
    {ContractKind::Kernel, "kernel"},
    {ContractKind::Registry, "registry"},
    {ContractKind::ModelFamily, "model-family"},
    {ContractKind::ModelFamilyVariant, "model-family-variant"},
    {ContractKind::Tokenizer, "tokenizer"},
    {ContractKind::TrainingLoop, "training-loop"},
    {ContractKind::PretrainingCorpus, "pretraining-corpus"},
    {ContractKind::TrainingPreconditionGate, "training-precondition-gate"},
    {ContractKind::CorpusAssembly, "corpus-assembly"},
    {ContractKind::Pattern, "pattern"},
    {ContractKind::Schema, "schema"},
    {ContractKind::BeatBenchmark, "beat-benchmark"},
    {ContractKind::CompetitiveParity, "competitive-parity"},
}};

constexpr Table<ObligationType, 28> kObligationTypes = {{
    {ObligationType::Invariant, "invariant"},
    {ObligationType::Equivalence, "equivalence"},
    {ObligationType::Bound, "bound"},
    {ObligationType::Monotonicity, "monotonicity"},
    {ObligationType::Idempotency, "idempotency"},
    {ObligationType::Linearity, "linearity"},
    {ObligationType::Symmetry, "symmetry"},
    {ObligationType::Associativity, "associativity"},
    {ObligationType::Conservation, "conservation"},
    {ObligationType::Ordering, "ordering"},
    {ObligationType::Completeness, "completeness"},
    {ObligationType::Soundness, "soundness"},
    {ObligationType::Involution, "involution"},
    {ObligationType::Determinism, "determinism"},
    {ObligationType::Roundtrip, "roundtrip"},
    {ObligationType::StateMachine, "state_machine"},
    {ObligationType::Classification, "classification"},
    {ObligationType::Independence, "independence"},
    {ObligationType::Termination, "termination"},
    {ObligationType::Safety, "safety"},
    {ObligationType::Liveness, "liveness"},
    {ObligationType::Precondition, "precondition"},
    {ObligationType::Postcondition, "postcondition"},
    {ObligationType::Frame, "frame"},
    {ObligationType::LoopInvariant, "loop_invariant"},
    {ObligationType::LoopVariant, "loop_variant"},
    {ObligationType::OldState, "old_state"},
    {ObligationType::Subcontract, "subcontract"},
}};

constexpr Table<KaniStrategy, 4> kStrategies = {{
    {KaniStrategy::Exhaustive, "exhaustive"},
    {KaniStrategy::StubFloat, "stub_float"},
    {KaniStrategy::Compositional, "compositional"},
    {KaniStrategy::BoundedInt, "bounded_int"},
}};

constexpr Table<EnforcementLevel, 4> kLevels = {{
    {EnforcementLevel::Basic, "basic"},
    {EnforcementLevel::Standard, "standard"},
    {EnforcementLevel::Strict, "strict"},
    {EnforcementLevel::Proven, "proven"},
}};

constexpr Table<LeanStatus, 4> kLeanStatuses = {{
    {LeanStatus::Proved, "proved"},
    {LeanStatus::Sorry, "sorry"},
    {LeanStatus::Wip, "wip"},
    {LeanStatus::NotApplicable, "not-applicable"},
}};

template <class E, std::size_t N>
std::string_view name_of(const Table<E, N>& t, E v) {
    for (const auto& [e, s] : t) {
        if (e == v) return s;
    }
    return "?";
}

template <class E, std::size_t N>
std::optional<E> parse(const Table<E, N>& t, std::string_view s) {
    for (const auto& [e, name] : t) {
        if (name == s) return e;
    }
    return std::nullopt;
}

template <class E, std::size_t N>
std::vector<std::string_view> names(const Table<E, N>& t) {
    std::vector<std::string_view> v;
    for (const auto& [e, s] : t) v.push_back(s);
    return v;
}

}  // namespace

std::string_view to_string(ContractKind v) { return name_of(kKinds, v); }
std::string_view to_string(ObligationType v) { return name_of(kObligationTypes, v); }
std::string_view to_string(KaniStrategy v) { return name_of(kStrategies, v); }
std::string_view to_string(EnforcementLevel v) { return name_of(kLevels, v); }
std::string_view to_string(LeanStatus v) { return name_of(kLeanStatuses, v); }

std::optional<ContractKind> parse_contract_kind(std::string_view s) { return parse(kKinds, s); }
std::optional<ObligationType> parse_obligation_type(std::string_view s) { return parse(kObligationTypes, s); }
std::optional<KaniStrategy> parse_kani_strategy(std::string_view s) { return parse(kStrategies, s); }
std::optional<EnforcementLevel> parse_enforcement_level(std::string_view s) { return parse(kLevels, s); }
std::optional<LeanStatus> parse_lean_status(std::string_view s) { return parse(kLeanStatuses, s); }

std::vector<std::string_view> contract_kind_names() { return names(kKinds); }
std::vector<std::string_view> obligation_type_names() { return names(kObligationTypes); }
std::vector<std::string_view> kani_strategy_names() { return names(kStrategies); }
std::vector<std::string_view> enforcement_level_names() { return names(kLevels); }
std::vector<std::string_view> lean_status_names() { return names(kLeanStatuses); }

std::string_view to_string(Severity s) {
    switch (s) {
        case Severity::Error: return "ERROR";
        case Severity::Warning: return "WARN";
        case Severity::Info: return "INFO";
    }
    return "?";
}

ContractKind Contract::effective_kind() const noexcept {
    const Metadata& m = metadata.value;
    const ContractKind k = m.kind.present ? m.kind.value : ContractKind::Kernel;
    if (k == ContractKind::Kernel && m.registry.present && m.registry.value) return ContractKind::Registry;
    return k;
}

}  // namespace parity::contract
