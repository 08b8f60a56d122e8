// The contract loader: schema fields, aliases, both equation forms, marks, unknown keys, and the
// shape problems it reports (SCHEMA-100..105) or throws on (YAML syntax).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"
#include "harness/contract/yaml_limits.h"
#include "test_support.h"
#include "yaml_bombs.h"

namespace parity::contract {
namespace {

std::filesystem::path data_dir() { return std::filesystem::path(__FILE__).parent_path() / "data"; }

Contract load(const std::string& yaml) { return load_contract_text(yaml, "t.yaml"); }

const Finding* find_rule(const Contract& c, const std::string& rule) {
    for (const auto& f : c.load_findings) {
        if (f.rule == rule) return &f;
    }
    return nullptr;
}

std::string dump(const Contract& c) {
    std::string s;
    for (const auto& f : c.load_findings) {
        s += f.rule + " " + std::to_string(f.mark.line) + ":" + std::to_string(f.mark.column) + " " + f.message + "\n";
    }
    return s;
}

TEST(ContractLoader, ReadsEverySectionOfARealisticContract) {
    const Contract c = load_contract_file(data_dir() / "parity-bound-v1.yaml");
    EXPECT_TRUE(c.load_findings.empty()) << dump(c);
    EXPECT_TRUE(c.unknown_keys.empty());
    ASSERT_TRUE(c.metadata.present);
    const Metadata& m = c.metadata.value;
    EXPECT_EQ(m.version.value, "1.0.0");
    EXPECT_EQ(m.description.value, "APR vs GGUF forward parity on the last token");
    ASSERT_EQ(m.references.value.size(), 1u);
    EXPECT_EQ(m.references.value[0].value, "DESIGN.md, Falsifiers");
    ASSERT_EQ(m.depends_on.value.size(), 1u);
    EXPECT_EQ(m.depends_on.value[0].value, "rmsnorm-kernel-v1");
    EXPECT_FALSE(m.kind.present);
    EXPECT_EQ(c.effective_kind(), ContractKind::Kernel);

    ASSERT_EQ(c.equations.size(), 1u);
    EXPECT_EQ(c.equations[0].name, "std_ratio");
    EXPECT_EQ(c.equations[0].formula.value, "r_i = std(APR_i) / std(GGUF_i)");
    EXPECT_EQ(c.equations[0].invariants.value.size(), 1u);
    EXPECT_FALSE(c.equations_as_list.value);

    ASSERT_EQ(c.proof_obligations.value.size(), 2u);
    EXPECT_EQ(c.proof_obligations.value[0].type.value, ObligationType::Bound);
    EXPECT_EQ(c.proof_obligations.value[1].type.value, ObligationType::Equivalence);
    EXPECT_EQ(c.proof_obligations.value[1].formal.value, "count(APR_i) = count(GGUF_i)");

    const auto& tests = c.falsification_tests.value;
    ASSERT_EQ(tests.size(), 3u);
    EXPECT_EQ(tests[0].id.value, "FALSIFY-PB-001");
    EXPECT_EQ(tests[0].prediction.value,
              "for every layer i, std(APR)/std(GGUF) in [0.5, 2.0] on the last token");
    ASSERT_TRUE(tests[0].harness);
    EXPECT_EQ(tests[0].harness->falsifier.value, "stat_ratio_band");
    EXPECT_TRUE(tests[1].bound());
    EXPECT_FALSE(tests[2].bound());
    EXPECT_EQ(tests[2].test.value, "pv run contracts/ --suite ctest.cfg");

    ASSERT_EQ(c.kani_harnesses.value.size(), 1u);
    EXPECT_EQ(c.kani_harnesses.value[0].bound.value, 4);
    EXPECT_EQ(c.kani_harnesses.value[0].strategy.value, KaniStrategy::BoundedInt);
    ASSERT_TRUE(c.qa_gate);
    EXPECT_EQ(c.qa_gate->checks.value.size(), 2u);
}

TEST(ContractLoader, MarksPointAtKeysAndValues) {
    const Contract c = load_contract_file(data_dir() / "parity-bound-v1.yaml");
    const Metadata& m = c.metadata.value;
    EXPECT_EQ(c.metadata.mark, (Mark{3, 1}));
    EXPECT_EQ(m.version.mark, (Mark{4, 3}));
    EXPECT_EQ(m.version.value_mark, (Mark{4, 12}));
    EXPECT_EQ(m.references.value[0].mark, (Mark{9, 7}));
    EXPECT_EQ(c.equations[0].mark, (Mark{14, 3}));
    EXPECT_EQ(c.equations[0].formula.mark, (Mark{15, 5}));
    EXPECT_EQ(c.proof_obligations.mark, (Mark{20, 1}));
    EXPECT_EQ(c.proof_obligations.value[1].mark, (Mark{24, 5}));
    const auto& t = c.falsification_tests.value[0];
    EXPECT_EQ(t.mark, (Mark{29, 5}));
    EXPECT_EQ(t.id.mark, (Mark{29, 5}));
    EXPECT_EQ(t.prediction.mark, (Mark{31, 5}));
    EXPECT_EQ(t.prediction.value_mark, (Mark{31, 17}));
    ASSERT_TRUE(t.harness);
    EXPECT_EQ(t.harness->mark, (Mark{33, 5}));
    EXPECT_EQ(t.harness->falsifier.mark, (Mark{34, 7}));
    EXPECT_EQ(t.harness->falsifier.value_mark, (Mark{34, 18}));
    // The parameter tree keeps every place too.
    const falsifiers::ParamNode& b = t.harness->block;
    ASSERT_EQ(b.kind, falsifiers::ParamNode::Kind::Mapping);
    ASSERT_EQ(b.members.size(), 7u);
    EXPECT_EQ(b.members[1].key, "paths");
    EXPECT_EQ(b.members[1].key_pos.line, 35);
    EXPECT_EQ(b.members[1].key_pos.column, 7);
    ASSERT_EQ(b.members[1].value.items.size(), 2u);
    EXPECT_EQ(b.members[1].value.items[1].text, "gguf");
    EXPECT_EQ(b.members[1].value.items[1].pos.line, 35);
    EXPECT_EQ(b.members[1].value.items[1].pos.column, 20);
    EXPECT_FALSE(b.members[1].value.items[1].quoted);
    EXPECT_EQ(c.kani_harnesses.value[0].bound.value_mark, (Mark{58, 12}));
}

TEST(ContractLoader, LegacyAliasesAndListFormEquations) {
    const Contract c = load_contract_file(data_dir() / "legacy-aliases-v1.yaml");
    EXPECT_EQ(c.effective_kind(), ContractKind::Pattern);
    ASSERT_TRUE(c.equations_as_list.present);
    EXPECT_TRUE(c.equations_as_list.value);
    ASSERT_EQ(c.equations.size(), 2u);
    EXPECT_EQ(c.equations[0].name, "eq_one");
    EXPECT_EQ(c.equations[0].mark, (Mark{11, 5}));
    EXPECT_EQ(c.equations[1].name, "equation_1");  // upstream's name for an item without `id`
    EXPECT_EQ(c.equations[1].formula.value, "c = d");

    const ProofObligation& o = c.proof_obligations.value.at(0);
    EXPECT_FALSE(o.type.present);  // defaults to invariant
    EXPECT_EQ(o.property.value, "a equals b");
    EXPECT_EQ(o.property.key, "statement");
    EXPECT_EQ(o.formal.value, "grep -q a b");
    EXPECT_EQ(o.formal.key, "verification");

    const FalsificationTest& t = c.falsification_tests.value.at(0);
    EXPECT_EQ(t.rule.value, "a equals b");
    EXPECT_EQ(t.rule.key, "description");
    EXPECT_EQ(t.prediction.value, "exit 0");
    EXPECT_EQ(t.prediction.key, "expected");
    EXPECT_EQ(t.test.value, "test a = a");
    EXPECT_EQ(t.if_fails.value, "a differs from b");
    EXPECT_EQ(t.if_fails.key, "fails_if");
    EXPECT_EQ(t.if_fails.mark, (Mark{23, 5}));

    // metadata.status and proof_obligations[].id are not in the schema: kept and warned.
    ASSERT_EQ(c.unknown_keys.size(), 2u) << dump(c);
    EXPECT_EQ(c.unknown_keys[0].section, "metadata");
    EXPECT_EQ(c.unknown_keys[0].key, "status");
    EXPECT_EQ(c.unknown_keys[0].mark, (Mark{9, 3}));
    EXPECT_EQ(c.unknown_keys[0].value, "PROPOSED");
    EXPECT_EQ(c.unknown_keys[1].section, "proof_obligations[0]");
    EXPECT_EQ(c.unknown_keys[1].key, "id");
    ASSERT_EQ(c.load_findings.size(), 2u) << dump(c);
    EXPECT_EQ(c.load_findings[0].rule, "SCHEMA-100");
    EXPECT_EQ(c.load_findings[0].severity, Severity::Warning);
    EXPECT_EQ(c.load_findings[0].mark, (Mark{9, 3}));
    EXPECT_NE(c.load_findings[0].message.find("unknown key `status` in `metadata`"), std::string::npos);
}

TEST(ContractLoader, UnknownKeysKeepTheirValue) {
    const Contract c = load("metadata: {version: '1', description: d, references: [r]}\n"
                            "status_v1_2_0: {verdict: PASS, layers: [1, 2]}\n");
    ASSERT_EQ(c.unknown_keys.size(), 1u);
    EXPECT_EQ(c.unknown_keys[0].section, "");
    EXPECT_EQ(c.unknown_keys[0].mark, (Mark{2, 1}));
    EXPECT_EQ(c.unknown_keys[0].value, "{verdict: PASS, layers: [1, 2]}");
    ASSERT_EQ(c.load_findings.size(), 1u);
    EXPECT_NE(c.load_findings[0].message.find("at the top level"), std::string::npos);
}

TEST(ContractLoader, DuplicateEquationIdsInListForm) {
    const Contract c = load("metadata: {version: '1', description: d, references: [r]}\n"
                            "equations:\n"
                            "  - id: e\n"
                            "    formula: a\n"
                            "  - id: e\n"
                            "    formula: b\n");
    const Finding* f = find_rule(c, "SCHEMA-104");
    ASSERT_NE(f, nullptr) << dump(c);
    EXPECT_EQ(f->mark, (Mark{5, 5}));
    EXPECT_NE(f->message.find("equation id `e` is used twice (first at line 3)"), std::string::npos);
    EXPECT_EQ(c.equations.size(), 2u);  // both kept
}

TEST(ContractLoader, WrongTypesAreFindingsWithThePlace) {
    const Contract c = load("metadata:\n"
                            "  version: [1, 0]\n"
                            "  description: d\n"
                            "  references: a single string\n"
                            "  registry: yes please\n"
                            "proof_obligations:\n"
                            "  - property: p\n"
                            "    tolerance: \"1e-5\"\n"
                            "  - just a string\n"
                            "kani_harnesses:\n"
                            "  - id: K\n"
                            "    obligation: o\n"
                            "    bound: -3\n");
    std::vector<std::pair<Mark, std::string>> got;
    for (const auto& f : c.load_findings) {
        EXPECT_EQ(f.rule, "SCHEMA-102") << f.message;
        EXPECT_EQ(f.severity, Severity::Error);
        got.emplace_back(f.mark, f.message);
    }
    ASSERT_EQ(got.size(), 6u) << dump(c);
    EXPECT_EQ(got[0].first, (Mark{2, 12}));
    EXPECT_NE(got[0].second.find("`metadata.version` must be a string, got a list"), std::string::npos);
    EXPECT_EQ(got[1].first, (Mark{4, 15}));
    EXPECT_NE(got[1].second.find("`metadata.references` must be a list of strings, got `a single string`"),
              std::string::npos);
    EXPECT_EQ(got[2].first, (Mark{5, 13}));
    EXPECT_NE(got[2].second.find("`metadata.registry` must be true or false"), std::string::npos);
    EXPECT_EQ(got[3].first, (Mark{8, 16}));
    EXPECT_NE(got[3].second.find("`proof_obligations[0].tolerance` must be a finite number, got the string \"1e-5\""),
              std::string::npos);
    EXPECT_EQ(got[4].first, (Mark{9, 5}));
    EXPECT_NE(got[4].second.find("`proof_obligations[1]` must be a mapping"), std::string::npos);
    EXPECT_EQ(got[5].first, (Mark{13, 12}));
    EXPECT_NE(got[5].second.find("`kani_harnesses[0].bound` must be an integer in [0, 4294967295], got `-3`"),
              std::string::npos);
}

TEST(ContractLoader, UnquotedExponentIsANumber) {
    // YAML 1.2 (and upstream's serde_yaml) reads 1e-5 as a float; PyYAML would not.
    const Contract c = load("metadata: {version: '1', description: d, references: [r]}\n"
                            "proof_obligations:\n"
                            "  - property: p\n"
                            "    tolerance: 1e-5\n");
    EXPECT_TRUE(c.load_findings.empty()) << dump(c);
    EXPECT_DOUBLE_EQ(c.proof_obligations.value[0].tolerance.value, 1e-5);
}

TEST(ContractLoader, EnumValuesAreChecked) {
    const Contract c = load("metadata:\n"
                            "  version: '1'\n"
                            "  description: d\n"
                            "  references: [r]\n"
                            "  kind: model_family\n"
                            "proof_obligations:\n"
                            "  - type: invarient\n"
                            "    property: p\n"
                            "    lean: {theorem: T, status: done}\n"
                            "kani_harnesses:\n"
                            "  - id: K\n"
                            "    obligation: o\n"
                            "    strategy: brute_force\n");
    ASSERT_EQ(c.load_findings.size(), 4u) << dump(c);
    for (const auto& f : c.load_findings) EXPECT_EQ(f.rule, "SCHEMA-103");
    EXPECT_EQ(c.load_findings[0].mark, (Mark{5, 9}));
    EXPECT_NE(c.load_findings[0].message.find("`metadata.kind` is `model_family`, which is not one of kernel, registry,"),
              std::string::npos);
    EXPECT_NE(c.load_findings[0].message.find("(did you mean `model-family`?)"), std::string::npos);
    EXPECT_NE(c.load_findings[1].message.find("did you mean `invariant`?"), std::string::npos);
    EXPECT_EQ(c.load_findings[1].mark, (Mark{7, 11}));
    EXPECT_NE(c.load_findings[2].message.find("`proof_obligations[0].lean.status` is `done`"), std::string::npos);
    EXPECT_NE(c.load_findings[3].message.find("not one of exhaustive, stub_float, compositional, bounded_int"),
              std::string::npos);
    // An unknown kind is not taken as kernel silently: the field is left unset.
    EXPECT_FALSE(c.metadata.value.kind.present);
}

TEST(ContractLoader, RequiredKeys) {
    Contract c = load("equations: {}\n");
    const Finding* f = find_rule(c, "SCHEMA-101");
    ASSERT_NE(f, nullptr);
    EXPECT_NE(f->message.find("missing `metadata`"), std::string::npos);
    EXPECT_FALSE(f->mark.known());

    c = load("metadata:\n  references: [r]\n"
             "falsification_tests:\n  - rule: r\n    prediction: p\n"
             "kani_harnesses:\n  - id: K\n"
             "kernel_structure: {}\n");
    std::vector<std::string> messages;
    for (const auto& x : c.load_findings) {
        EXPECT_EQ(x.rule, "SCHEMA-101");
        messages.push_back(std::to_string(x.mark.line) + ":" + std::to_string(x.mark.column) + " " + x.message);
    }
    ASSERT_EQ(messages.size(), 5u) << dump(c);
    EXPECT_EQ(messages[0], "1:1 `metadata` is missing the required key `version`");
    EXPECT_EQ(messages[1], "1:1 `metadata` is missing the required key `description`");
    EXPECT_EQ(messages[2], "4:5 `falsification_tests[0]` is missing the required key `id`");
    EXPECT_EQ(messages[3],
              "7:5 `kani_harnesses[0]` is missing the required key `obligation` (the proof obligation this harness "
              "proves)");
    EXPECT_EQ(messages[4], "8:1 `kernel_structure` is missing the required key `phases`");
}

TEST(ContractLoader, DuplicateKeysAndAliasesGivenTwice) {
    const Contract c = load("metadata:\n"
                            "  version: '1'\n"
                            "  description: d\n"
                            "  references: [r]\n"
                            "  version: '2'\n"
                            "falsification_tests:\n"
                            "  - id: F\n"
                            "    rule: r\n"
                            "    description: the same field again\n"
                            "    prediction: p\n"
                            "    if_fails: x\n");
    ASSERT_EQ(c.load_findings.size(), 2u) << dump(c);
    EXPECT_EQ(c.load_findings[0].rule, "SCHEMA-104");
    EXPECT_EQ(c.load_findings[0].mark, (Mark{5, 3}));
    EXPECT_NE(c.load_findings[0].message.find("duplicate key `metadata.version` (first at line 2)"), std::string::npos);
    EXPECT_EQ(c.metadata.value.version.value, "1");  // the first one counts
    EXPECT_EQ(c.load_findings[1].rule, "SCHEMA-105");
    EXPECT_EQ(c.load_findings[1].mark, (Mark{9, 5}));
    EXPECT_NE(c.load_findings[1].message.find("`description` is an alias of `rule`"), std::string::npos);
    EXPECT_EQ(c.falsification_tests.value[0].rule.value, "r");
}

TEST(ContractLoader, EmptyAndNonMappingDocuments) {
    Contract c = load("");
    ASSERT_EQ(c.load_findings.size(), 1u);
    EXPECT_EQ(c.load_findings[0].rule, "SCHEMA-101");
    EXPECT_NE(c.load_findings[0].message.find("the document is empty"), std::string::npos);

    c = load("# only a comment\n");
    ASSERT_EQ(c.load_findings.size(), 1u);
    EXPECT_EQ(c.load_findings[0].rule, "SCHEMA-101");

    c = load("- a\n- b\n");
    ASSERT_EQ(c.load_findings.size(), 1u);
    EXPECT_EQ(c.load_findings[0].rule, "SCHEMA-102");
    EXPECT_NE(c.load_findings[0].message.find("mapping at the top level, got a list"), std::string::npos);
}

TEST(ContractLoader, SyntaxErrorsThrowWithLineAndColumn) {
    try {
        (void)load("metadata:\n  version: '1'\n  references: [a,\n  description: x\n");
        FAIL() << "expected ContractParseError";
    } catch (const ContractParseError& e) {
        EXPECT_EQ(e.file(), "t.yaml");
        EXPECT_TRUE(e.mark().known());
        EXPECT_NE(std::string(e.what()).find("t.yaml:" + std::to_string(e.mark().line) + ":"), std::string::npos);
        EXPECT_NE(e.cause().find("YAML syntax error"), std::string::npos) << e.what();
    }
    try {
        (void)load("metadata: {}\n---\nmetadata: {}\n");
        FAIL() << "expected ContractParseError";
    } catch (const ContractParseError& e) {
        EXPECT_NE(e.cause().find("holds 2 YAML documents"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)load("a: b: c\n"), ContractParseError);
    EXPECT_THROW((void)load("a: *undefined_anchor\n"), ContractParseError);
}

// A token that cannot start a value at the top level (found by contract_fuzz in a comment
// block of a real contract): yaml-cpp 0.7's LoadAll appends empty documents until memory runs
// out; the loader reports a syntax error at once.
TEST(ContractLoader, StrayCommaIsASyntaxErrorNotAnEndlessLoop) {
    const std::vector<std::pair<std::string, Mark>> cases = {
        {",\n", {1, 1}},
        {"# paths:\n#   gguf = the Q4_K_M GGUF file,\n  , incremental (KV cache)\nmetadata:\n  version: '1'\n", {3, 3}},
        {"- a\n, b\n", {2, 1}},
    };
    for (const auto& [text, mark] : cases) {
        const auto start = std::chrono::steady_clock::now();
        try {
            (void)load(text);
            ADD_FAILURE() << "expected ContractParseError for " << text;
        } catch (const ContractParseError& e) {
            EXPECT_EQ(e.mark(), mark) << e.what();
            EXPECT_EQ(e.cause(), "YAML syntax error: unexpected `,` where a value should start") << e.what();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    }
}

TEST(ContractLoader, MissingFileIsAnIoError) {
    try {
        (void)load_contract_file("/nonexistent/contract.yaml");
        FAIL() << "expected IoError";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/contract.yaml"), std::string::npos);
    }
}

TEST(ContractLoader, HarnessBlockKeepsQuotesNullsAndNonMappings) {
    const Contract c = load("metadata: {version: '1', description: d, references: [r]}\n"
                            "falsification_tests:\n"
                            "  - id: A\n"
                            "    prediction: p\n"
                            "    harness:\n"
                            "      falsifier: output_matches\n"
                            "      regex: \"4\"\n"
                            "      n_tokens: 8\n"
                            "      path:\n"
                            "  - id: B\n"
                            "    prediction: p\n"
                            "    harness: stat_ratio_band\n");
    EXPECT_TRUE(c.load_findings.empty()) << dump(c);
    const auto& a = c.falsification_tests.value.at(0).harness->block;
    EXPECT_TRUE(a.find("regex")->quoted);
    EXPECT_FALSE(a.find("n_tokens")->quoted);
    EXPECT_EQ(a.find("path")->kind, falsifiers::ParamNode::Kind::Null);
    EXPECT_EQ(a.find("path")->pos.line, 9);  // an empty value points at its key
    const auto& b = c.falsification_tests.value.at(1).harness;
    ASSERT_TRUE(b);
    EXPECT_EQ(b->block.kind, falsifiers::ParamNode::Kind::Scalar);
    EXPECT_FALSE(b->falsifier.present);
}

TEST(ContractLoader, CyclicAndExplosiveAliasesDoNotHang) {
    // yaml-cpp resolves `*a` inside the node anchored `a` to that node: a cycle.
    Contract c = load("metadata: {version: '1', description: d, references: [r]}\n"
                      "falsification_tests:\n"
                      "  - id: A\n"
                      "    prediction: p\n"
                      "    harness: &h {falsifier: finite, path: *h}\n"
                      "unknown_cycle: &u [*u]\n");
    EXPECT_NE(find_rule(c, "SCHEMA-102"), nullptr) << dump(c);
    ASSERT_EQ(c.unknown_keys.size(), 1u);
    EXPECT_LE(c.unknown_keys[0].value.size(), 410u);

    std::string bomb = "metadata: {version: '1', description: d, references: [r]}\n"
                       "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
        bomb += "]\n";
    }
    bomb += "falsification_tests:\n  - id: B\n    prediction: p\n    harness: {falsifier: finite, path: *a8}\n";
    c = load(bomb);  // 10^9 nodes if expanded: must stay bounded
    EXPECT_NE(find_rule(c, "SCHEMA-102"), nullptr) << dump(c);
    EXPECT_EQ(c.unknown_keys.size(), 9u);
}

// The nesting pre-scan counts flow brackets as YAML does: not in quotes, comments or block
// scalars, and an apostrophe inside a word opens no quote.
TEST(YamlLimits, NestingPreScanCountsOnlyFlowBrackets) {
    const std::string deep(257, '[');
    EXPECT_EQ(find_too_deep_nesting(std::string(256, '[')), std::nullopt);
    EXPECT_EQ(find_too_deep_nesting("a: x\nb: " + deep), (Mark{2, 260}));
    EXPECT_EQ(find_too_deep_nesting(std::string(200, '{') + "\n" + std::string(57, '[')), (Mark{2, 57}));
    EXPECT_EQ(find_too_deep_nesting("a: \"" + deep + "\"\nb: '" + deep + " it''s'\n# " + deep + "\n"),
              std::nullopt);
    EXPECT_EQ(find_too_deep_nesting("a: |\n  " + deep + "\n\n    \"\nb: >-\n  '\n"), std::nullopt);
    EXPECT_EQ(find_too_deep_nesting("a: |\n  \"\nb: " + deep), (Mark{3, 260})) << "a block scalar ends";
    EXPECT_EQ(find_too_deep_nesting("a: it's\nb: " + deep), (Mark{2, 260}));
    EXPECT_EQ(find_too_deep_nesting("a: \"x\\\" " + deep + "\""), std::nullopt) << "escaped quote";
    EXPECT_EQ(find_too_deep_nesting("a: [" + std::string(100, '[') + std::string(101, ']') + "]" + deep.substr(1)),
              std::nullopt);
}

TEST(ContractLoader, DeepNestingIsRefusedBeforeParsing) {
    try {
        (void)load("metadata:\n  version: " + std::string(300, '[') + "\n");
        FAIL() << "expected ContractParseError";
    } catch (const ContractParseError& e) {
        EXPECT_EQ(e.mark(), (Mark{2, 268}));
        EXPECT_EQ(e.cause(), "YAML nests deeper than 256 levels of [ ] / { }; refused before parsing");
    }
}

TEST(ContractLoader, AliasesRepeatingABigScalarAreRefused) {
    // 10000 aliases of a 64 KiB scalar under `harness` (copied into the parameter tree) and
    // under `references` (copied into the contract): 640 MB if read.
    for (const std::string& where : {std::string("metadata:\n  version: '1'\n  references: "),
                                     std::string("falsification_tests:\n  - id: A\n    harness: ")}) {
        const std::string text = where + testing::repeated_scalar("", 'x');
        try {
            (void)load(text);
            FAIL() << "expected ContractParseError";
        } catch (const ContractParseError& e) {
            EXPECT_EQ(e.mark().line, 3) << e.what();
            EXPECT_NE(e.cause().find("aliases repeat too much of the document"), std::string::npos) << e.what();
        }
    }
    // The same scalar used a few times is fine.
    const Contract c = load("metadata:\n  version: '1'\n  description: d\n" + std::string("  references: ") +
                            testing::repeated_scalar("", 'x', 3));
    EXPECT_EQ(c.metadata.value.references.value.size(), 4u);
}

TEST(ContractLoader, EveryPrefixAndByteFlipLoadsOrFailsCleanly) {
    // Truncations and single-byte corruptions of a real contract: each either loads (and
    // validates) or throws ContractParseError — never anything else, never a crash.
    std::ifstream in(data_dir() / "parity-bound-v1.yaml", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(text.size(), 1000u);
    std::size_t loaded = 0, rejected = 0;
    const auto attempt = [&](const std::string& t) {
        try {
            const Contract c = load_contract_text(t, "fuzz.yaml");
            (void)validate_contract(c);
            ++loaded;
        } catch (const ContractParseError&) {
            ++rejected;
        }
    };
    for (std::size_t n = 0; n <= text.size(); n += 7) attempt(text.substr(0, n));
    const std::string bytes = ":-[]{}#&*!|>'\"%@`,? \t\n\x01\xff";
    for (std::size_t i = 0; i < text.size(); i += 5) {
        std::string t = text;
        t[i] = bytes[i % bytes.size()];
        attempt(t);
    }
    EXPECT_GT(loaded, 0u);
    EXPECT_GT(rejected, 0u);
}

TEST(ContractLoader, RegistryFlagMakesAKernelContractARegistry) {
    Contract c = load("metadata: {version: '1', description: d, references: [r], registry: true}\n");
    EXPECT_EQ(c.effective_kind(), ContractKind::Registry);
    c = load("metadata: {version: '1', description: d, references: [r], registry: true, kind: schema}\n");
    EXPECT_EQ(c.effective_kind(), ContractKind::Schema);
    c = load("metadata: {version: '1', description: d, references: [r], registry: false}\n");
    EXPECT_EQ(c.effective_kind(), ContractKind::Kernel);
}

TEST(ContractLoader, EnumSpellingsRoundTrip) {
    for (auto s : contract_kind_names()) EXPECT_EQ(to_string(*parse_contract_kind(s)), s);
    for (auto s : obligation_type_names()) EXPECT_EQ(to_string(*parse_obligation_type(s)), s);
    for (auto s : kani_strategy_names()) EXPECT_EQ(to_string(*parse_kani_strategy(s)), s);
    for (auto s : lean_status_names()) EXPECT_EQ(to_string(*parse_lean_status(s)), s);
    for (auto s : enforcement_level_names()) EXPECT_EQ(to_string(*parse_enforcement_level(s)), s);
    EXPECT_EQ(contract_kind_names().size(), 13u);
    EXPECT_EQ(obligation_type_names().size(), 28u);
    EXPECT_FALSE(parse_contract_kind("Kernel"));
}

}  // namespace
}  // namespace parity::contract
