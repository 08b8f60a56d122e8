#include "reports/markdown_report.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "reports/describe.h"
#include "reports/text.h"

namespace parity::reports {

namespace {

constexpr std::size_t kMaxListedRows = 50;  // longer per-layer lists are in report.json

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// Text that renders literally inside a paragraph, list item or table cell.
std::string inline_text(std::string_view raw) {
    const std::string text = to_xml_chars(raw);  // valid UTF-8, no control characters but \t\n\r
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (c) {
            case '\r':
                if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
                out += "<br>";
                break;
            case '\n': out += "<br>"; break;
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '_': {
                // snake_case stays readable: an underscore between letters never emphasizes.
                const bool inside =
                    i > 0 && i + 1 < text.size() && is_alnum(text[i - 1]) && is_alnum(text[i + 1]);
                out += inside ? "_" : "\\_";
                break;
            }
            case '\\':
            case '|':
            case '`':
            case '*':
            case '[':
            case ']':
            case '~':
            case '#':
                out += '\\';
                out += c;
                break;
            default: out += c; break;
        }
    }
    return out;
}

std::size_t longest_backtick_run(std::string_view text) {
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return longest;
}

/// An inline code span (line breaks become spaces). Not for table cells: `|` would split them.
std::string code_span(std::string_view raw) {
    std::string text = to_xml_chars(raw);
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::replace(text.begin(), text.end(), '\r', ' ');
    const std::string ticks(longest_backtick_run(text) + 1, '`');
    const bool pad = !text.empty() &&
                     (text.front() == '`' || text.back() == '`' || text.front() == ' ' || text.back() == ' ');
    return ticks + (pad ? " " : "") + text + (pad ? " " : "") + ticks;
}

/// A fenced code block that no line of `raw` can close.
std::string code_block(std::string_view raw, std::string_view info) {
    const std::string text = to_xml_chars(raw);
    const std::string fence(std::max<std::size_t>(3, longest_backtick_run(text) + 1), '`');
    return fence + std::string(info) + "\n" + text + "\n" + fence + "\n";
}

void write_section(const TestResult& r, std::ostream& out) {
    out << "\n## " << to_string(r.status) << ": " << inline_text(r.id) << "\n\n";
    out << "- message: " << inline_text(r.message) << "\n";
    if (r.status == Status::Unmeasured) {
        out << "- unmeasured: " << (r.allow_unmeasured ? "allowed by the suite (`allow_unmeasured`)" : "not allowed: the run exits 1")
            << "\n";
    }
    if (const auto d = first_divergence(r))
        out << "- first divergence: " << inline_text(describe_divergence(*d)) << "\n";
    if (!r.contract.empty()) out << "- contract: " << inline_text(r.contract) << "\n";
    if (!r.falsifier.empty()) out << "- falsifier: " << inline_text(r.falsifier) << "\n";
    if (!r.rule.empty()) out << "- rule: " << inline_text(r.rule) << "\n";
    if (!r.prediction.empty()) out << "- prediction: " << inline_text(r.prediction) << "\n";
    if (!r.if_fails.empty()) out << "- if it fails: " << inline_text(r.if_fails) << "\n";
    if (!r.metrics.empty()) {
        out << "\n| metric | value |\n|---|---|\n";
        for (const auto& [name, value] : r.metrics) {
            out << "| " << inline_text(name) << " | " << format_number(value) << " |\n";
        }
    }
    const std::size_t failing = count_failing_rows(r);
    for (const auto& note : r.notes) out << (&note == &r.notes.front() ? "\n" : "") << "- " << inline_text(note) << "\n";
    const bool table = std::any_of(r.per_layer.begin(), r.per_layer.end(),
                                   [](const LayerMetric& row) { return !row.details.empty(); });
    if (table) {
        // Rows with details (per_op) are a table in their own right: every row, in order.
        out << "\nAll rows (" << inline_text(r.metric_name.empty() ? "value" : r.metric_name) << "):\n\n";
        out << "| layer | slot | value | bounds | pass |";
        const auto& names = r.per_layer.front().details;
        for (const auto& d : names) out << " " << inline_text(d.first) << " |";
        out << "\n|---|---|---|---|---|";
        for (std::size_t i = 0; i < names.size(); ++i) out << "---|";
        out << "\n";
        for (const auto& row : r.per_layer) {
            out << "| " << (row.layer < 0 ? std::string("model") : std::to_string(row.layer)) << " | "
                << inline_text(row.slot) << " | " << format_number(row.value) << " | "
                << inline_text(describe_bounds(row)) << " | " << (row.pass ? "yes" : "**no**") << " |";
            for (const auto& d : row.details) out << " " << format_number(d.second) << " |";
            out << "\n";
        }
    } else if (failing > 0) {
        out << "\nFailing rows (" << inline_text(r.metric_name.empty() ? "value" : r.metric_name)
            << "): " << failing << " of " << r.per_layer.size() << "\n\n";
        out << "| layer | slot | value | bounds |\n|---|---|---|---|\n";
        std::size_t listed = 0;
        for (const auto& row : r.per_layer) {
            if (row.pass) continue;
            if (listed++ == kMaxListedRows) {
                out << "\n... " << failing - kMaxListedRows << " more in report.json\n";
                break;
            }
            out << "| " << (row.layer < 0 ? std::string("model") : std::to_string(row.layer)) << " | "
                << inline_text(row.slot) << " | " << format_number(row.value) << " | "
                << inline_text(describe_bounds(row)) << " |\n";
        }
    }
    if (!r.repro.empty()) out << "\nRepro:\n\n" << code_block(r.repro, "sh");
}

}  // namespace

void write_markdown(const RunReport& report, std::ostream& out) {
    out << "# Parity report\n\n";
    out << "- tool: " << inline_text(report.tool + " " + report.tool_version) << "\n";
    if (const std::string build = describe_build(report.build); !build.empty()) out << "- build: " << inline_text(build) << "\n";
    if (!report.started_at.empty()) out << "- started: " << inline_text(report.started_at) << "\n";
    out << "- duration: " << format_number(report.seconds, 4) << " s\n";
    if (!report.command.empty()) out << "- command: " << code_span(report.command) << "\n";
    out << "- exit code: " << exit_code(report) << "\n\n";
    out << describe_summary(report.summary()) << "\n";
    if (report.results.empty()) return;

    out << "\n| status | id | falsifier | message | first divergence |\n|---|---|---|---|---|\n";
    for (const auto& r : report.results) {
        const auto d = first_divergence(r);
        out << "| " << to_string(r.status) << " | " << inline_text(r.id) << " | " << inline_text(r.falsifier)
            << " | " << inline_text(r.message) << " | "
            << (d ? inline_text(describe_divergence(*d)) : std::string()) << " |\n";
    }
    for (const auto& r : report.results) {
        if (is_failure(r.status) || r.status == Status::Unmeasured) write_section(r, out);
    }
}

}  // namespace parity::reports
