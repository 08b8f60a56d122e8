// pv completion bash|zsh: the scripts list every command and every option each command's
// --help shows; bash completes real command lines (run through bash itself).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "cli/completion_script.h"
#include "harness/cli/command.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using testing::run_pv;

/// Every "--name" in the option column of a Boost.Program_options help text (lines starting
/// "  -h [ --help ]" or "  --suite arg"; descriptions may mention other commands' options).
std::set<std::string> long_options_in(const std::string& help) {
    std::set<std::string> out;
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("  -", 0) != 0) continue;
        const std::string column = line.substr(0, line.find("  ", 2));
        for (std::size_t p = column.find("--"); p != std::string::npos; p = column.find("--", p + 2)) {
            std::size_t e = p + 2;
            while (e < column.size() && (std::isalnum(static_cast<unsigned char>(column[e])) || column[e] == '-')) ++e;
            out.insert(column.substr(p, e - p));
        }
    }
    return out;
}

/// What bash completes for the words (a bash array body) with the cursor on word `cword`.
/// Runs in the script's folder (no ctest.cfg there).
std::string run_bash(const std::filesystem::path& script_file, const std::string& line_words, int cword) {
    const std::string cmd = "cd '" + script_file.parent_path().string() + "' && bash -c 'source \"" + script_file.string() + "\"; COMP_WORDS=(" + line_words +
                            "); COMP_CWORD=" + std::to_string(cword) + "; _pv; echo \"${COMPREPLY[*]}\"' 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
    std::string out;
    if (!pipe) return out;
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe.get()) != nullptr) out += buf.data();
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

TEST(Completion, ChoicesComeFromTheHelpText) {
    using cli::option_choices;
    EXPECT_EQ(option_choices("cpu | cuda"), (std::vector<std::string>{"cpu", "cuda"}));
    EXPECT_EQ(option_choices("auto | always | never: colour the verdicts"),
              (std::vector<std::string>{"auto", "always", "never"}));
    EXPECT_EQ(option_choices("KV cache element type: f32 | f16 (llama.cpp's default)"),
              (std::vector<std::string>{"f32", "f16"}));
    EXPECT_EQ(option_choices("dequant (weights to f32) | ggml (as ggml)"), std::vector<std::string>{});
    EXPECT_EQ(option_choices("worker threads (0: every hardware thread)"), std::vector<std::string>{});
    EXPECT_EQ(option_choices("tiny"), std::vector<std::string>{});
}

TEST(Completion, UnknownShellIsAUsageError) {
    const auto r = run_pv({"completion", "fish"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("unknown shell 'fish' (expected bash or zsh)"), std::string::npos) << r.err;
    EXPECT_EQ(run_pv({"completion"}).code, 2);
}

TEST(Completion, BothScriptsNameEveryOptionOfEveryCommandsHelp) {
    const auto bash = run_pv({"completion", "bash"});
    const auto zsh = run_pv({"completion", "zsh"});
    ASSERT_EQ(bash.code, 0) << bash.err;
    ASSERT_EQ(zsh.code, 0) << zsh.err;
    EXPECT_EQ(zsh.out.rfind("#compdef pv\n", 0), 0u);
    for (const auto& c : cli::commands()) {
        const std::string name(c.name);
        const auto help = run_pv({name, "--help"});
        ASSERT_EQ(help.code, 0) << name;
        const auto options = long_options_in(help.out);
        EXPECT_FALSE(options.empty()) << name;
        const std::string start = "        " + name + ") opts=\"";
        const std::size_t at = bash.out.find(start);
        ASSERT_NE(at, std::string::npos) << name;
        const std::size_t from = at + start.size();
        const std::string listed = " " + bash.out.substr(from, bash.out.find('"', from) - from) + " ";
        for (const auto& o : options) {
            EXPECT_NE(listed.find(" " + o + " "), std::string::npos) << name << " " << o << " in" << listed;
            EXPECT_NE(zsh.out.find(o), std::string::npos) << name << " " << o;
        }
        EXPECT_NE(zsh.out.find("        '" + name + ":"), std::string::npos) << name;
    }
}

TEST(Completion, ZshSpecsForValuesAndShortNames) {
    const std::string zsh = run_pv({"completion", "zsh"}).out;
    EXPECT_NE(zsh.find("'*--color=[auto | always | never - colour the verdicts (auto - on a terminal, unless CI or "
                       "NO_COLOR is set)]:value:(auto always never)' \\\n"),
              std::string::npos)
        << zsh;
    EXPECT_NE(zsh.find("'*'{-o,--output}'[output file]:value:_files' \\\n"), std::string::npos);
    EXPECT_NE(zsh.find("'*--json[print one JSON object instead of text]' \\\n"), std::string::npos);
    EXPECT_NE(zsh.find("'1:shell:(bash zsh)'"), std::string::npos);
}

TEST(Completion, ZshScriptIsValidZsh) {
    if (std::system("zsh -c true >/dev/null 2>&1") != 0) GTEST_SKIP() << "no zsh";
    testing::TempDir dir;
    const auto script = dir.path() / "_pv";
    std::ofstream(script) << run_pv({"completion", "zsh"}).out;
    EXPECT_EQ(std::system(("zsh -n '" + script.string() + "'").c_str()), 0);
}

class BashCompletion : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::system("bash -c true >/dev/null 2>&1") != 0) GTEST_SKIP() << "no bash";
        std::ofstream(script_) << run_pv({"completion", "bash"}).out;
    }
    std::string complete(const std::string& words, int cword) { return run_bash(script_, words, cword); }
    testing::TempDir dir_;
    std::filesystem::path script_ = dir_.path() / "pv.bash";
};

TEST_F(BashCompletion, ScriptIsValidBash) {
    EXPECT_EQ(std::system(("bash -n '" + script_.string() + "'").c_str()), 0);
}

TEST_F(BashCompletion, CompletesCommandsOptionsAndValues) {
    EXPECT_EQ(complete("pv ru", 1), "run");
    EXPECT_EQ(complete("pv comp", 1), "completion");
    EXPECT_EQ(complete("pv --v", 1), "--version");
    EXPECT_EQ(complete("pv run --col", 2), "--color");
    EXPECT_EQ(complete("pv run --report", 2), "--report-dir");
    EXPECT_EQ(complete("pv run --color \"\"", 3), "auto always never");
    EXPECT_EQ(complete("pv validate x.yaml --color al", 4), "always");
    EXPECT_EQ(complete("pv bench m.gguf --backend \"\"", 4), "cpu cuda f64");
    EXPECT_EQ(complete("pv trace m.gguf --kv-type \"\"", 4), "f32 f16");
    EXPECT_EQ(complete("pv convert --to \"\"", 3), "gguf apr");
    EXPECT_EQ(complete("pv completion \"\"", 2), "bash zsh");
    EXPECT_EQ(complete("pv inspect --js", 2), "--json");
    EXPECT_EQ(complete("pv frobnicate --", 2), "");
}

TEST(Completion, SuitePathOptionsExist) {
    for (const auto& sp : cli::suite_path_options()) {
        bool found = false;
        for (const auto& c : cli::commands()) {
            if (c.name != sp.command) continue;
            for (const auto& o : c.options()) found = found || (o.name == sp.option && o.takes_value);
        }
        EXPECT_TRUE(found) << sp.command << " --" << sp.option;
    }
}

TEST(Completion, ListPathsPrintsTheSuitesPaths) {
    testing::TempDir dir;
    const auto suite = dir.path() / "suite.cfg";
    std::ofstream(suite) << "version: 1\nmodels:\n  m: m.gguf\npaths:\n  alpha: {model: m, backend: cpu}\n"
                            "  beta: {model: m, backend: cuda, mode: incremental}\n";
    const auto r = run_pv({"run", "--suite", suite.string(), "--list-paths"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("alpha\t", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nbeta\t"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
    const auto more = run_pv({"run", "--suite", suite.string(), "--path", "gamma=model=x.gguf", "--list-paths"});
    EXPECT_NE(more.out.find("\ngamma\t"), std::string::npos) << more.out << more.err;
}

TEST_F(BashCompletion, SuitePathNamesFromTheSuiteOnTheCommandLine) {
    const auto suite = dir_.path() / "suite.cfg";
    std::ofstream(suite) << "version: 1\nmodels:\n  m: m.gguf\npaths:\n  alpha: {model: m}\n  beta: {model: m}\n";
    const std::string pv = PARITY_TEST_PV;
    EXPECT_EQ(complete(pv + " run --suite " + suite.string() + " --path \"\"", 5), "alpha= beta=");
    EXPECT_EQ(complete(pv + " run --suite " + suite.string() + " --path b", 5), "beta=");
    EXPECT_EQ(complete(pv + " run --path \"\"", 3), "");  // no --suite and no ./ctest.cfg here
}

TEST_F(BashCompletion, ValuedOptionsCompleteFileNames) {
    std::ofstream(dir_.path() / "suite-only.cfg") << "x";
    const std::string prefix = (dir_.path() / "suite-o").string();
    EXPECT_EQ(complete("pv run --suite " + prefix, 3), (dir_.path() / "suite-only.cfg").string());
}

}  // namespace
}  // namespace parity
