#pragma once
// The contract validator behind `pv validate`: upstream's rules (SCHEMA-001..017,
// PROVABILITY-001, with upstream's kind-dependent applicability) plus ours (SCHEMA-100..105 for
// the document's shape, HARNESS-001..009 for `harness:` bindings). docs/contracts.md lists
// every rule with its severity.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "falsifiers/registry.h"
#include "harness/contract/contract.h"

namespace parity::contract {

struct RuleInfo {
    std::string_view id;
    Severity severity;
    std::string_view summary;
};

/// Every rule `pv validate` can report, in documentation order.
const std::vector<RuleInfo>& validation_rules();

struct ValidateOptions {
    /// The falsifier registry bindings are checked against (nullptr: the built-in one).
    const falsifiers::Registry* registry = nullptr;
    /// The suite's path names; when set, every path a binding names must be one of them.
    std::optional<std::vector<std::string>> known_paths;
};

/// All findings for a loaded contract (the loader's and the rules'), ordered by place.
std::vector<Finding> validate_contract(const Contract& contract, const ValidateOptions& options = {});

struct TestCounts {
    std::size_t total = 0;
    std::size_t bound = 0;    ///< with a `harness:` block
    std::size_t unbound = 0;  ///< without one: reported UNBOUND by the runner, never passed
};
TestCounts count_tests(const Contract& contract);

struct CollectedFiles {
    std::vector<std::filesystem::path> files;
    /// "PATH: cause" for each argument that does not exist, cannot be listed, or is a
    /// directory without contract files.
    std::vector<std::string> errors;
};

/// The contract files named by `args`: files as given, directories searched recursively for
/// *.yaml / *.yml (each directory's files sorted), duplicates dropped.
CollectedFiles collect_contract_files(const std::vector<std::string>& args);

/// One finding as `pv validate` prints it:
/// "[ERROR] SCHEMA-008: FILE:LINE:COL: message" (no ":LINE:COL" when the place is unknown).
std::string format_finding(const Finding& finding, std::string_view file);

}  // namespace parity::contract
