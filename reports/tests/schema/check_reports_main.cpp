// report_schema_check SCHEMA PATH...: validates report.json files against SCHEMA. A PATH is a
// report file or a directory searched recursively for report.json. Prints one line per
// violation ("FILE: $.tests[0].status: ..."), then a count.
// Exit: 0 all valid, 1 a report is invalid or unreadable, 2 bad usage or schema, 77 no report found.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "json_schema.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: report_schema_check SCHEMA PATH...\n";
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        const fs::path p(argv[i]);
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
                if (e.is_regular_file() && e.path().filename() == "report.json") files.push_back(e.path());
            }
        } else if (fs::exists(p, ec)) {
            files.push_back(p);
        }
    }
    try {
        const auto schema = parity::testing::JsonSchema::load(argv[1]);
        if (files.empty()) {
            std::cout << "report_schema_check: no report.json under the given paths\n";
            return 77;
        }
        std::size_t bad = 0;
        for (const auto& f : files) {
            std::ifstream in(f);
            std::vector<std::string> errors;
            try {
                errors = schema.validate(nlohmann::json::parse(in));
            } catch (const nlohmann::json::exception& e) {
                errors.push_back(std::string("not JSON: ") + e.what());
            }
            for (const auto& e : errors) std::cout << f.string() << ": " << e << "\n";
            bad += errors.empty() ? 0 : 1;
        }
        std::cout << files.size() << " report(s) checked against " << argv[1] << ": " << files.size() - bad
                  << " valid, " << bad << " invalid\n";
        return bad == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "report_schema_check: " << e.what() << "\n";
        return 2;
    }
}
