#include "reports/svg_chart.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>

#include "reports/describe.h"
#include "reports/text.h"

namespace parity::reports {

namespace {

// Geometry in SVG user units; the plot area is [kX0, kX1] x [kY0, kY1] (y grows downwards).
constexpr double kWidth = 640, kHeight = 216;
constexpr double kX0 = 58, kX1 = kWidth - 12, kY0 = 24, kY1 = kHeight - 28;

/// A coordinate with at most one decimal: enough at this size, and it keeps the page small.
std::string coord(double v) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
    std::string out(buf, res.ptr);
    if (out.size() > 2 && out.ends_with(".0")) out.resize(out.size() - 2);
    if (out == "-0") out = "0";
    return out;
}

/// `text` on one line of at most about `max_bytes` bytes (cut at a character boundary, with an
/// ellipsis), for labels that must not run across the chart.
std::string one_line(std::string_view text, std::size_t max_bytes) {
    std::string out = to_xml_chars(text);
    std::replace_if(
        out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    if (out.size() <= max_bytes) return out;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
    out.resize(cut);
    return out + "\u2026";
}

/// The y axis: linear, or log10 when every value and bound is positive and they span at least
/// two decades. `lo`/`hi` are in axis units (log10 of the value on a log axis).
struct YScale {
    bool log = false;
    double lo = 0.0, hi = 1.0;

    double axis(double v) const { return log ? std::log10(v) : v; }

    /// The pixel row of a finite value, clamped into the plot.
    double y(double v) const {
        if (log && v <= 0.0) return kY1;
        double f = (axis(v) - lo) / (hi - lo);
        if (std::isnan(f)) f = 0.5;
        return std::clamp(kY1 - f * (kY1 - kY0), kY0, kY1);
    }

    /// Like y(), with infinities at the plot's edges.
    double edge_or_y(double v) const {
        if (std::isinf(v)) return v > 0 ? kY0 : kY1;
        return y(v);
    }
};

YScale make_y_scale(const TestResult& r) {
    std::vector<double> finite;
    for (const auto& row : r.per_layer) {
        for (const auto& v : {std::optional<double>(row.value), row.lo, row.hi}) {
            if (v && std::isfinite(*v)) finite.push_back(*v);
        }
    }
    YScale s;
    if (finite.empty()) return s;
    const auto [mn, mx] = std::minmax_element(finite.begin(), finite.end());
    s.log = *mn > 0.0 && *mx / *mn >= 100.0;
    s.lo = s.axis(*mn);
    s.hi = s.axis(*mx);
    const double span = s.hi - s.lo;
    if (!(span > 1e-9 * std::max(std::abs(s.lo), std::abs(s.hi)))) {
        const double pad = s.log ? 0.5 : (s.lo == 0.0 ? 1.0 : std::abs(s.lo) * 0.1);
        s.lo -= pad;
        s.hi += pad;
    } else {
        s.lo -= span * 0.06;
        s.hi += span * 0.06;
    }
    return s;
}

/// Tick values (in data units) for the y axis: powers of ten on a log axis, else 1/2/5 steps.
std::vector<double> y_ticks(const YScale& s) {
    std::vector<double> ticks;
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi) || !(s.hi > s.lo)) return ticks;
    if (s.log) {
        const double first = std::ceil(s.lo), last = std::floor(s.hi);
        const double stride = std::max(1.0, std::ceil((last - first + 1) / 6));
        for (double k = first; k <= last; k += stride) ticks.push_back(std::pow(10.0, k));
        return ticks;
    }
    const double raw = (s.hi - s.lo) / 4;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const double first = std::ceil(s.lo / step), last = std::floor(s.hi / step);
    if (!std::isfinite(first) || !std::isfinite(last) || last - first > 12) return ticks;
    for (double k = first; k <= last; k += 1) ticks.push_back(k * step);
    return ticks;
}

/// The x axis: one slot per layer from the lowest to the highest layer in the rows.
struct XScale {
    long long first = 0;
    double step = 1.0;
    double x(int layer) const { return kX0 + step * (static_cast<double>(layer - first) + 0.5); }
};

/// A point's tooltip, short because there is one per row: "layer 3: 1.07", with the slot when
/// the chart has several series, and "FAIL, bounds [0.5, 2]" on failing rows.
std::string row_title(const LayerMetric& row, bool name_slot) {
    std::string t = row.layer < 0 ? std::string("model") : "layer " + std::to_string(row.layer);
    if (name_slot || row.layer < 0) t += " " + row.slot;
    t += ": " + format_number(row.value);
    if (!row.pass) {
        const std::string bounds = describe_bounds(row);
        t += bounds.empty() ? ", FAIL" : ", FAIL, bounds " + bounds;
    }
    return "<title>" + escape_xml(t) + "</title>";
}

bool has_bound(const LayerMetric& row) {
    return (row.lo && !std::isnan(*row.lo)) || (row.hi && !std::isnan(*row.hi));
}

/// The band: one shaded rectangle per run of consecutive layers held to the same bounds.
std::string bands(const TestResult& r, const XScale& xs, const YScale& ys) {
    struct Cell {
        double top, bottom;
        int layer;
    };
    std::vector<Cell> cells;
    for (const auto& row : r.per_layer) {
        if (!has_bound(row)) continue;
        const double top = row.hi && !std::isnan(*row.hi) ? ys.edge_or_y(*row.hi) : kY0;
        const double bottom = row.lo && !std::isnan(*row.lo) ? ys.edge_or_y(*row.lo) : kY1;
        if (bottom < top) continue;  // an empty band (lo > hi): nothing to shade
        cells.push_back({std::round(top * 10) / 10, std::round(bottom * 10) / 10, row.layer});
    }
    std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
        if (a.top != b.top) return a.top < b.top;
        if (a.bottom != b.bottom) return a.bottom < b.bottom;
        return a.layer < b.layer;
    });
    std::string out;
    for (std::size_t i = 0; i < cells.size();) {
        std::size_t j = i + 1;
        while (j < cells.size() && cells[j].top == cells[i].top && cells[j].bottom == cells[i].bottom &&
               static_cast<long long>(cells[j].layer) - cells[j - 1].layer <= 1) {
            ++j;
        }
        const double x = xs.x(cells[i].layer) - xs.step / 2;
        const double w = xs.x(cells[j - 1].layer) - xs.x(cells[i].layer) + xs.step;
        out += "<rect class=\"band\" x=\"" + coord(x) + "\" y=\"" + coord(cells[i].top) + "\" width=\"" +
               coord(w) + "\" height=\"" + coord(std::max(cells[i].bottom - cells[i].top, 1.0)) + "\"/>";
        i = j;
    }
    return out;
}

std::string axes(const XScale& xs, int last_layer, const YScale& ys, const TestResult& r) {
    std::string out = "<path class=\"ax\" d=\"M" + coord(kX0) + "," + coord(kY0) + "V" + coord(kY1) + "H" +
                      coord(kX1) + "\"/>";
    for (double t : y_ticks(ys)) {
        const std::string y = coord(ys.y(t));
        out += "<path class=\"gr\" d=\"M" + coord(kX0) + "," + y + "H" + coord(kX1) + "\"/>";
        out += "<text x=\"" + coord(kX0 - 4) + "\" y=\"" + coord(ys.y(t) + 3) + "\" class=\"tk e\">" +
               escape_xml(format_number(t, 4)) + "</text>";
    }
    // Layer labels on multiples of a stride (at most about 10 labels), and "model" for the
    // model-level rows (layer -1).
    const long long span = static_cast<long long>(last_layer) - xs.first + 1;
    const long long stride = std::max(1LL, (span + 9) / 10);
    const auto label = [&](long long l, const std::string& text) {
        out += "<text x=\"" + coord(xs.x(static_cast<int>(l))) + "\" y=\"" + coord(kY1 + 12) +
               "\" class=\"tk m\">" + text + "</text>";
    };
    if (xs.first < 0) label(xs.first, "model");
    long long start = (std::max(0LL, xs.first) + stride - 1) / stride * stride;
    if (xs.first < 0 && start == 0 && stride > 1) start = stride;  // "model" needs the room
    for (long long l = start; l <= last_layer; l += stride) label(l, std::to_string(l));
    out += "<text x=\"" + coord(kX1) + "\" y=\"" + coord(kHeight - 4) + "\" class=\"tk e\">layer</text>";
    const std::string title =
        one_line(r.metric_name.empty() ? "value" : r.metric_name, 90) + (ys.log ? " (log scale)" : "");
    out += "<text class=\"tk\" x=\"4\" y=\"10\">" + escape_xml(title) + "</text>";
    return out;
}

/// A marker on the plot's edge for a non-finite value: a triangle up (+inf) on top, a triangle
/// down (-inf) at the bottom, a cross (NaN) on top. Returns the opening tag of a <path>.
std::string edge_marker(double x, double value, bool failing) {
    const std::string fail = failing ? " f" : "";
    if (std::isnan(value)) {
        return "<path class=\"nan" + fail + "\" d=\"M" + coord(x - 4) + "," + coord(kY0 - 4) +
               "l8,8m0,-8l-8,8\">";
    }
    const std::string cls = failing ? " class=\"f\"" : "";
    if (value > 0) return "<path" + cls + " d=\"M" + coord(x) + "," + coord(kY0 - 5) + "l5,8h-10z\">";
    return "<path" + cls + " d=\"M" + coord(x) + "," + coord(kY1 + 5) + "l5,-8h-10z\">";
}

std::string series(const TestResult& r, const std::string& slot, int index, bool name_slot, const XScale& xs,
                   const YScale& ys) {
    std::vector<const LayerMetric*> rows;
    for (const auto& row : r.per_layer) {
        if (row.slot == slot) rows.push_back(&row);
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const LayerMetric* a, const LayerMetric* b) { return a->layer < b->layer; });
    std::string out = "<g class=\"s" + std::to_string(index % kChartSeriesColours) + "\">";
    std::string line;  // the current run of finite points
    std::size_t line_points = 0;
    const auto flush = [&] {
        if (line_points >= 2) out += "<polyline points=\"" + line + "\"/>";
        line.clear();
        line_points = 0;
    };
    std::string points;
    for (const LayerMetric* row : rows) {
        const double x = xs.x(row->layer);
        if (!std::isfinite(row->value)) {
            flush();
            points += edge_marker(x, row->value, !row->pass) + row_title(*row, name_slot) + "</path>";
            continue;
        }
        const double y = ys.y(row->value);
        if (line_points++ > 0) line += ' ';
        line += coord(x) + "," + coord(y);
        points += "<circle cx=\"" + coord(x) + "\" cy=\"" + coord(y) + "\" r=\"" +
                  (row->pass ? "2.5\"" : "3.5\" class=\"f\"") + ">" + row_title(*row, name_slot) +
                  "</circle>";
    }
    flush();
    return out + points + "</g>";
}

}  // namespace

std::vector<std::string> chart_series(const TestResult& result) {
    std::vector<std::string> slots;
    for (const auto& row : result.per_layer) {
        if (std::find(slots.begin(), slots.end(), row.slot) == slots.end()) slots.push_back(row.slot);
    }
    return slots;
}

std::string svg_layer_chart(const TestResult& r) {
    if (r.per_layer.empty()) return "";
    const auto [lo_row, hi_row] =
        std::minmax_element(r.per_layer.begin(), r.per_layer.end(),
                            [](const LayerMetric& a, const LayerMetric& b) { return a.layer < b.layer; });
    XScale xs;
    xs.first = lo_row->layer;
    xs.step = (kX1 - kX0) / static_cast<double>(static_cast<long long>(hi_row->layer) - lo_row->layer + 1);
    const YScale ys = make_y_scale(r);

    const std::string label = "per-layer " + (r.metric_name.empty() ? std::string("value") : r.metric_name);
    const std::string w = std::to_string(static_cast<int>(kWidth));
    const std::string h = std::to_string(static_cast<int>(kHeight));
    std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + w + " " +
                      h + "\" width=\"" + w + "\" height=\"" + h + "\" role=\"img\" aria-label=\"" +
                      escape_xml(label, true) + "\">";
    out += bands(r, xs, ys);
    out += axes(xs, hi_row->layer, ys, r);
    const auto slots = chart_series(r);
    for (std::size_t i = 0; i < slots.size(); ++i)
        out += series(r, slots[i], static_cast<int>(i), slots.size() > 1, xs, ys);
    return out + "</svg>";
}

}  // namespace parity::reports
