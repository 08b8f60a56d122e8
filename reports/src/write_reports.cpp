#include "reports/write_reports.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "reports/atomic_file.h"
#include "reports/html_report.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"

namespace parity::reports {

namespace {

struct Format {
    std::string_view name;
    std::string_view file;
    void (*write)(const RunReport&, std::ostream&);
};

constexpr Format kFormats[] = {
    {"json", "report.json", write_json},
    {"junit", "report.junit.xml", write_junit},
    {"md", "report.md", write_markdown},
    {"html", "report.html", write_html},
};

const Format* find_format(std::string_view name) {
    for (const auto& f : kFormats) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

}  // namespace

const std::vector<std::string>& report_formats() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& f : kFormats) out.emplace_back(f.name);
        return out;
    }();
    return names;
}

std::vector<std::string> write_reports(const RunReport& report, const std::string& dir,
                                       const std::vector<std::string>& formats) {
    std::vector<const Format*> chosen;
    std::string unknown;
    for (const auto& name : formats) {
        const Format* f = find_format(name);
        if (f == nullptr) {
            unknown += (unknown.empty() ? "'" : ", '") + name + "'";
        } else if (std::find(chosen.begin(), chosen.end(), f) == chosen.end()) {
            chosen.push_back(f);
        }
    }
    if (!unknown.empty()) {
        std::string known;
        for (const auto& f : kFormats) known += (known.empty() ? "" : ", ") + std::string(f.name);
        throw std::invalid_argument("unknown report format " + unknown + " (known: " + known + ")");
    }
    if (chosen.empty()) return {};

    const std::filesystem::path root(dir);
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) throw std::runtime_error(dir + ": cannot create report directory: " + ec.message());

    std::vector<std::string> written;
    for (const Format* f : chosen) {
        const std::string path = (root / f->file).string();
        write_file_atomically(path, [&](std::ostream& out) { f->write(report, out); });
        written.push_back(path);
    }
    return written;
}

}  // namespace parity::reports
