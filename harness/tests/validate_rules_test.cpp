// Each `pv validate` rule fires on a minimal contract built for it (rule id, severity, place),
// and none fires on the valid base contract.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"

namespace parity::contract {
namespace {

// The valid base: a kernel contract with one of everything. Line numbers are used below.
const std::string kBase =
    "metadata:\n"                                  // 1
    "  version: \"1.0.0\"\n"                       // 2
    "  description: \"Minimal valid kernel\"\n"    // 3
    "  references:\n"                              // 4
    "    - \"Paper (2024)\"\n"                     // 5
    "equations:\n"                                 // 6
    "  f:\n"                                       // 7
    "    formula: \"f(x) = x\"\n"                  // 8
    "proof_obligations:\n"                         // 9
    "  - type: invariant\n"                        // 10
    "    property: \"output is finite\"\n"         // 11
    "    formal: \"isfinite(f(x))\"\n"             // 12
    "falsification_tests:\n"                       // 13
    "  - id: FALSIFY-T-001\n"                      // 14
    "    rule: \"finiteness\"\n"                   // 15
    "    prediction: \"output is always finite\"\n"  // 16
    "    test: \"cargo test\"\n"                   // 17
    "    if_fails: \"overflow\"\n"                 // 18
    "kani_harnesses:\n"                            // 19
    "  - id: KANI-T-001\n"                         // 20
    "    obligation: \"output is finite\"\n"       // 21
    "    bound: 8\n"                               // 22
    "    strategy: exhaustive\n"                   // 23
    "qa_gate:\n"                                   // 24
    "  id: QA-T\n"                                 // 25
    "  name: \"gate\"\n"                           // 26
    "  checks: [\"finiteness\"]\n"                 // 27
    "  pass_criteria: \"all pass\"\n";             // 28

/// kBase with `from` replaced by `to` (which must occur exactly once).
std::string edit(const std::string& from, const std::string& to, std::string base = kBase) {
    const auto at = base.find(from);
    EXPECT_NE(at, std::string::npos) << "not in the contract: " << from;
    EXPECT_EQ(base.find(from, at + 1), std::string::npos) << "ambiguous: " << from;
    if (at != std::string::npos) base.replace(at, from.size(), to);
    return base;
}

std::vector<Finding> validate(const std::string& yaml, const ValidateOptions& options = {}) {
    return validate_contract(load_contract_text(yaml, "t.yaml"), options);
}

std::string dump(const std::vector<Finding>& fs) {
    std::string s;
    for (const auto& f : fs) s += format_finding(f, "t.yaml") + "\n";
    return s;
}

std::vector<Finding> with_rule(const std::vector<Finding>& fs, const std::string& rule) {
    std::vector<Finding> out;
    std::copy_if(fs.begin(), fs.end(), std::back_inserter(out), [&](const Finding& f) { return f.rule == rule; });
    return out;
}

/// Exactly one finding of `rule`, with that severity and place; returns its message.
std::string expect_one(const std::vector<Finding>& fs, const std::string& rule, Severity severity, Mark mark) {
    const auto hits = with_rule(fs, rule);
    EXPECT_EQ(hits.size(), 1u) << rule << " in:\n" << dump(fs);
    if (hits.empty()) return {};
    EXPECT_EQ(hits[0].severity, severity) << dump(fs);
    EXPECT_EQ(hits[0].mark, mark) << rule << " at " << hits[0].mark.line << ":" << hits[0].mark.column << "\n"
                                  << dump(fs);
    return hits[0].message;
}

bool has_errors(const std::vector<Finding>& fs) {
    return std::any_of(fs.begin(), fs.end(), [](const Finding& f) { return f.severity == Severity::Error; });
}

TEST(ValidateRules, TheBaseContractIsClean) {
    const auto fs = validate(kBase);
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(ValidateRules, Schema001EmptyReferences) {
    auto fs = validate(edit("  references:\n    - \"Paper (2024)\"\n", "  references: []\n"));
    EXPECT_NE(expect_one(fs, "SCHEMA-001", Severity::Error, {4, 3}).find("metadata.references must not be empty"),
              std::string::npos);
    fs = validate(edit("  references:\n    - \"Paper (2024)\"\n", ""));  // absent: at `metadata`
    expect_one(fs, "SCHEMA-001", Severity::Error, {1, 1});
}

TEST(ValidateRules, Schema002EmptyVersion) {
    const auto fs = validate(edit("version: \"1.0.0\"", "version: \"\""));
    expect_one(fs, "SCHEMA-002", Severity::Error, {2, 3});
}

TEST(ValidateRules, Schema003NoEquationsOnlyForKernels) {
    const std::string no_eq = edit("equations:\n  f:\n    formula: \"f(x) = x\"\n", "equations: {}\n");
    expect_one(validate(no_eq), "SCHEMA-003", Severity::Error, {6, 1});
    const auto fs = validate(edit("  references:", "  kind: registry\n  references:", no_eq));
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(ValidateRules, Schema004EmptyFormula) {
    const auto fs = validate(edit("formula: \"f(x) = x\"", "formula: \"\""));
    EXPECT_NE(expect_one(fs, "SCHEMA-004", Severity::Error, {8, 5}).find("equations.f.formula must not be empty"),
              std::string::npos);
}

TEST(ValidateRules, Schema005EmptyProperty) {
    auto fs = validate(edit("property: \"output is finite\"", "property: \"\""));
    expect_one(fs, "SCHEMA-005", Severity::Error, {11, 5});
    fs = validate(edit("    property: \"output is finite\"\n", ""));  // absent: at the item
    expect_one(fs, "SCHEMA-005", Severity::Error, {10, 5});
}

TEST(ValidateRules, Schema006DuplicateFormalIsAWarning) {
    const auto fs = validate(edit("    formal: \"isfinite(f(x))\"\n",
                                  "    formal: \"isfinite(f(x))\"\n"
                                  "  - type: bound\n"
                                  "    property: \"second\"\n"
                                  "    formal: \"isfinite(f(x))\"\n"));
    const std::string msg = expect_one(fs, "SCHEMA-006", Severity::Warning, {15, 5});
    EXPECT_NE(msg.find("proof_obligations[1].formal duplicates proof_obligations[0] (line 12)"), std::string::npos);
}

TEST(ValidateRules, Schema007DuplicateTestId) {
    const auto fs = validate(edit("    if_fails: \"overflow\"\n",
                                  "    if_fails: \"overflow\"\n"
                                  "  - id: FALSIFY-T-001\n"
                                  "    prediction: \"again\"\n"
                                  "    if_fails: \"x\"\n"));
    EXPECT_NE(expect_one(fs, "SCHEMA-007", Severity::Error, {19, 5}).find("duplicate falsification test id "
                                                                          "FALSIFY-T-001 (first at line 14)"),
              std::string::npos);
}

TEST(ValidateRules, Schema008EmptyPrediction) {
    auto fs = validate(edit("prediction: \"output is always finite\"", "prediction: \"\""));
    EXPECT_EQ(expect_one(fs, "SCHEMA-008", Severity::Error, {16, 5}),
              "falsification test FALSIFY-T-001 has an empty prediction: every test must make a falsifiable "
              "prediction");
    fs = validate(edit("prediction: \"output is always finite\"", "expected:"));  // alias, empty
    expect_one(fs, "SCHEMA-008", Severity::Error, {16, 5});
    fs = validate(edit("    prediction: \"output is always finite\"\n", ""));  // absent: at the item
    expect_one(fs, "SCHEMA-008", Severity::Error, {14, 5});
}

TEST(ValidateRules, Schema009EmptyIfFailsIsAWarning) {
    const auto fs = validate(edit("if_fails: \"overflow\"", "if_fails: \"\""));
    expect_one(fs, "SCHEMA-009", Severity::Warning, {18, 5});
    EXPECT_FALSE(has_errors(fs));
}

TEST(ValidateRules, Schema010DuplicateKaniId) {
    const auto fs = validate(edit("    strategy: exhaustive\n",
                                  "    strategy: exhaustive\n"
                                  "  - id: KANI-T-001\n"
                                  "    obligation: \"again\"\n"
                                  "    bound: 2\n"));
    expect_one(fs, "SCHEMA-010", Severity::Error, {24, 5});
}

TEST(ValidateRules, Schema011EmptyKaniObligation) {
    const auto fs = validate(edit("obligation: \"output is finite\"", "obligation: \"\""));
    expect_one(fs, "SCHEMA-011", Severity::Error, {21, 5});
}

TEST(ValidateRules, Schema012KaniWithoutBoundIsAWarning) {
    const auto fs = validate(edit("    bound: 8\n", ""));
    expect_one(fs, "SCHEMA-012", Severity::Warning, {20, 5});
    EXPECT_FALSE(has_errors(fs));
}

TEST(ValidateRules, Schema013NoQaGateOnlyForKernels) {
    const std::string no_gate = kBase.substr(0, kBase.find("qa_gate:"));
    auto fs = validate(no_gate);
    expect_one(fs, "SCHEMA-013", Severity::Warning, {});
    fs = validate(edit("  references:", "  kind: tokenizer\n  references:", no_gate));
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(ValidateRules, Schema014To017DesignByContractFields) {
    auto fs = validate(edit("    formal: \"isfinite(f(x))\"\n", "    formal: \"isfinite(f(x))\"\n    requires: PRE-1\n"));
    EXPECT_NE(expect_one(fs, "SCHEMA-014", Severity::Error, {13, 5}).find("(found on invariant)"), std::string::npos);
    fs = validate(edit("  - type: invariant\n", "  - type: postcondition\n    requires: PRE-1\n"));
    EXPECT_TRUE(fs.empty()) << dump(fs);

    fs = validate(edit("    formal: \"isfinite(f(x))\"\n", "    formal: \"isfinite(f(x))\"\n    applies_to_phase: p\n"));
    expect_one(fs, "SCHEMA-015", Severity::Error, {13, 5});
    fs = validate(edit("  - type: invariant\n", "  - type: loop_variant\n    applies_to_phase: p\n"));
    EXPECT_TRUE(fs.empty()) << dump(fs);

    fs = validate(edit("    formal: \"isfinite(f(x))\"\n", "    formal: \"isfinite(f(x))\"\n    parent_contract: p-v1\n"));
    expect_one(fs, "SCHEMA-016", Severity::Error, {13, 5});
    EXPECT_TRUE(with_rule(fs, "SCHEMA-017").empty());

    fs = validate(edit("  - type: invariant\n", "  - type: subcontract\n    parent_contract: p-v1\n"));
    EXPECT_NE(expect_one(fs, "SCHEMA-017", Severity::Error, {11, 5}).find("\"p-v1\" must be listed in "
                                                                          "metadata.depends_on"),
              std::string::npos);
    fs = validate(edit("  references:", "  depends_on: [p-v1]\n  references:",
                       edit("  - type: invariant\n", "  - type: subcontract\n    parent_contract: p-v1\n")));
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(ValidateRules, Provability001OnlyForKernels) {
    const std::string no_kani = kBase.substr(0, kBase.find("kani_harnesses:")) + kBase.substr(kBase.find("qa_gate:"));
    auto fs = validate(no_kani);
    EXPECT_EQ(expect_one(fs, "PROVABILITY-001", Severity::Error, {}), "kernel contract has no kani_harnesses");

    const std::string no_tests = edit(kBase.substr(kBase.find("falsification_tests:"), kBase.find("kani_harnesses:") -
                                                                                          kBase.find("falsification_tests:")),
                                      "");
    fs = validate(no_tests);
    const auto hits = with_rule(fs, "PROVABILITY-001");
    ASSERT_EQ(hits.size(), 2u) << dump(fs);
    EXPECT_EQ(hits[0].message, "kernel contract has no falsification_tests");
    EXPECT_NE(hits[1].message.find("falsification_tests (0) < proof_obligations (1)"), std::string::npos);
    EXPECT_EQ(hits[1].mark, (Mark{9, 1}));  // at proof_obligations

    fs = validate(edit("  references:", "  registry: true\n  references:", no_tests));
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(ValidateRules, NonKernelKindsStillGetObligationTestAndKaniChecks) {
    const std::string yaml = "metadata: {version: '1', description: d, references: [r], kind: pattern}\n"
                             "proof_obligations:\n"
                             "  - statement: ''\n"
                             "falsification_tests:\n"
                             "  - id: F\n"
                             "    description: r\n"
                             "kani_harnesses:\n"
                             "  - id: K\n"
                             "    obligation: ''\n";
    const auto fs = validate(yaml);
    expect_one(fs, "SCHEMA-005", Severity::Error, {3, 5});
    expect_one(fs, "SCHEMA-008", Severity::Error, {5, 5});
    expect_one(fs, "SCHEMA-009", Severity::Warning, {5, 5});
    expect_one(fs, "SCHEMA-011", Severity::Error, {9, 5});
    expect_one(fs, "SCHEMA-012", Severity::Warning, {8, 5});
    EXPECT_TRUE(with_rule(fs, "SCHEMA-003").empty());
    EXPECT_TRUE(with_rule(fs, "SCHEMA-013").empty());
    EXPECT_TRUE(with_rule(fs, "PROVABILITY-001").empty());
}

TEST(ValidateRules, Schema100UnknownKeyIsAWarning) {
    const auto fs = validate(edit("    test: \"cargo test\"\n", "    test: \"cargo test\"\n    status_v1_2_0: PASS\n"));
    EXPECT_NE(expect_one(fs, "SCHEMA-100", Severity::Warning, {18, 5}).find("unknown key `status_v1_2_0` in "
                                                                            "`falsification_tests[0]`"),
              std::string::npos);
    EXPECT_FALSE(has_errors(fs));
}

TEST(ValidateRules, Schema101To105ShapeFindingsComeThroughTheValidator) {
    expect_one(validate(edit("  version: \"1.0.0\"\n", "")), "SCHEMA-101", Severity::Error, {1, 1});
    expect_one(validate(edit("bound: 8", "bound: eight")), "SCHEMA-102", Severity::Error, {22, 12});
    expect_one(validate(edit("strategy: exhaustive", "strategy: exhausting")), "SCHEMA-103", Severity::Error,
               {23, 15});
    expect_one(validate(edit("    bound: 8\n", "    bound: 8\n    bound: 9\n")), "SCHEMA-104", Severity::Error,
               {23, 5});
    expect_one(validate(edit("    if_fails: \"overflow\"\n", "    if_fails: \"overflow\"\n    fails_if: again\n")),
               "SCHEMA-105", Severity::Error, {19, 5});
    // A missing version reports the missing key, not also an empty version.
    EXPECT_TRUE(with_rule(validate(edit("  version: \"1.0.0\"\n", "")), "SCHEMA-002").empty());
}

TEST(ValidateRules, Schema106WhatUpstreamWouldRejectIsAWarning) {
    // `version: 1.0` is a float to YAML 1.2 (and upstream's serde_yaml): upstream fails to parse.
    auto fs = validate(edit("version: \"1.0.0\"", "version: 1.0"));
    EXPECT_NE(expect_one(fs, "SCHEMA-106", Severity::Warning, {2, 12}).find("is the YAML number 1.0"),
              std::string::npos);
    EXPECT_FALSE(has_errors(fs));
    fs = validate(edit("rule: \"finiteness\"", "rule:"));  // null in a non-optional string
    expect_one(fs, "SCHEMA-106", Severity::Warning, {15, 5});
    fs = validate(edit("- \"Paper (2024)\"", "- 2024"));
    expect_one(fs, "SCHEMA-106", Severity::Warning, {5, 7});
    fs = validate(edit("test: \"cargo test\"", "test:"));  // optional upstream: fine
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

// -- harness bindings ------------------------------------------------------------------------

/// kBase whose test carries `block` (already indented by 6) after its if_fails line (18).
std::string bound(const std::string& block) {
    return edit("    if_fails: \"overflow\"\n", "    if_fails: \"overflow\"\n    harness:\n" + block);
}

const std::string kGoodBlock =
    "      falsifier: stat_ratio_band\n"  // 20
    "      paths: [apr, gguf]\n"          // 21
    "      sample: last_token\n"          // 22
    "      slot: ffn_swiglu_inner\n"      // 23
    "      stat: std_dev\n"               // 24
    "      layers: all\n"                 // 25
    "      band: [0.5, 2.0]\n";           // 26

TEST(ValidateRules, AGoodBindingIsClean) {
    const auto fs = validate(bound(kGoodBlock));
    EXPECT_TRUE(fs.empty()) << dump(fs);
    ValidateOptions opts;
    opts.known_paths = std::vector<std::string>{"apr", "gguf"};
    EXPECT_TRUE(validate(bound(kGoodBlock), opts).empty());
}

TEST(ValidateRules, Harness001UnknownOrMissingFalsifier) {
    auto fs = validate(bound(edit("stat_ratio_band", "ratio_band", kGoodBlock)));
    EXPECT_NE(expect_one(fs, "HARNESS-001", Severity::Error, {20, 18})
                  .find("falsification test FALSIFY-T-001: unknown falsifier `ratio_band` (did you mean "
                        "`stat_ratio_band`?)"),
              std::string::npos);
    fs = validate(edit("    if_fails: \"overflow\"\n", "    if_fails: \"overflow\"\n    harness: finite\n"));
    expect_one(fs, "HARNESS-001", Severity::Error, {19, 14});
    fs = validate(edit("    if_fails: \"overflow\"\n", "    if_fails: \"overflow\"\n    harness:\n"));
    expect_one(fs, "HARNESS-001", Severity::Error, {19, 5});
    fs = validate(bound("      paths: [apr, gguf]\n"));
    EXPECT_NE(expect_one(fs, "HARNESS-001", Severity::Error, {20, 7}).find("names no falsifier"), std::string::npos);
}

TEST(ValidateRules, Harness002MissingParameter) {
    const auto fs = validate(bound(edit("      band: [0.5, 2.0]\n", "", kGoodBlock)));
    EXPECT_NE(expect_one(fs, "HARNESS-002", Severity::Error, {20, 7})
                  .find("falsifier stat_ratio_band requires `band` ([lo, hi] with lo <= hi)"),
              std::string::npos);
}

TEST(ValidateRules, Harness003IllTypedValue) {
    auto fs = validate(bound(edit("band: [0.5, 2.0]", "band: [2.0, 0.5]", kGoodBlock)));
    expect_one(fs, "HARNESS-003", Severity::Error, {26, 13});
    fs = validate(bound(edit("paths: [apr, gguf]", "paths: apr", kGoodBlock)));
    EXPECT_NE(expect_one(fs, "HARNESS-003", Severity::Error, {21, 14}).find("must be a list of 2 path names"),
              std::string::npos);
}

TEST(ValidateRules, Harness004UnknownParameter) {
    const auto fs = validate(bound(kGoodBlock + "      tolerance: 0.1\n"));
    expect_one(fs, "HARNESS-004", Severity::Error, {27, 7});
}

TEST(ValidateRules, Harness005To007UnknownSlotStatSample) {
    const auto fs = validate(bound(edit("slot: ffn_swiglu_inner", "slot: ffn_swiglu",
                                        edit("stat: std_dev", "stat: std",
                                             edit("sample: last_token", "sample: all_tokens", kGoodBlock)))));
    expect_one(fs, "HARNESS-005", Severity::Error, {23, 13});
    expect_one(fs, "HARNESS-006", Severity::Error, {24, 13});
    expect_one(fs, "HARNESS-007", Severity::Error, {22, 15});
}

TEST(ValidateRules, Harness008PathNames) {
    auto fs = validate(bound(edit("paths: [apr, gguf]", "paths: [apr, \"gguf cpu\"]", kGoodBlock)));
    expect_one(fs, "HARNESS-008", Severity::Error, {21, 20});
    ValidateOptions opts;
    opts.known_paths = std::vector<std::string>{"apr", "gguf_cuda"};
    fs = validate(bound(kGoodBlock), opts);
    EXPECT_NE(expect_one(fs, "HARNESS-008", Severity::Error, {21, 20}).find("which the suite does not define"),
              std::string::npos);
}

TEST(ValidateRules, Harness009ConflictingParameters) {
    const auto fs = validate(bound("      falsifier: slot_tolerance\n"
                                   "      paths: [gguf, gguf_cuda]\n"
                                   "      slot: qkv\n"
                                   "      slots: all\n"
                                   "      atol: 1e-3\n"));
    EXPECT_NE(expect_one(fs, "HARNESS-009", Severity::Error, {23, 7}).find("give only one of `slot` or `slots`"),
              std::string::npos);
}

TEST(ValidateRules, CountsBoundAndUnboundTests) {
    const Contract c = load_contract_text(bound(kGoodBlock), "t.yaml");
    const TestCounts t = count_tests(c);
    EXPECT_EQ(t.total, 1u);
    EXPECT_EQ(t.bound, 1u);
    EXPECT_EQ(t.unbound, 0u);
    EXPECT_EQ(count_tests(load_contract_text(kBase, "t.yaml")).unbound, 1u);
}

TEST(ValidateRules, EveryRuleIsDocumentedOnce) {
    const auto& rules = validation_rules();
    std::vector<std::string> ids;
    for (const auto& r : rules) ids.emplace_back(r.id);
    for (const char* id : {"SCHEMA-001", "SCHEMA-017", "PROVABILITY-001", "SCHEMA-100", "SCHEMA-106", "HARNESS-001",
                           "HARNESS-009"}) {
        EXPECT_EQ(std::count(ids.begin(), ids.end(), id), 1) << id;
    }
    EXPECT_EQ(rules.size(), 34u);
}

TEST(ValidateRules, DocsListEveryRuleFalsifierAndParameter) {
    const auto doc_path = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "docs" / "contracts.md";
    std::ifstream in(doc_path);
    ASSERT_TRUE(in) << doc_path;
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string doc = ss.str();
    for (const auto& r : validation_rules()) {
        const std::string row = "| " + std::string(r.id) + " | " + (r.severity == Severity::Error ? "error" : "warning");
        EXPECT_NE(doc.find(row), std::string::npos) << "docs/contracts.md lacks the row for " << r.id;
    }
    for (const auto& spec : falsifiers::Registry::builtin().specs()) {
        const auto at = doc.find("### `" + spec.name + "`");
        ASSERT_NE(at, std::string::npos) << spec.name;
        for (const auto& p : spec.params) {
            EXPECT_NE(doc.find("| `" + p.name + "` | " + p.type_text() + " |", at), std::string::npos)
                << spec.name << "." << p.name;
        }
    }
}

TEST(ValidateRules, FindingFormat) {
    EXPECT_EQ(format_finding({Severity::Error, "SCHEMA-008", "msg", {41, 7}}, "contracts/x.yaml"),
              "[ERROR] SCHEMA-008: contracts/x.yaml:41:7: msg");
    EXPECT_EQ(format_finding({Severity::Warning, "SCHEMA-013", "no gate", {}}, "x.yaml"),
              "[WARN] SCHEMA-013: x.yaml: no gate");
}

}  // namespace
}  // namespace parity::contract
