#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "reports/markdown_report.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
}  // namespace testing

namespace {

std::string render(const RunReport& report) {
    std::ostringstream out;
    write_markdown(report, out);
    return out.str();
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// GFM table cells: split on '|' not preceded by a backslash.
std::size_t unescaped_pipes(const std::string& line) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\') {
            ++i;  // skip the escaped character
        } else if (line[i] == '|') {
            ++n;
        }
    }
    return n;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

TEST(MarkdownReport, SummaryLine) {
    const std::string md = render(testing::sample_report());
    EXPECT_NE(md.find("\n6 tests, 3 evaluated: 1 passed, 2 failed, 1 errors, 1 skipped, 1 unbound, 0 unmeasured\n"),
              std::string::npos)
        << md;
    EXPECT_EQ(md.rfind("# Parity report\n", 0), 0u);
    EXPECT_NE(md.find("- exit code: 1\n"), std::string::npos);
}

TEST(MarkdownReport, BuildLineAfterTheTool) {
    const std::string md = render(testing::sample_report());
    EXPECT_NE(md.find("- tool: pv 0.1.0\n- build: pv 0.1.0, commit a800b23, Release, GNU 12.2.0, CPU AVX AVX2 FMA F16C, "
                      "CUDA: NVIDIA H200 (sm_90)\n"),
              std::string::npos)
        << md;
    EXPECT_EQ(render(RunReport{}).find("- build:"), std::string::npos);  // no build named: no line
}

TEST(MarkdownReport, OneTableRowPerTestWithFiveCells) {
    const auto all = lines(render(testing::sample_report()));
    std::size_t header = 0;
    while (header < all.size() && all[header] != "| status | id | falsifier | message | first divergence |")
        ++header;
    ASSERT_LT(header + 8, all.size());
    EXPECT_EQ(all[header + 1], "|---|---|---|---|---|");
    const char* statuses[] = {"| PASS |", "| FAIL |", "| ERROR |", "| SKIPPED |", "| UNBOUND |", "| FAIL |"};
    for (std::size_t i = 0; i < 6; ++i) {
        const std::string& row = all[header + 2 + i];
        EXPECT_EQ(unescaped_pipes(row), 6u) << row;
        EXPECT_EQ(row.rfind(statuses[i], 0), 0u) << row;
    }
    EXPECT_EQ(all[header + 8], "");  // the table ends after six rows
    EXPECT_EQ(all[header + 3],
              "| FAIL | FALSIFY-A-002 | stat_ratio_band | 3 of 28 layers outside \\[0.5, 2\\] | "
              "layer 3, slot ffn_swiglu_inner: std ratio 2.31 outside \\[0.5, 2\\] |");
    EXPECT_EQ(all[header + 6], "| UNBOUND | FALSIFY-B-002 |  | no harness: mapping |  |");
}

TEST(MarkdownReport, CellEscapingOfHostileText) {
    const auto all = lines(render(testing::sample_report()));
    std::string row;
    for (const auto& l : all) {
        if (l.rfind("| FAIL | FALSIFY-H-001", 0) == 0) row = l;
    }
    ASSERT_FALSE(row.empty());
    // By hand: | -> \|, line breaks -> <br>, markup -> entities, punctuation backslash-escaped,
    // controls dropped, invalid UTF-8 -> U+FFFD.
    const std::string message =
        "a&lt;b&gt;&amp;c \"dq\" 'sq' \\]\\]&gt; x\\]\\]\\]\\]&gt;y \\|t\tn<br>r<br>\\|nul::"
        " ff:\xEF\xBF\xBD tr:\xEF\xBF\xBD sur:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
        "ovl:\xEF\xBF\xBD\xEF\xBF\xBD fffe:"
        " emoji:\xf0\x9f\x98\x80 e-acute:\xc3\xa9 \\`\\`\\`code\\`\\`\\` \\*b\\* \\_u\\_ \\#h \\[l\\](x)"
        " &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;";
    EXPECT_NE(row.find("| " + message + " |"), std::string::npos) << row;
    EXPECT_EQ(unescaped_pipes(row), 6u) << row;
    EXPECT_EQ(row.find("<script"), std::string::npos);
}

TEST(MarkdownReport, SectionPerFailAndErrorOnly) {
    const std::string md = render(testing::sample_report());
    EXPECT_EQ(occurrences(md, "\n## FAIL: "), 2u);
    EXPECT_EQ(occurrences(md, "\n## ERROR: "), 1u);
    EXPECT_EQ(occurrences(md, "\n## "), 3u);
    EXPECT_NE(md.find("\n## FAIL: FALSIFY-A-002\n"), std::string::npos);
    EXPECT_NE(md.find("| metric | value |\n|---|---|\n| max_ratio | 2.31 |\n| sum | 0.3 |\n"),
              std::string::npos);
    EXPECT_NE(md.find("| nan | nan |\n| inf | inf |\n| ninf | -inf |\n"), std::string::npos);
    EXPECT_NE(md.find("Failing rows (std_dev ratio): 3 of 29"), std::string::npos) << md;
    EXPECT_NE(md.find("| 5 | ffn_swiglu_inner | nan | \\[0.5, 2\\] |\n"), std::string::npos);
}

TEST(MarkdownReport, ReproInCodeBlock) {
    const std::string md = render(testing::sample_report());
    EXPECT_NE(md.find("Repro:\n\n```sh\npv run contracts/a.yaml --only FALSIFY-A-002\n```\n"),
              std::string::npos);
    EXPECT_NE(md.find("```sh\npv run contracts/a.yaml --only FALSIFY-A-003\n```\n"), std::string::npos);
    EXPECT_EQ(md.find("FALSIFY-A-001\n```"), std::string::npos);  // PASS has no section
    // The hostile repro contains ``` so its fence is four backticks.
    EXPECT_NE(md.find("````sh\npv run --only 'a<b>&c"), std::string::npos);
}

TEST(MarkdownReport, CommandInCodeSpan) {
    RunReport report = testing::sample_report();
    report.command = "pv run `x` | y";
    const std::string md = render(report);
    EXPECT_NE(md.find("- command: ``pv run `x` | y``\n"), std::string::npos) << md;
}

TEST(MarkdownReport, EmptyRunHasNoTable) {
    const std::string md = render(RunReport{});
    EXPECT_NE(md.find("0 tests, 0 evaluated: 0 passed, 0 failed, 0 errors, 0 skipped, 0 unbound, 0 unmeasured\n"),
              std::string::npos);
    EXPECT_EQ(md.find("| status |"), std::string::npos);
}

}  // namespace
}  // namespace parity::reports
