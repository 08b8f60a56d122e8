#include "reports/junit_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <vector>

#include "reports/describe.h"
#include "reports/text.h"

namespace parity::reports {

namespace {

constexpr std::size_t kMaxListedRows = 50;  // longer per-layer lists are in report.json

/// An UNMEASURED test is a <failure type="UNMEASURED"> (it fails the run) or, when the suite
/// allows it, a <skipped type="UNMEASURED">; the `unmeasured` attribute counts them apart.
bool unmeasured_fails(const TestResult& r) { return r.status == Status::Unmeasured && !r.allow_unmeasured; }

struct Counts {
    std::size_t tests = 0, failures = 0, errors = 0, skipped = 0, unmeasured = 0;
    double seconds = 0.0;
    void add(const TestResult& r, double secs) {
        ++tests;
        if (r.status == Status::Fail || unmeasured_fails(r)) ++failures;
        if (r.status == Status::Error) ++errors;
        if (r.status == Status::Skipped || r.status == Status::Unbound) ++skipped;
        if (r.status == Status::Unmeasured) {
            ++unmeasured;
            if (r.allow_unmeasured) ++skipped;
        }
        seconds += secs;
    }
};

struct Suite {
    std::string contract;
    std::vector<const TestResult*> tests;
    Counts counts;
};

double sane_seconds(double s) { return std::isfinite(s) && s > 0.0 ? s : 0.0; }

std::string format_seconds(double s) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, sane_seconds(s), std::chars_format::fixed, 3);
    return std::string(buf, res.ptr);
}

std::string attr(std::string_view name, std::string_view value) {
    return " " + std::string(name) + "=\"" + escape_xml(value, true) + "\"";
}

std::string count_attrs(const Counts& c) {
    return attr("tests", std::to_string(c.tests)) + attr("failures", std::to_string(c.failures)) +
           attr("errors", std::to_string(c.errors)) + attr("skipped", std::to_string(c.skipped)) +
           attr("unmeasured", std::to_string(c.unmeasured));
}

/// The text inside <failure> and <error>: what failed, where, the numbers, and the repro line.
std::string details(const TestResult& r) {
    std::string out = std::string(to_string(r.status)) + ": " + r.message + "\n";
    if (const auto d = first_divergence(r)) out += "first divergence: " + describe_divergence(*d) + "\n";
    if (!r.rule.empty()) out += "rule: " + r.rule + "\n";
    if (!r.prediction.empty()) out += "prediction: " + r.prediction + "\n";
    if (!r.if_fails.empty()) out += "if it fails: " + r.if_fails + "\n";
    if (!r.metrics.empty()) {
        out += "metrics:\n";
        for (const auto& [name, value] : r.metrics) out += "  " + name + " = " + format_number(value) + "\n";
    }
    const std::size_t failing = count_failing_rows(r);
    if (failing > 0) {
        out += "failing rows (" + (r.metric_name.empty() ? std::string("value") : r.metric_name) +
               "): " + std::to_string(failing) + " of " + std::to_string(r.per_layer.size()) + "\n";
        std::size_t listed = 0;
        for (const auto& row : r.per_layer) {
            if (row.pass) continue;
            if (listed++ == kMaxListedRows) {
                out += "  ... " + std::to_string(failing - kMaxListedRows) + " more in report.json\n";
                break;
            }
            out += "  " + describe_location(row.layer, row.slot) + ": " + format_number(row.value);
            const std::string bounds = describe_bounds(row);
            if (!bounds.empty()) out += " outside " + bounds;
            out += "\n";
        }
    }
    if (!r.repro.empty()) out += "repro: " + r.repro + "\n";
    return out;
}

void write_testcase(const TestResult& r, std::ostream& out) {
    out << "    <testcase" << attr("classname", junit_classname(r.contract)) << attr("name", r.id)
        << attr("time", format_seconds(r.seconds)) << ">\n";
    switch (r.status) {
        case Status::Pass: break;
        case Status::Fail: {
            const auto d = first_divergence(r);
            const std::string message = d ? describe_divergence(*d) : r.message;
            out << "      <failure" << attr("message", message.empty() ? "failed" : message) << ">"
                << escape_xml(details(r)) << "</failure>\n";
            break;
        }
        case Status::Error:
            out << "      <error" << attr("message", r.message.empty() ? "error" : r.message) << ">"
                << escape_xml(details(r)) << "</error>\n";
            break;
        case Status::Skipped:
            out << "      <skipped"
                << attr("message", r.message.empty() ? "skipped" : "skipped: " + r.message) << "/>\n";
            break;
        case Status::Unbound:
            out << "      <skipped" << attr("message", "unbound: no harness binding") << "/>\n";
            break;
        case Status::Unmeasured: {
            const std::string message = "unmeasured: " + (r.message.empty() ? std::string("no data") : r.message);
            if (r.allow_unmeasured) {
                out << "      <skipped" << attr("type", "UNMEASURED") << attr("message", message + " (allowed by the suite)")
                    << "/>\n";
            } else {
                out << "      <failure" << attr("type", "UNMEASURED") << attr("message", message) << ">"
                    << escape_xml(details(r)) << "</failure>\n";
            }
            break;
        }
    }
    if (!r.repro.empty())
        out << "      <system-out>" << escape_xml("repro: " + r.repro + "\n") << "</system-out>\n";
    out << "    </testcase>\n";
}

}  // namespace

std::string junit_classname(std::string_view contract) {
    std::string_view c = contract;
    for (;;) {
        if (c.starts_with("./"))
            c.remove_prefix(2);
        else if (c.starts_with("../"))
            c.remove_prefix(3);
        else
            break;
    }
    for (std::string_view ext : {".yaml", ".yml"}) {
        if (c.size() > ext.size() && c.ends_with(ext)) {
            c.remove_suffix(ext.size());
            break;
        }
    }
    std::string out(c);
    for (char& ch : out) {
        if (ch == '/' || ch == '\\') ch = '.';
    }
    return out;
}

void write_junit(const RunReport& report, std::ostream& out) {
    std::vector<Suite> suites;  // in order of each contract's first test
    Counts total;
    for (const auto& r : report.results) {
        auto it = std::find_if(suites.begin(), suites.end(),
                               [&](const Suite& s) { return s.contract == r.contract; });
        if (it == suites.end()) it = suites.insert(suites.end(), Suite{r.contract, {}, {}});
        it->tests.push_back(&r);
        it->counts.add(r, sane_seconds(r.seconds));
        total.add(r, 0.0);
    }
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites" << attr("name", report.tool) << count_attrs(total)
        << attr("time", format_seconds(report.seconds)) << ">\n";
    for (const auto& suite : suites) {
        out << "  <testsuite" << attr("name", suite.contract.empty() ? "(no contract)" : suite.contract)
            << count_attrs(suite.counts) << attr("time", format_seconds(suite.counts.seconds));
        if (!report.started_at.empty()) out << attr("timestamp", report.started_at);
        out << ">\n";
        for (const TestResult* r : suite.tests) write_testcase(*r, out);
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
}

}  // namespace parity::reports
