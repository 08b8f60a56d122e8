// UNMEASURED in every writer: never a pass, counted apart, exit code 1 unless the suite allows
// the test (allow_unmeasured), then as if skipped.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "json_schema.h"
#include "reports/html_report.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"
#include "reports/result.h"

namespace parity::reports {
namespace {

TestResult make(const std::string& id, Status status, bool allowed = false) {
    TestResult r;
    r.id = id;
    r.contract = "contracts/u.yaml";
    r.falsifier = status == Status::Unbound ? "" : "per_op";
    r.status = status;
    r.allow_unmeasured = allowed;
    r.message = status == Status::Unmeasured ? "nothing compared: no selected stage is present on both ext and apr"
                                             : "ok";
    r.repro = "pv run contracts/u.yaml --only " + id;
    return r;
}

RunReport report(std::vector<TestResult> results) {
    RunReport r;
    r.tool_version = "0.1.0";
    r.results = std::move(results);
    return r;
}

template <typename Writer>
std::string render(const RunReport& report, Writer write) {
    std::ostringstream out;
    write(report, out);
    return out.str();
}

TEST(Unmeasured, CountedApartAndNeverEvaluated) {
    const RunReport r = report({make("P", Status::Pass), make("U1", Status::Unmeasured),
                                make("U2", Status::Unmeasured, true), make("S", Status::Skipped)});
    const Summary s = r.summary();
    EXPECT_EQ(s.total, 4u);
    EXPECT_EQ(s.passed, 1u);
    EXPECT_EQ(s.evaluated(), 1u);
    EXPECT_EQ(s.unmeasured, 2u);
    EXPECT_EQ(s.unmeasured_allowed, 1u);
    EXPECT_EQ(s.failed + s.errors + s.skipped + s.unbound, 1u);
    EXPECT_EQ(describe_summary(s),
              "4 tests, 1 evaluated: 1 passed, 0 failed, 0 errors, 1 skipped, 0 unbound, 2 unmeasured (1 allowed)");
}

TEST(Unmeasured, ExitCodeOneUnlessAllowed) {
    EXPECT_EQ(exit_code(report({make("P", Status::Pass), make("U", Status::Unmeasured)})), 1);
    EXPECT_EQ(exit_code(report({make("U", Status::Unmeasured)})), 1);
    // Allowed: as if skipped, so beside a pass 0, alone 77 (nothing evaluated), never 0 alone.
    EXPECT_EQ(exit_code(report({make("P", Status::Pass), make("U", Status::Unmeasured, true)})), 0);
    EXPECT_EQ(exit_code(report({make("U", Status::Unmeasured, true)})), 77);
    EXPECT_EQ(exit_code(report({make("U", Status::Unmeasured, true), make("F", Status::Fail)})), 1);
    // One allowed does not excuse another.
    EXPECT_EQ(exit_code(report({make("P", Status::Pass), make("U1", Status::Unmeasured, true),
                                make("U2", Status::Unmeasured)})),
              1);
}

TEST(Unmeasured, JsonCountsItAndValidates) {
    const RunReport r = report({make("P", Status::Pass), make("U1", Status::Unmeasured),
                                make("U2", Status::Unmeasured, true)});
    const auto doc = nlohmann::json::parse(render(r, write_json));
    EXPECT_EQ(doc.at("summary").at("unmeasured"), 2);
    EXPECT_EQ(doc.at("summary").at("unmeasured_allowed"), 1);
    EXPECT_EQ(doc.at("summary").at("passed"), 1);
    EXPECT_EQ(doc.at("summary").at("evaluated"), 1);
    EXPECT_EQ(doc.at("summary").at("exit_code"), 1);
    EXPECT_EQ(doc.at("tests").at(1).at("status"), "UNMEASURED");
    EXPECT_EQ(doc.at("tests").at(1).at("allow_unmeasured"), false);
    EXPECT_EQ(doc.at("tests").at(2).at("allow_unmeasured"), true);
    EXPECT_FALSE(doc.at("tests").at(0).contains("allow_unmeasured"));  // only on UNMEASURED tests
    const auto schema = parity::testing::JsonSchema::load(PARITY_REPORT_SCHEMA);
    EXPECT_EQ(schema.validate(doc), std::vector<std::string>{});
}

TEST(Unmeasured, JunitFailureUnlessAllowedThenSkipped) {
    const std::string xml = render(report({make("P", Status::Pass), make("U1", Status::Unmeasured),
                                           make("U2", Status::Unmeasured, true)}),
                                   write_junit);
    EXPECT_NE(xml.find("<testsuites name=\"pv\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" unmeasured=\"2\""),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<failure type=\"UNMEASURED\" message=\"unmeasured: nothing compared: no selected stage is "
                       "present on both ext and apr\">UNMEASURED: nothing compared"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<skipped type=\"UNMEASURED\" message=\"unmeasured: nothing compared: no selected stage is "
                       "present on both ext and apr (allowed by the suite)\"/>"),
              std::string::npos)
        << xml;
}

TEST(Unmeasured, MarkdownSummaryAndSection) {
    const std::string md = render(report({make("P", Status::Pass), make("U1", Status::Unmeasured),
                                          make("U2", Status::Unmeasured, true)}),
                                  write_markdown);
    EXPECT_NE(md.find("3 tests, 1 evaluated: 1 passed, 0 failed, 0 errors, 0 skipped, 0 unbound, 2 unmeasured "
                      "(1 allowed)\n"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("- exit code: 1\n"), std::string::npos);
    EXPECT_NE(md.find("| UNMEASURED | U1 | per_op |"), std::string::npos) << md;
    EXPECT_NE(md.find("## UNMEASURED: U1\n"), std::string::npos) << md;
    EXPECT_NE(md.find("- unmeasured: not allowed: the run exits 1\n"), std::string::npos) << md;
    EXPECT_NE(md.find("## UNMEASURED: U2\n"), std::string::npos) << md;
    EXPECT_NE(md.find("- unmeasured: allowed by the suite (`allow_unmeasured`)\n"), std::string::npos) << md;
    EXPECT_EQ(md.find("## PASS"), std::string::npos);
}

TEST(Unmeasured, HtmlBadgeCountAndColour) {
    const std::string html = render(report({make("P", Status::Pass), make("U1", Status::Unmeasured)}), write_html);
    EXPECT_NE(html.find("<span class=\"badge unmeasured\">UNMEASURED</span>"), std::string::npos);
    EXPECT_NE(html.find("<section class=\"card unmeasured\""), std::string::npos);
    EXPECT_NE(html.find("<span class=\"c unmeasured\">1 unmeasured</span>"), std::string::npos) << html;
    EXPECT_NE(html.find(".unmeasured{--c:"), std::string::npos);
    EXPECT_NE(html.find("unmeasured: the run exits 1"), std::string::npos);
    EXPECT_NE(html.find("<title>Parity report: 2 tests, 0 failed, 0 errors, 1 unmeasured</title>"), std::string::npos);
}

}  // namespace
}  // namespace parity::reports
