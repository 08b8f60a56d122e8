#include "reports/html_report.h"

#include <cctype>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "reports/describe.h"
#include "reports/html_heatmap.h"
#include "reports/svg_chart.h"
#include "reports/text.h"

namespace parity::reports {

namespace {

constexpr std::size_t kMaxListedRows = 20;  // longer lists are in the chart and report.json

// Status colours: pass green, fail red, error orange, skipped grey, unbound amber, unmeasured purple.
constexpr std::string_view kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:980px;padding:16px;color:#1f2937;background:#f3f4f6}
h1{font-size:22px;margin:0 0 6px}h2{font-size:16px;margin:0 0 8px;overflow-wrap:anywhere}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#111827;color:#f9fafb;padding:8px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;margin:8px 0 0}
.run{color:#4b5563;margin:2px 0;overflow-wrap:anywhere}.sum{font-size:16px;margin:8px 0}
.pass{--c:#15803d}.fail{--c:#b91c1c}.error{--c:#c2410c}.skipped{--c:#6b7280}.unbound{--c:#a16207}.unmeasured{--c:#7e22ce}
.c{color:var(--c);font-weight:600}.z{opacity:.45}
.badge{display:inline-block;background:var(--c);color:#fff;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;vertical-align:middle}
.card{background:#fff;border:1px solid #e5e7eb;border-left:5px solid var(--c);border-radius:6px;padding:12px;margin:12px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:#6b7280}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:8px 0;background:#fff}td,th{border:1px solid #e5e7eb;padding:2px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.msg{font-weight:600;overflow-wrap:anywhere}.nf,.fl{color:#b91c1c;overflow-wrap:anywhere}.lg span{margin-right:12px}
.chart{display:block;max-width:100%;height:auto;margin-top:8px}
.band{fill:#22c55e;fill-opacity:.14;stroke:#16a34a;stroke-opacity:.35}
.ax{fill:none;stroke:#9ca3af}.gr{fill:none;stroke:#e5e7eb}.tk{font:10px sans-serif;fill:#6b7280}.m{text-anchor:middle}.e{text-anchor:end}
.chart polyline{fill:none;stroke-width:1.5}.chart circle{stroke:none}.chart .nan{fill:none;stroke-width:2}
.chart .f{fill:#dc2626;stroke:#dc2626}
.s0{color:#2563eb;fill:#2563eb;stroke:#2563eb}.s1{color:#7c3aed;fill:#7c3aed;stroke:#7c3aed}
.s2{color:#0891b2;fill:#0891b2;stroke:#0891b2}.s3{color:#db2777;fill:#db2777;stroke:#db2777}
.s4{color:#65a30d;fill:#65a30d;stroke:#65a30d}.s5{color:#ea580c;fill:#ea580c;stroke:#ea580c}
.hm{overflow-x:auto}.hm table{font-size:11px}.hm th span{writing-mode:vertical-rl;transform:rotate(180deg)}
.hm td{text-align:right;color:#111827;min-width:40px}.hm td.na{background:#f9fafb}.hm td.red{font-weight:700}
.hm td.first{outline:3px solid #111827;outline-offset:-3px}
.s6{color:#4b5563;fill:#4b5563;stroke:#4b5563}.s7{color:#0d9488;fill:#0d9488;stroke:#0d9488}
)css";

std::string status_class(Status s) {
    std::string out(to_string(s));
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string badge(Status s) {
    return "<span class=\"badge " + status_class(s) + "\">" + std::string(to_string(s)) + "</span>";
}

std::string count(std::size_t n, std::string_view what, std::string_view cls) {
    return "<span class=\"c " + std::string(cls) + (n == 0 ? " z" : "") + "\">" + std::to_string(n) + " " +
           std::string(what) + "</span>";
}

std::string join(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& s : list) out += (out.empty() ? "" : ", ") + s;
    return out;
}

void write_header(const RunReport& report, std::ostream& out) {
    const Summary s = report.summary();
    out << "<header><h1>Parity report</h1>\n<p class=\"run\">" << escape_xml(report.tool) << " "
        << escape_xml(report.tool_version);
    if (!report.started_at.empty()) out << " · started " << escape_xml(report.started_at);
    out << " · " << escape_xml(format_number(report.seconds, 4)) << " s · exit code " << exit_code(report)
        << "</p>\n";
    if (!report.command.empty())
        out << "<p class=\"run\"><code>" << escape_xml(report.command) << "</code></p>\n";
    if (const std::string build = describe_build(report.build); !build.empty())
        out << "<p class=\"run\">build: " << escape_xml(build) << "</p>\n";
    out << "<p class=\"sum\">" << s.total << " tests, " << s.evaluated()
        << " evaluated: " << count(s.passed, "passed", "pass") << ", " << count(s.failed, "failed", "fail")
        << ", " << count(s.errors, "errors", "error") << ", " << count(s.skipped, "skipped", "skipped")
        << ", " << count(s.unbound, "unbound", "unbound") << ", " << count(s.unmeasured, "unmeasured", "unmeasured");
    if (s.unmeasured_allowed > 0) out << " (" << s.unmeasured_allowed << " allowed)";
    out << "</p></header>\n";
}

void write_index(const RunReport& report, std::ostream& out) {
    if (report.results.empty()) return;
    out << "<table><tr><th>status</th><th>test</th><th>message</th></tr>\n";
    for (std::size_t i = 0; i < report.results.size(); ++i) {
        const TestResult& r = report.results[i];
        out << "<tr><td>" << badge(r.status) << "</td><td><a href=\"#t" << i + 1 << "\">" << escape_xml(r.id)
            << "</a></td><td>" << escape_xml(r.message) << "</td></tr>\n";
    }
    out << "</table>\n";
}

/// Lines under the chart: the legend, the failing rows, the non-finite values.
void write_chart_notes(const TestResult& r, std::ostream& out) {
    const auto slots = chart_series(r);
    out << "<p class=\"lg\">";
    for (std::size_t i = 0; i < slots.size(); ++i) {
        out << "<span class=\"s" << i % kChartSeriesColours << "\">&#9632; "
            << escape_xml(slots[i].empty() ? "(no slot)" : slots[i]) << "</span>";
    }
    out << "</p>\n";
    const auto list = [&](const char* cls, std::string_view what, auto keep) {
        std::vector<std::string> items;
        std::size_t n = 0;
        for (const auto& row : r.per_layer) {
            if (!keep(row)) continue;
            if (n++ < kMaxListedRows) {
                items.push_back(describe_location(row.layer, row.slot) + " = " + format_number(row.value));
            }
        }
        if (n == 0) return;
        std::string text = std::to_string(n) + " of " + std::to_string(r.per_layer.size()) + " rows " +
                           std::string(what) + ": " + join(items);
        if (n > kMaxListedRows) text += ", ... (" + std::to_string(n - kMaxListedRows) + " more)";
        out << "<p class=\"" << cls << "\">" << escape_xml(text) << "</p>\n";
    };
    list("fl", "fail", [](const LayerMetric& row) { return !row.pass; });
    list("nf", "are not finite (drawn on the chart's edge)",
         [](const LayerMetric& row) { return !std::isfinite(row.value); });
}

void write_card(const TestResult& r, std::size_t index, std::ostream& out) {
    out << "<section class=\"card " << status_class(r.status) << "\" id=\"t" << index + 1 << "\">\n<h2>"
        << badge(r.status) << " " << escape_xml(r.id) << "</h2>\n";
    if (!r.message.empty()) out << "<p class=\"msg\">" << escape_xml(r.message) << "</p>\n";
    if (r.status == Status::Unmeasured) {
        out << "<p class=\"run\">" << (r.allow_unmeasured ? "unmeasured, allowed by the suite (allow_unmeasured)"
                                                            : "unmeasured: the run exits 1 (the suite does not allow it)")
            << "</p>\n";
    }
    for (const auto& note : r.notes) out << "<p class=\"run\">" << escape_xml(note) << "</p>\n";
    out << "<dl>";
    const auto item = [&](std::string_view term, const std::string& value) {
        if (!value.empty()) out << "<dt>" << term << "</dt><dd>" << escape_xml(value) << "</dd>";
    };
    if (const auto d = first_divergence(r)) item("first divergence", describe_divergence(*d));
    item("contract", r.contract);
    item("falsifier", r.falsifier.empty() ? std::string("(none: no harness binding)") : r.falsifier);
    item("paths", join(r.paths));
    item("labels", join(r.labels));
    item("rule", r.rule);
    item("prediction", r.prediction);
    item("if it fails", r.if_fails);
    item("time", format_number(r.seconds, 4) + " s");
    out << "</dl>\n";
    if (!r.metrics.empty()) {
        out << "<table>";
        for (const auto& [name, value] : r.metrics) {
            out << "<tr><th>" << escape_xml(name) << "</th><td>" << escape_xml(format_number(value))
                << "</td></tr>";
        }
        out << "</table>\n";
    }
    if (const std::string heatmap = html_stage_heatmap(r); !heatmap.empty()) {
        out << heatmap << "\n";
    } else if (!r.per_layer.empty()) {
        out << svg_layer_chart(r) << "\n";
        write_chart_notes(r, out);
    }
    if (!r.repro.empty()) out << "<pre><code>" << escape_xml(r.repro) << "</code></pre>\n";
    out << "</section>\n";
}

}  // namespace

void write_html(const RunReport& report, std::ostream& out) {
    const Summary s = report.summary();
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        << "<title>Parity report: " << s.total << " tests, " << s.failed << " failed, " << s.errors
        << " errors" << (s.unmeasured > 0 ? ", " + std::to_string(s.unmeasured) + " unmeasured" : std::string())
        << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n";
    write_header(report, out);
    write_index(report, out);
    out << "<main>\n";
    for (std::size_t i = 0; i < report.results.size(); ++i) write_card(report.results[i], i, out);
    out << "</main>\n</body>\n</html>\n";
}

}  // namespace parity::reports
