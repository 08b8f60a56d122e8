// per_op's table in the HTML report: a layer x stage heatmap coloured by min cosine, with the
// first divergence outlined (and only it), failing cells bold, absent cells blank.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "reports/html_heatmap.h"
#include "reports/html_report.h"

namespace parity::reports {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
    return n;
}

LayerMetric row(int layer, const std::string& stage, double cosine) {
    LayerMetric m;
    m.layer = layer;
    m.slot = stage;
    m.value = cosine;
    m.lo = 0.999;
    m.pass = cosine >= 0.999;
    m.details = {{"max_abs", 0.5}, {"worst_position", 3.0}, {"positions", 64.0}};
    return m;
}

/// embedding; layers 0..2 x (attn_norm, ffn_gate); final_norm; lm_head. ffn_gate layer 2 and
/// lm_head below the threshold; the first divergence is ffn_gate layer 2.
TestResult per_op_result() {
    TestResult r;
    r.id = "FALSIFY-PER-OP-001";
    r.falsifier = "per_op";
    r.status = Status::Fail;
    r.per_layer.push_back(row(-1, "embedding", 1.0));
    for (int l = 0; l < 3; ++l) {
        r.per_layer.push_back(row(l, "attn_norm", 0.99999));
        r.per_layer.push_back(row(l, "ffn_gate", l == 2 ? 0.9 : 0.9999));
    }
    r.per_layer.push_back(row(-1, "final_norm", 0.9995));
    r.per_layer.push_back(row(-1, "lm_head", 0.5));
    r.first_failure = Divergence{2, "ffn_gate", "a vs b: min cosine 0.9 @pos 3"};
    return r;
}

TEST(HtmlHeatmap, LayerByStageWithTheFirstDivergenceOutlined) {
    const std::string h = html_stage_heatmap(per_op_result());
    ASSERT_FALSE(h.empty());
    // Columns in forward order; rows: layers 0..2, then the whole-model row.
    const auto col = [&](const std::string& s) { return h.find("<th><span>" + s + "</span></th>"); };
    EXPECT_LT(col("embedding"), col("attn_norm"));
    EXPECT_LT(col("attn_norm"), col("ffn_gate"));
    EXPECT_LT(col("ffn_gate"), col("final_norm"));
    EXPECT_LT(col("final_norm"), col("lm_head"));
    EXPECT_EQ(occurrences(h, "<tr>"), 5u);
    EXPECT_LT(h.find("<tr><th>2</th>"), h.find("<tr><th>model</th>"));
    // 3 layer rows lack the 3 whole-model stages, the model row lacks the 2 layer stages.
    EXPECT_EQ(occurrences(h, "<td class=\"na\"></td>"), 11u);
    // Two red cells; exactly one outlined, and it is ffn_gate layer 2, not the downstream lm_head.
    EXPECT_EQ(occurrences(h, "class=\"red"), 2u);
    EXPECT_EQ(occurrences(h, "first\""), 1u);
    const auto first = h.find("<td class=\"red first\"");
    ASSERT_NE(first, std::string::npos) << h;
    EXPECT_NE(h.find("title=\"ffn_gate layer 2: min cosine 0.9 (&gt;= 0.999 passes), FAIL, max_abs 0.5, "
                     "worst_position 3, positions 64\">0.9</td>",
                     first),
              std::string::npos)
        << h;
    EXPECT_NE(h.find("title=\"lm_head: min cosine 0.5 (&gt;= 0.999 passes), FAIL"), std::string::npos);
    EXPECT_NE(h.find("outlined: the first divergence, ffn_gate layer 2"), std::string::npos);
    // Each cell's colour is its cosine's.
    EXPECT_NE(h.find("style=\"background:" + heatmap_colour(0.9) + "\""), std::string::npos);
    EXPECT_NE(h.find("style=\"background:" + heatmap_colour(1.0) + "\""), std::string::npos);
}

TEST(HtmlHeatmap, ColourRunsFromRedToGreenByNines) {
    EXPECT_EQ(heatmap_colour(1.0), "hsl(120,70%,60%)");
    EXPECT_EQ(heatmap_colour(0.9999995), "hsl(120,70%,60%)");  // past six nines: full green
    EXPECT_EQ(heatmap_colour(0.999), "hsl(60,70%,52%)");       // three of six nines: yellow
    EXPECT_EQ(heatmap_colour(0.9), "hsl(20,70%,47%)");
    EXPECT_EQ(heatmap_colour(0.0), "hsl(0,70%,45%)");
    EXPECT_EQ(heatmap_colour(-0.5), "hsl(0,70%,45%)");
    EXPECT_EQ(heatmap_colour(std::numeric_limits<double>::quiet_NaN()), "#4b5563");
}

TEST(HtmlHeatmap, OnlyForPerOpAndInPlaceOfTheChart) {
    TestResult other = per_op_result();
    other.falsifier = "slot_tolerance";
    EXPECT_EQ(html_stage_heatmap(other), "");
    TestResult empty = per_op_result();
    empty.per_layer.clear();
    EXPECT_EQ(html_stage_heatmap(empty), "");

    RunReport report;
    report.results = {per_op_result(), other};
    std::ostringstream out;
    write_html(report, out);
    const std::string html = out.str();
    EXPECT_EQ(occurrences(html, "<div class=\"hm\">"), 1u);
    EXPECT_EQ(occurrences(html, "<svg"), 1u);  // the slot_tolerance card keeps its chart
    EXPECT_LT(html.find("<div class=\"hm\">"), html.find("<svg"));
}

TEST(HtmlHeatmap, NoOutlineWithoutAFirstDivergence) {
    TestResult r = per_op_result();
    r.first_failure.reset();
    const std::string h = html_stage_heatmap(r);
    EXPECT_EQ(occurrences(h, "first"), 0u);
    EXPECT_EQ(occurrences(h, "class=\"red\""), 2u);
}

}  // namespace
}  // namespace parity::reports
