// `pv validate` through the in-process CLI: output shape, exit codes 0/1/2, directories.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "pv_runner.h"
#include "test_support.h"
#include "yaml_bombs.h"

namespace parity {
namespace {

using testing::run_pv;

std::filesystem::path data_dir() { return std::filesystem::path(__FILE__).parent_path() / "data"; }

void write_text(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::string line;
    for (char ch : s) {
        if (ch == '\n') {
            out.push_back(line);
            line.clear();
        } else {
            line += ch;
        }
    }
    if (!line.empty()) out.push_back(line);
    return out;
}

const std::string kValid =
    "metadata: {version: '1.0.0', description: d, references: [paper]}\n"
    "equations: {f: {formula: 'f(x) = x'}}\n"
    "proof_obligations: [{type: invariant, property: p}]\n"
    "falsification_tests:\n"
    "  - id: FALSIFY-V-001\n"
    "    rule: r\n"
    "    prediction: p\n"
    "    if_fails: f\n"
    "kani_harnesses: [{id: K, obligation: p, bound: 4}]\n"
    "qa_gate: {id: Q, name: q}\n";

const std::string kInvalid =
    "metadata: {version: '1.0.0', description: d, references: [paper]}\n"  // 1
    "equations: {f: {formula: 'f(x) = x'}}\n"                               // 2
    "proof_obligations: [{type: invariant, property: p}]\n"                 // 3
    "falsification_tests:\n"                                                // 4
    "  - id: FALSIFY-X-002\n"                                               // 5
    "    rule: r\n"                                                         // 6
    "    prediction: ''\n"                                                  // 7
    "    if_fails: f\n"                                                     // 8
    "    flavour: strawberry\n"                                             // 9
    "kani_harnesses: [{id: K, obligation: p, bound: 4}]\n"                  // 10
    "qa_gate: {id: Q, name: q}\n";                                          // 11

TEST(PvValidate, ValidFileMatchesUpstreamShape) {
    testing::TempDir dir;
    const auto path = (dir / "ok.yaml").string();
    write_text(path, kValid);
    const auto r = run_pv({"validate", path});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "\n0 error(s), 0 warning(s)\nContract is valid.\n1 falsification tests: 0 bound, 1 unbound\n");
    EXPECT_EQ(r.err, "");
}

TEST(PvValidate, ErrorsAndWarningsOneLineEachThenCounts) {
    testing::TempDir dir;
    const auto path = (dir / "x.yaml").string();
    write_text(path, kInvalid);
    const auto r = run_pv({"validate", path});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 5u) << r.out;
    EXPECT_EQ(lines[0], "[ERROR] SCHEMA-008: " + path +
                            ":7:5: falsification test FALSIFY-X-002 has an empty prediction: every test must make a "
                            "falsifiable prediction");
    EXPECT_EQ(lines[1].rfind("[WARN] SCHEMA-100: " + path + ":9:5: unknown key `flavour`", 0), 0u) << lines[1];
    EXPECT_EQ(lines[2], "");
    EXPECT_EQ(lines[3], "1 error(s), 1 warning(s)");
    EXPECT_EQ(lines[4], "1 falsification tests: 0 bound, 1 unbound");
    EXPECT_EQ(r.out.find("Contract is valid."), std::string::npos);

    const auto q = run_pv({"validate", "--quiet", path});
    EXPECT_EQ(q.code, 1);
    EXPECT_EQ(q.out.find("SCHEMA-100"), std::string::npos) << q.out;
    EXPECT_NE(q.out.find("1 error(s), 1 warning(s)"), std::string::npos) << q.out;
}

TEST(PvValidate, WarningsAloneStillValid) {
    testing::TempDir dir;
    const auto path = (dir / "w.yaml").string();
    write_text(path, kValid + "status: PROPOSED\n");
    const auto r = run_pv({"validate", path});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("0 error(s), 1 warning(s)\nContract is valid.\n"), std::string::npos) << r.out;
}

TEST(PvValidate, YamlSyntaxErrorExitsTwoWithLineAndColumn) {
    testing::TempDir dir;
    const auto path = (dir / "broken.yaml").string();
    write_text(path, "metadata:\n  version: '1'\n  references: [a,\n  description: x\n");
    const auto r = run_pv({"validate", path});
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("pv validate: error: " + path + ":", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(": YAML syntax error: "), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("1 error(s), 0 warning(s)"), std::string::npos) << r.out;
}

// Alias bombs and 100k-deep nesting: `pv validate` answers within a second, with findings or
// with a one-line error naming the place and the cause.
struct Hostile {
    std::string name;
    std::string text;
    int code;
    std::string expected;  ///< in stdout (code 1) or stderr (code 2)
};

TEST(PvValidate, AliasBombsAndDeepNestingAnswerWithinASecond) {
    const std::string meta = "metadata:\n  version: '1'\n  description: d\n  references: ";
    const std::vector<Hostile> cases = {
        {"laughs", meta + testing::laughs(""), 1, "`metadata.references[9]` must be a string, got a list"},
        {"scalar", meta + testing::repeated_scalar("", 'x'), 2,
         ": aliases repeat too much of the document: reading it would visit more than"},
        {"brackets", "a: " + testing::nested("[", "", "]", 100000), 2,
         ":1:260: YAML nests deeper than 256 levels of [ ] / { }; refused before parsing"},
        {"braces", testing::nested("{a: ", "1", "}", 100000), 2,
         ":1:1025: YAML nests deeper than 256 levels of [ ] / { }; refused before parsing"},
        {"dashes", testing::nested("- ", "x", "", 100000), 2, ": YAML nests deeper than the parser's limit"},
    };
    testing::TempDir dir;
    for (const auto& c : cases) {
        const auto path = (dir / (c.name + ".yaml")).string();
        write_text(path, c.text);
        const auto start = std::chrono::steady_clock::now();
        const auto r = run_pv({"validate", path});
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << c.name;
        EXPECT_EQ(r.code, c.code) << c.name << "\n" << r.out << r.err;
        if (c.code == 2) {
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
            EXPECT_EQ(r.err.rfind("pv validate: error: " + path + ":", 0), 0u) << c.name << ": " << r.err;
        }
        EXPECT_NE((c.code == 2 ? r.err : r.out).find(c.expected), std::string::npos) << c.name << ": " << r.out << r.err;
    }
}

TEST(PvValidate, MissingPathsAndUsage) {
    auto r = run_pv({"validate", "/nonexistent/contracts"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "pv validate: error: /nonexistent/contracts: no such file or directory\n");

    r = run_pv({"validate"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("missing PATH"), std::string::npos) << r.err;

    r = run_pv({"validate", "--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("pv validate PATH..."), std::string::npos);

    r = run_pv({"validate", "--paths", "apr,9bad", data_dir().string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("`9bad` is not a path name"), std::string::npos) << r.err;

    testing::TempDir dir;
    std::filesystem::create_directories(dir.path() / "empty");
    r = run_pv({"validate", (dir / "empty").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no contract files (*.yaml, *.yml) in this directory"), std::string::npos) << r.err;
}

TEST(PvValidate, DirectoriesRecurseSortedYamlAndYmlOnly) {
    testing::TempDir dir;
    write_text(dir / "c" / "b.yaml", kValid);
    write_text(dir / "c" / "a" / "z.yml", kInvalid);
    write_text(dir / "c" / "a" / "notes.txt", "not a contract");
    write_text(dir / "c" / "d" / "y.yaml", kValid);
    const auto root = (dir / "c").string();
    const auto r = run_pv({"validate", root});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    // Findings name files in sorted order: a/z.yml before b.yaml before d/y.yaml.
    EXPECT_NE(r.out.find("[ERROR] SCHEMA-008: " + root + "/a/z.yml:7:5:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n1 error(s), 1 warning(s)\n3 contracts: 2 valid, 1 invalid\n"
                         "3 falsification tests: 0 bound, 3 unbound\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("notes.txt"), std::string::npos);

    // A file given twice (directly and through its directory) is checked once.
    const auto twice = run_pv({"validate", (dir / "c" / "b.yaml").string(), root});
    EXPECT_NE(twice.out.find("3 contracts:"), std::string::npos) << twice.out;
}

TEST(PvValidate, AllValidDirectorySaysSo) {
    testing::TempDir dir;
    write_text(dir / "one.yaml", kValid);
    write_text(dir / "two.yaml", kValid);
    const auto r = run_pv({"validate", dir.path().string()});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("All 2 contracts are valid.\n2 contracts: 2 valid, 0 invalid\n"), std::string::npos) << r.out;
}

TEST(PvValidate, UnreadableFileAmongGoodOnesExitsTwoAndReportsTheRest) {
    testing::TempDir dir;
    write_text(dir / "a.yaml", kValid);
    write_text(dir / "b.yaml", "key: [unclosed\n");
    write_text(dir / "c.yaml", kInvalid);
    const auto r = run_pv({"validate", dir.path().string()});
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("b.yaml:"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("SCHEMA-008"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 contracts: 1 valid, 1 invalid, 1 unreadable"), std::string::npos) << r.out;
}

TEST(PvValidate, BoundTestsAreCountedAndCheckedAgainstKnownPaths) {
    const auto file = (data_dir() / "parity-bound-v1.yaml").string();
    auto r = run_pv({"validate", file});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Contract is valid.\n3 falsification tests: 2 bound, 1 unbound\n"), std::string::npos)
        << r.out;

    r = run_pv({"validate", "--paths", "apr", "--paths", "gguf_cpu", file});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("[ERROR] HARNESS-008: " + file + ":35:20: falsification test FALSIFY-PB-001: falsifier "
                         "stat_ratio_band: `paths` names path `gguf`, which the suite does not define (did you mean "
                         "`gguf_cpu`?)"),
              std::string::npos)
        << r.out;
    r = run_pv({"validate", "--paths", "apr,gguf", file});
    EXPECT_EQ(r.code, 0) << r.out;
}

TEST(PvValidate, TestCommandsAreNeverExecuted) {
    testing::TempDir dir;
    const auto marker = dir / "ran";
    const auto path = (dir / "t.yaml").string();
    std::string yaml = kValid;
    yaml.replace(yaml.find("    if_fails: f\n"), 16, "    if_fails: f\n    test: \"touch " + marker.string() + "\"\n");
    write_text(path, yaml);
    const auto r = run_pv({"validate", path});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(PvValidate, ListedInTopLevelHelp) {
    const auto r = run_pv({"--help"});
    EXPECT_NE(r.out.find("validate"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace parity
