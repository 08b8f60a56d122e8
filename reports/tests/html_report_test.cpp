#include <gtest/gtest.h>

#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "reports/html_report.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
RunReport large_report(int tests, int layers);
}  // namespace testing

namespace {

std::string render(const RunReport& report) {
    std::ostringstream out;
    write_html(report, out);
    return out.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

/// The <section> card of each test, in order.
std::vector<std::string> cards(const std::string& html) {
    std::vector<std::string> out;
    for (auto pos = html.find("<section class=\"card"); pos != std::string::npos;
         pos = html.find("<section class=\"card", pos + 1)) {
        const auto end = html.find("</section>", pos);
        out.push_back(html.substr(pos, end - pos));
    }
    return out;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

TEST(HtmlReport, HeaderNamesTheBuild) {
    const std::string html = render(testing::sample_report());
    EXPECT_NE(html.find("<p class=\"run\">build: pv 0.1.0, commit a800b23, Release, GNU 12.2.0, CPU AVX AVX2 FMA F16C, "
                        "CUDA: NVIDIA H200 (sm_90)</p>\n"),
              std::string::npos);
}

TEST(HtmlReport, OneSvgPerTestWithPerLayerData) {
    const RunReport report = testing::sample_report();
    const std::string html = render(report);
    const auto all = cards(html);
    ASSERT_EQ(all.size(), report.results.size());
    std::size_t with_rows = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const bool rows = !report.results[i].per_layer.empty();
        with_rows += rows;
        EXPECT_EQ(occurrences(all[i], "<svg"), rows ? 1u : 0u) << report.results[i].id;
        EXPECT_EQ(occurrences(all[i], "</svg>"), rows ? 1u : 0u) << report.results[i].id;
    }
    EXPECT_EQ(with_rows, 3u);
    EXPECT_EQ(occurrences(html, "<svg"), 3u);
}

TEST(HtmlReport, ChartDrawsEveryRowBandAndFailures) {
    const auto all = cards(render(testing::sample_report()));
    // PASS: 28 finite rows, all passing, one band for the common bounds [0.5, 2].
    EXPECT_EQ(occurrences(all[0], "<circle"), 28u);
    EXPECT_EQ(occurrences(all[0], "class=\"f\""), 0u);
    EXPECT_EQ(occurrences(all[0], "class=\"band\""), 1u);
    EXPECT_EQ(occurrences(all[0], "<polyline"), 1u);
    EXPECT_NE(all[0].find("<title>layer 27: 1.27</title>"), std::string::npos);
    // FAIL: 29 rows, two non-finite (edge markers), three failing (red).
    const std::string& fail = all[1];
    EXPECT_EQ(occurrences(fail, "<circle"), 27u);
    EXPECT_EQ(occurrences(fail, "<title>"), 29u);
    EXPECT_EQ(occurrences(fail, "class=\"f\"") + occurrences(fail, "class=\"nan f\""), 3u);
    EXPECT_EQ(occurrences(fail, "class=\"nan f\""), 1u);
    EXPECT_NE(fail.find("<title>layer 3 ffn_swiglu_inner: 2.31, FAIL, bounds [0.5, 2]</title>"),
              std::string::npos);
    EXPECT_NE(fail.find("<title>model logits: 0.8</title>"), std::string::npos);
    EXPECT_GE(occurrences(fail, "class=\"band\""), 2u);  // bounds differ on layers 9 and 10
    // Two series (ffn_swiglu_inner, logits) with a legend.
    EXPECT_NE(fail.find("<g class=\"s0\">"), std::string::npos);
    EXPECT_NE(fail.find("<g class=\"s1\">"), std::string::npos);
    EXPECT_NE(fail.find("<span class=\"s1\">&#9632; logits</span>"), std::string::npos);
}

TEST(HtmlReport, NonFiniteValuesListed) {
    const auto all = cards(render(testing::sample_report()));
    EXPECT_NE(all[1].find("<p class=\"nf\">2 of 29 rows are not finite (drawn on the chart&#39;s edge): "
                          "layer 5, slot ffn_swiglu_inner = nan, layer 7, slot ffn_swiglu_inner = inf</p>"),
              std::string::npos)
        << all[1];
    EXPECT_NE(all[1].find("<p class=\"fl\">3 of 29 rows fail: layer 3, slot ffn_swiglu_inner = 2.31"),
              std::string::npos);
    EXPECT_EQ(all[0].find("class=\"nf\""), std::string::npos);
}

TEST(HtmlReport, CardFieldsAndRepro) {
    const auto all = cards(render(testing::sample_report()));
    const std::string& fail = all[1];
    EXPECT_NE(fail.find("<span class=\"badge fail\">FAIL</span> FALSIFY-A-002</h2>"), std::string::npos);
    EXPECT_NE(fail.find("<dt>rule</dt><dd>per-layer ffn_swiglu_inner std ratio stays in band</dd>"),
              std::string::npos);
    EXPECT_NE(fail.find("<dt>prediction</dt><dd>for every layer i, std(APR)/std(GGUF) in [0.5, 2.0]</dd>"),
              std::string::npos);
    EXPECT_NE(fail.find("<p class=\"msg\">3 of 28 layers outside [0.5, 2]</p>"), std::string::npos);
    EXPECT_NE(fail.find("<tr><th>max_ratio</th><td>2.31</td></tr>"), std::string::npos);
    EXPECT_NE(fail.find("<tr><th>ninf</th><td>-inf</td></tr>"), std::string::npos);
    EXPECT_NE(fail.find("<pre><code>pv run contracts/a.yaml --only FALSIFY-A-002</code></pre>"),
              std::string::npos);
    EXPECT_NE(all[4].find("<span class=\"badge unbound\">UNBOUND</span>"), std::string::npos);
    EXPECT_NE(all[4].find("(none: no harness binding)"), std::string::npos);
    EXPECT_NE(all[3].find("<section class=\"card skipped\""), std::string::npos);
    EXPECT_NE(all[2].find("<section class=\"card error\""), std::string::npos);
}

TEST(HtmlReport, HeaderCountsColouredByStatus) {
    const std::string html = render(testing::sample_report());
    EXPECT_NE(
        html.find("6 tests, 3 evaluated: <span class=\"c pass\">1 passed</span>, "
                  "<span class=\"c fail\">2 failed</span>, <span class=\"c error\">1 errors</span>, "
                  "<span class=\"c skipped\">1 skipped</span>, <span class=\"c unbound\">1 unbound</span>"),
        std::string::npos);
    EXPECT_NE(html.find("pv 0.1.0 · started 2026-11-26T06:30:00Z · 12.5 s · exit code 1"), std::string::npos);
    for (const char* cls : {".pass{", ".fail{", ".error{", ".skipped{", ".unbound{"}) {
        EXPECT_NE(html.find(cls), std::string::npos) << cls;
    }
}

TEST(HtmlReport, SelfContainedNoNetwork) {
    const std::string html = render(testing::sample_report());
    const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
    EXPECT_EQ(occurrences(html, "http://"), occurrences(html, xmlns));
    EXPECT_EQ(occurrences(html, "https://"), 0u);
    for (const char* banned : {"<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
                               "src=", "@font-face"}) {
        EXPECT_EQ(html.find(banned), std::string::npos) << banned;
    }
    EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
    EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(HtmlReport, HostileTextEscaped) {
    const std::string html = render(testing::sample_report());
    EXPECT_TRUE(valid_utf8(html));
    for (char c : html) {
        const auto b = static_cast<unsigned char>(c);
        EXPECT_TRUE(b >= 0x20 || c == '\n' || c == '\t') << "raw control byte " << int(b);
    }
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;"), std::string::npos);
    EXPECT_NE(html.find("a&lt;b&gt;&amp;c &quot;dq&quot; &#39;sq&#39; ]]&gt;"), std::string::npos);
    EXPECT_NE(html.find("ff:\xEF\xBF\xBD tr:\xEF\xBF\xBD sur:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
              std::string::npos);
    EXPECT_NE(html.find("emoji:\xf0\x9f\x98\x80"), std::string::npos);
    // Tags the writer emits are balanced even with hostile text around.
    EXPECT_EQ(occurrences(html, "<section"), occurrences(html, "</section>"));
    EXPECT_EQ(occurrences(html, "<title>"), occurrences(html, "</title>"));
    EXPECT_EQ(occurrences(html, "<code>"), occurrences(html, "</code>"));
}

TEST(HtmlReport, LogScaleWhenValuesSpanDecades) {
    TestResult r;
    r.id = "LOG";
    r.status = Status::Fail;
    r.metric_name = "max |d|";
    for (int i = 0; i < 6; ++i) {
        const double v = i == 0 ? 1e-6 : i == 1 ? 1e-5 : i == 2 ? 1e-4 : i == 3 ? 1e-3 : i == 4 ? 1e-2 : 1e-1;
        r.per_layer.push_back({i, "attn_out", v, std::nullopt, 1e-3, v <= 1e-3, {}});
    }
    r.per_layer.push_back(
        {6, "attn_out", -std::numeric_limits<double>::infinity(), std::nullopt, 1e-3, false, {}});
    RunReport report;
    report.results = {r};
    const std::string html = render(report);
    EXPECT_NE(html.find(">max |d| (log scale)</text>"), std::string::npos);
    for (const char* tick : {">1e-06</text>", ">1e-04</text>", ">0.01</text>", ">0.1</text>"}) {
        EXPECT_NE(html.find(tick), std::string::npos) << tick;
    }
    EXPECT_EQ(occurrences(html, "class=\"f\""), 3u);  // 0.01, 0.1 and -inf
    EXPECT_NE(html.find("<title>layer 6: -inf, FAIL, bounds &lt;= 0.001</title>"), std::string::npos);
    EXPECT_NE(html.find("1 of 7 rows are not finite"), std::string::npos);

    // Same rows shifted into one decade: a linear axis.
    for (auto& row : report.results[0].per_layer) {
        row.value = 1.0 + row.layer * 0.1;
        row.hi = 2.0;
    }
    EXPECT_EQ(render(report).find("(log scale)"), std::string::npos);
}

TEST(HtmlReport, EmptyRun) {
    const std::string html = render(RunReport{});
    EXPECT_NE(html.find("0 tests, 0 evaluated"), std::string::npos);
    EXPECT_EQ(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(HtmlReport, SizeOfThirtyTestsWithTwentyEightLayers) {
    const std::string html = render(testing::large_report(30, 28));
    EXPECT_EQ(occurrences(html, "<svg"), 30u);
    std::cout << "[ size ] HTML report, 30 tests x 28 layers: " << html.size() << " bytes\n";
    RecordProperty("html_bytes", static_cast<int>(html.size()));
    EXPECT_LT(html.size(), 160u * 1024u);
}

}  // namespace
}  // namespace parity::reports
