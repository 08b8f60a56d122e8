// The rules of `pv validate` (docs/contracts.md lists them).

#include "harness/contract/validate.h"

#include <algorithm>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

namespace parity::contract {

const std::vector<RuleInfo>& validation_rules() {
    static const std::vector<RuleInfo> rules = {
        {"SCHEMA-001", Severity::Error, "metadata.references is empty"},
        {"SCHEMA-002", Severity::Error, "metadata.version is empty"},
        {"SCHEMA-003", Severity::Error, "no equations (kernel kind only)"},
        {"SCHEMA-004", Severity::Error, "an equation's formula is empty (kernel kind only)"},
        {"SCHEMA-005", Severity::Error, "a proof obligation's property is empty"},
        {"SCHEMA-006", Severity::Warning, "two proof obligations share the same formal"},
        {"SCHEMA-007", Severity::Error, "two falsification tests share an id"},
        {"SCHEMA-008", Severity::Error, "a falsification test's prediction is empty"},
        {"SCHEMA-009", Severity::Warning, "a falsification test's if_fails is empty"},
        {"SCHEMA-010", Severity::Error, "two kani harnesses share an id"},
        {"SCHEMA-011", Severity::Error, "a kani harness's obligation is empty"},
        {"SCHEMA-012", Severity::Warning, "a kani harness has no bound"},
        {"SCHEMA-013", Severity::Warning, "no qa_gate (kernel kind only)"},
        {"SCHEMA-014", Severity::Error, "`requires` on an obligation that is not a postcondition"},
        {"SCHEMA-015", Severity::Error, "`applies_to_phase` on an obligation that is not a loop_invariant/loop_variant"},
        {"SCHEMA-016", Severity::Error, "`parent_contract` on an obligation that is not a subcontract"},
        {"SCHEMA-017", Severity::Error, "a subcontract's parent_contract is not in metadata.depends_on"},
        {"PROVABILITY-001", Severity::Error,
         "kernel kind only: no proof obligations, no falsification tests, no kani harnesses, or fewer tests than "
         "obligations"},
        {"SCHEMA-100", Severity::Warning, "a key the schema does not know (upstream drops it silently)"},
        {"SCHEMA-101", Severity::Error, "a required key is missing"},
        {"SCHEMA-102", Severity::Error, "a value has the wrong type (a list where a string belongs, a quoted number, ...)"},
        {"SCHEMA-103", Severity::Error, "an enumerated value is not one of its allowed spellings"},
        {"SCHEMA-104", Severity::Error, "a key (or an equation id) appears twice"},
        {"SCHEMA-105", Severity::Error, "a field is given under both its name and its alias"},
        {"SCHEMA-106", Severity::Warning,
         "a string field holds a plain YAML number or boolean, or a required string is null: accepted here, "
         "rejected by upstream pv"},
        {"HARNESS-001", Severity::Error, "`harness:` is not a mapping, names no falsifier, or an unknown one"},
        {"HARNESS-002", Severity::Error, "a required falsifier parameter is missing"},
        {"HARNESS-003", Severity::Error, "a falsifier parameter has the wrong type or an invalid value"},
        {"HARNESS-004", Severity::Error, "a parameter the falsifier does not take"},
        {"HARNESS-005", Severity::Error, "an unknown slot name"},
        {"HARNESS-006", Severity::Error, "an unknown stat name"},
        {"HARNESS-007", Severity::Error, "a value outside a parameter's choices (e.g. sample)"},
        {"HARNESS-008", Severity::Error, "a malformed path name, or one the suite does not define"},
        {"HARNESS-009", Severity::Error, "parameters that exclude each other, or an inconsistent pair"},
    };
    return rules;
}

namespace {

std::string_view harness_rule(falsifiers::IssueCode code) {
    using falsifiers::IssueCode;
    switch (code) {
        case IssueCode::NotAMapping:
        case IssueCode::UnknownFalsifier: return "HARNESS-001";
        case IssueCode::MissingParameter: return "HARNESS-002";
        case IssueCode::InvalidValue: return "HARNESS-003";
        case IssueCode::UnknownParameter: return "HARNESS-004";
        case IssueCode::UnknownSlot: return "HARNESS-005";
        case IssueCode::UnknownStat: return "HARNESS-006";
        case IssueCode::UnknownChoice: return "HARNESS-007";
        case IssueCode::BadPathName: return "HARNESS-008";
        case IssueCode::Conflict: return "HARNESS-009";
    }
    return "HARNESS-001";
}

/// The first known mark among the arguments.
Mark first_known(std::initializer_list<Mark> marks) {
    for (const Mark& m : marks) {
        if (m.known()) return m;
    }
    return {};
}

std::string line_ref(const Mark& m) { return m.known() ? " (line " + std::to_string(m.line) + ")" : std::string(); }

class Rules {
public:
    Rules(const Contract& c, const ValidateOptions& options, std::vector<Finding>& out)
        : c_(c), options_(options), out_(out) {}

    void run() {
        const bool kernel = c_.effective_kind() == ContractKind::Kernel;
        if (c_.metadata.present) metadata();
        if (kernel) {
            equations();
            provability();
        }
        obligations();
        tests();
        kani();
        if (kernel && !c_.qa_gate) {
            warn("SCHEMA-013", "no qa_gate defined: a kernel contract should define a quality gate", {});
        }
    }

private:
    void error(std::string_view rule, std::string message, Mark mark) {
        out_.push_back({Severity::Error, std::string(rule), std::move(message), mark});
    }
    void warn(std::string_view rule, std::string message, Mark mark) {
        out_.push_back({Severity::Warning, std::string(rule), std::move(message), mark});
    }

    void metadata() {
        const Metadata& m = c_.metadata.value;
        if (m.references.value.empty()) {
            error("SCHEMA-001", "metadata.references must not be empty: every contract must cite its source(s)",
                  first_known({m.references.mark, m.mark}));
        }
        if (m.version.present && m.version.value.empty()) {
            error("SCHEMA-002", "metadata.version must not be empty", m.version.mark);
        }
    }

    void equations() {
        if (c_.equations.empty()) {
            error("SCHEMA-003", "a kernel contract needs at least one equation", c_.equations_as_list.mark);
        }
        for (const auto& q : c_.equations) {
            if (q.formula.value.empty()) {
                error("SCHEMA-004", "equations." + q.name + ".formula must not be empty",
                      first_known({q.formula.mark, q.mark}));
            }
        }
    }

    void provability() {
        const auto& po = c_.proof_obligations;
        const auto& ft = c_.falsification_tests;
        const auto& kh = c_.kani_harnesses;
        if (po.value.empty()) error("PROVABILITY-001", "kernel contract has no proof_obligations", po.mark);
        if (ft.value.empty()) error("PROVABILITY-001", "kernel contract has no falsification_tests", ft.mark);
        if (kh.value.empty()) error("PROVABILITY-001", "kernel contract has no kani_harnesses", kh.mark);
        if (ft.value.size() < po.value.size()) {
            error("PROVABILITY-001",
                  "falsification_tests (" + std::to_string(ft.value.size()) + ") < proof_obligations (" +
                      std::to_string(po.value.size()) + "): every obligation needs a test that can falsify it",
                  first_known({ft.mark, po.mark}));
        }
    }

    void obligations() {
        const auto& list = c_.proof_obligations.value;
        // Sets, not scans: a long contract must not take quadratic time.
        std::unordered_set<std::string_view> depends_on;
        for (const Text& d : c_.metadata.value.depends_on.value) depends_on.insert(d.value);
        std::unordered_map<std::string_view, std::size_t> first_formal;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const ProofObligation& o = list[i];
            const std::string at = "proof_obligations[" + std::to_string(i) + "]";
            const ObligationType type = o.type.present ? o.type.value : ObligationType::Invariant;
            const std::string type_name(to_string(type));
            if (o.property.value.empty()) {
                error("SCHEMA-005", at + ".property must not be empty", first_known({o.property.mark, o.mark}));
            }
            if (o.formal.present && !o.formal.value.empty()) {
                const auto [it, fresh] = first_formal.emplace(o.formal.value, i);
                if (!fresh) {
                    const std::size_t j = it->second;
                    warn("SCHEMA-006", at + ".formal duplicates proof_obligations[" + std::to_string(j) + "]" +
                                           line_ref(list[j].formal.mark) + ": " + o.formal.value,
                         o.formal.mark);
                }
            }
            if (o.requires_precondition.present && type != ObligationType::Postcondition) {
                error("SCHEMA-014", at + ".requires is only valid on postcondition obligations (found on " +
                                        type_name + ")",
                      o.requires_precondition.mark);
            }
            if (o.applies_to_phase.present && type != ObligationType::LoopInvariant &&
                type != ObligationType::LoopVariant) {
                error("SCHEMA-015", at + ".applies_to_phase is only valid on loop_invariant or loop_variant "
                                         "obligations (found on " + type_name + ")",
                      o.applies_to_phase.mark);
            }
            if (o.parent_contract.present && type != ObligationType::Subcontract) {
                error("SCHEMA-016", at + ".parent_contract is only valid on subcontract obligations (found on " +
                                        type_name + ")",
                      o.parent_contract.mark);
            }
            if (o.parent_contract.present && type == ObligationType::Subcontract) {
                if (depends_on.count(o.parent_contract.value) == 0) {
                    error("SCHEMA-017", at + ".parent_contract \"" + o.parent_contract.value +
                                            "\" must be listed in metadata.depends_on",
                          o.parent_contract.mark);
                }
            }
        }
    }

    void tests() {
        const auto& list = c_.falsification_tests.value;
        const falsifiers::Registry& registry =
            options_.registry != nullptr ? *options_.registry : falsifiers::Registry::builtin();
        falsifiers::CheckOptions check_options;
        check_options.known_paths = options_.known_paths;
        std::unordered_map<std::string_view, int> first_line;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const FalsificationTest& t = list[i];
            const std::string name =
                t.id.value.empty() ? "falsification_tests[" + std::to_string(i) + "]" : t.id.value;
            if (t.id.present) {
                if (const auto [it, fresh] = first_line.emplace(t.id.value, t.id.mark.line); !fresh) {
                    error("SCHEMA-007", "duplicate falsification test id " + t.id.value + " (first at line " +
                                            std::to_string(it->second) + ")",
                          t.id.mark);
                }
            }
            if (t.prediction.value.empty()) {
                error("SCHEMA-008", "falsification test " + name +
                                        " has an empty prediction: every test must make a falsifiable prediction",
                      first_known({t.prediction.mark, t.mark}));
            }
            if (t.if_fails.value.empty()) {
                warn("SCHEMA-009", "falsification test " + name +
                                       " has an empty if_fails: it should say what a failure means (root cause)",
                     first_known({t.if_fails.mark, t.mark}));
            }
            if (t.harness) {
                const auto result = registry.check(t.harness->block, check_options);
                for (const auto& issue : result.issues) {
                    const Mark m = issue.pos.known() ? Mark{issue.pos.line, issue.pos.column} : t.harness->mark;
                    error(harness_rule(issue.code), "falsification test " + name + ": " + issue.message, m);
                }
            }
        }
    }

    void kani() {
        const auto& list = c_.kani_harnesses.value;
        std::unordered_map<std::string_view, int> first_line;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const KaniHarness& k = list[i];
            const std::string name = k.id.value.empty() ? "kani_harnesses[" + std::to_string(i) + "]" : k.id.value;
            if (k.id.present) {
                if (const auto [it, fresh] = first_line.emplace(k.id.value, k.id.mark.line); !fresh) {
                    error("SCHEMA-010", "duplicate kani harness id " + k.id.value + " (first at line " +
                                            std::to_string(it->second) + ")",
                          k.id.mark);
                }
            }
            if (k.obligation.present && k.obligation.value.empty()) {
                error("SCHEMA-011", "kani harness " + name +
                                        " has an empty obligation: every harness must name the obligation it proves",
                      k.obligation.mark);
            }
            if (!k.bound.present) {
                warn("SCHEMA-012", "kani harness " + name + " has no bound: Kani needs an unwind bound", k.mark);
            }
        }
    }

    const Contract& c_;
    const ValidateOptions& options_;
    std::vector<Finding>& out_;
};

}  // namespace

std::vector<Finding> validate_contract(const Contract& contract, const ValidateOptions& options) {
    std::vector<Finding> out = contract.load_findings;
    Rules(contract, options, out).run();
    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
        return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
    });
    return out;
}

TestCounts count_tests(const Contract& contract) {
    TestCounts c;
    for (const auto& t : contract.falsification_tests.value) {
        ++c.total;
        if (t.bound()) {
            ++c.bound;
        } else {
            ++c.unbound;
        }
    }
    return c;
}

std::string format_finding(const Finding& finding, std::string_view file) {
    std::string s = "[" + std::string(to_string(finding.severity)) + "] " + finding.rule + ": " + std::string(file);
    if (finding.mark.known()) s += ":" + std::to_string(finding.mark.line) + ":" + std::to_string(finding.mark.column);
    s += ": " + finding.message;
    return s;
}

CollectedFiles collect_contract_files(const std::vector<std::string>& args) {
    namespace fs = std::filesystem;
    CollectedFiles out;
    std::vector<fs::path> seen;
    const auto add = [&](const fs::path& p) {
        const fs::path key = p.lexically_normal();
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
        seen.push_back(key);
        out.files.push_back(p);
    };
    for (const auto& arg : args) {
        const fs::path p(arg);
        std::error_code ec;
        const fs::file_status st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
            out.errors.push_back(arg + ": no such file or directory");
            continue;
        }
        if (!fs::is_directory(st)) {
            add(p);
            continue;
        }
        std::vector<fs::path> found;
        fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            const fs::path& f = it->path();
            const std::string ext = f.extension().string();
            std::error_code fec;
            if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(fec)) found.push_back(f);
        }
        if (ec) {
            out.errors.push_back(arg + ": cannot list the directory: " + ec.message());
            continue;
        }
        if (found.empty()) {
            out.errors.push_back(arg + ": no contract files (*.yaml, *.yml) in this directory");
            continue;
        }
        std::sort(found.begin(), found.end());
        for (const auto& f : found) add(f);
    }
    return out;
}

}  // namespace parity::contract
