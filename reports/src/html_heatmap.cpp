#include "reports/html_heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/text.h"

namespace parity::reports {

namespace {

constexpr double kFullNines = 6.0;  // cosine 0.999999 and above is full green
constexpr int kModelRow = std::numeric_limits<int>::max();  // sorts the model row (layer -1) last

/// A cell's tooltip: "ffn_gate layer 2: min cosine 0.998 (>= 0.999 passes), FAIL, max_abs 0.1, ...".
std::string cell_title(const LayerMetric& row) {
    std::string t = row.slot + (row.layer < 0 ? std::string() : " layer " + std::to_string(row.layer)) +
                    ": min cosine " + format_number(row.value);
    if (row.lo) t += " (>= " + format_number(*row.lo) + " passes)";
    t += row.pass ? ", pass" : ", FAIL";
    for (const auto& [name, value] : row.details) t += ", " + name + " " + format_number(value);
    return t;
}

}  // namespace

std::string heatmap_colour(double cosine) {
    if (std::isnan(cosine)) return "#4b5563";
    const double gap = 1.0 - std::min(cosine, 1.0);
    const double nines = gap <= 0.0 ? kFullNines : std::clamp(-std::log10(gap), 0.0, kFullNines);
    const double below_zero = cosine <= 0.0 ? 1.0 : 0.0;
    const int hue = static_cast<int>(std::lround(120.0 * (nines / kFullNines) * (1.0 - below_zero)));
    char buf[32];
    std::snprintf(buf, sizeof buf, "hsl(%d,70%%,%d%%)", hue, 45 + hue / 8);
    return buf;
}

std::string html_stage_heatmap(const TestResult& r) {
    if (r.falsifier != "per_op" || r.per_layer.empty()) return {};
    // Columns: stages in order of first appearance (per_op's rows are in forward order).
    std::vector<std::string> stages;
    std::vector<int> layers;  // ascending; -1 (the model row) last
    std::map<std::pair<int, std::string>, const LayerMetric*> cells;
    for (const auto& row : r.per_layer) {
        if (std::find(stages.begin(), stages.end(), row.slot) == stages.end()) stages.push_back(row.slot);
        if (std::find(layers.begin(), layers.end(), row.layer) == layers.end()) layers.push_back(row.layer);
        cells.emplace(std::make_pair(row.layer, row.slot), &row);
    }
    std::sort(layers.begin(), layers.end(), [](int a, int b) { return (a < 0 ? kModelRow : a) < (b < 0 ? kModelRow : b); });
    const bool first_known = r.first_failure && cells.count({r.first_failure->layer, r.first_failure->slot}) > 0;

    std::string out = "<div class=\"hm\"><table><tr><th>layer</th>";
    for (const auto& s : stages) out += "<th><span>" + escape_xml(s) + "</span></th>";
    out += "</tr>\n";
    for (const int layer : layers) {
        out += "<tr><th>" + (layer < 0 ? std::string("model") : std::to_string(layer)) + "</th>";
        for (const auto& s : stages) {
            const auto it = cells.find({layer, s});
            if (it == cells.end()) {
                out += "<td class=\"na\"></td>";
                continue;
            }
            const LayerMetric& row = *it->second;
            const bool first = first_known && r.first_failure->layer == layer && r.first_failure->slot == s;
            std::string cls = row.pass ? "" : "red";
            if (first) cls += cls.empty() ? "first" : " first";
            out += "<td" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + " style=\"background:" +
                   heatmap_colour(row.value) + "\" title=\"" + escape_xml(cell_title(row), true) + "\">" +
                   escape_xml(format_number(row.value, 6)) + "</td>";
        }
        out += "</tr>\n";
    }
    out += "</table>\n<p class=\"lg\">colour: min cosine over positions, red (0) to green (&gt;= 0.999999); "
           "failing cells in bold";
    if (first_known) {
        const Divergence& d = *r.first_failure;
        out += "; outlined: the first divergence, " +
               escape_xml(d.slot + (d.layer < 0 ? std::string() : " layer " + std::to_string(d.layer)));
    }
    out += "</p></div>";
    return out;
}

}  // namespace parity::reports
