// --color auto|always|never and NO_COLOR: the decision, and pv validate's coloured verdicts.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/color.h"
#include "pv_runner.h"
#include "test_support.h"

namespace parity {
namespace {

using cli::ColorMode;
using cli::Terminal;
using cli::use_color;
using testing::run_pv;

TEST(Color, Decision) {
    const Terminal tty{true, nullptr, nullptr, "xterm-256color"};
    EXPECT_TRUE(use_color(ColorMode::Auto, tty));
    EXPECT_FALSE(use_color(ColorMode::Auto, Terminal{false, nullptr, nullptr, "xterm"}));  // piped
    EXPECT_FALSE(use_color(ColorMode::Auto, Terminal{true, "1", nullptr, "xterm"}));       // NO_COLOR
    EXPECT_TRUE(use_color(ColorMode::Auto, Terminal{true, "", nullptr, "xterm"}));         // NO_COLOR empty: unset
    EXPECT_FALSE(use_color(ColorMode::Auto, Terminal{true, nullptr, "true", "xterm"}));    // CI
    EXPECT_FALSE(use_color(ColorMode::Auto, Terminal{true, nullptr, nullptr, "dumb"}));
    EXPECT_TRUE(use_color(ColorMode::Auto, Terminal{true, nullptr, nullptr, nullptr}));   // TERM unset
    EXPECT_TRUE(use_color(ColorMode::Always, Terminal{false, "1", "true", "dumb"}));      // the flag wins
    EXPECT_FALSE(use_color(ColorMode::Never, tty));
}

TEST(Color, ParseAndPaint) {
    EXPECT_EQ(cli::parse_color_mode("auto"), ColorMode::Auto);
    EXPECT_EQ(cli::parse_color_mode("always"), ColorMode::Always);
    EXPECT_EQ(cli::parse_color_mode("never"), ColorMode::Never);
    EXPECT_ANY_THROW(cli::parse_color_mode("yes"));
    EXPECT_EQ(cli::paint("PASS", cli::Paint::Green, true), "\033[32mPASS\033[0m");
    EXPECT_EQ(cli::paint("FAIL", cli::Paint::Red, false), "FAIL");
    EXPECT_EQ(cli::paint("UNMEASURED", cli::Paint::Magenta, true), "\033[35mUNMEASURED\033[0m");
}

class ValidateColor : public ::testing::Test {
protected:
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_.path() / name) << text;
    }
    std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
    testing::TempDir dir_;
};

const std::string kValid =  // as validate_cli_test.cpp's valid contract
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

TEST_F(ValidateColor, AlwaysPaintsTheVerdictNeverAndAutoDoNot) {
    write("ok.yaml", kValid);
    const auto painted = run_pv({"validate", path("ok.yaml"), "--color", "always"});
    ASSERT_EQ(painted.code, 0) << painted.out << painted.err;
    EXPECT_NE(painted.out.find("\n\033[32mContract is valid.\033[0m\n"), std::string::npos) << painted.out;
    for (const char* mode : {"never", "auto"}) {
        const auto plain = run_pv({"validate", path("ok.yaml"), "--color", mode});
        EXPECT_EQ(plain.out.find('\033'), std::string::npos) << mode << ":\n" << plain.out;
        EXPECT_NE(plain.out.find("\nContract is valid.\n"), std::string::npos) << plain.out;
    }
}

TEST_F(ValidateColor, ErrorsAreRed) {
    write("bad.yaml", "metadata:\n  version: \"1.0.0\"\n");
    const auto r = run_pv({"validate", path("bad.yaml"), "--color=always"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("\033[31m[ERROR]\033[0m "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\033[31m"), std::string::npos);
    EXPECT_NE(r.out.find(" error(s), "), std::string::npos);
    EXPECT_EQ(r.out.find("Contract is valid."), std::string::npos);
}

}  // namespace
}  // namespace parity
