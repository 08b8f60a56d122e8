// `pv validate PATH...`: schema check of contracts (files, or directories searched recursively
// for *.yaml / *.yml). Output as upstream's pv: one line per finding, a blank line, the counts,
// "Contract is valid." when nothing is an error; then how many falsification tests are bound.
// Exit 0 valid, 1 any error finding, 2 a path or file that cannot be read or parsed.
// `test:` commands in the contracts are never executed.

#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "color.h"
#include "command_util.h"
#include "engine/error.h"
#include "harness/cli/command.h"
#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

std::vector<std::string> split_names(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) {
        std::stringstream ss(v);
        std::string name;
        while (std::getline(ss, name, ',')) {
            if (!name.empty()) out.push_back(name);
        }
    }
    return out;
}

/// A finding line with its "[ERROR]" / "[WARN]" / "[INFO]" tag coloured when `color`.
std::string finding_line(const contract::Finding& f, const std::string& file, bool color) {
    const std::string line = contract::format_finding(f, file);
    const std::size_t tag = line.find(']') + 1;
    const Paint p = f.severity == contract::Severity::Error     ? Paint::Red
                    : f.severity == contract::Severity::Warning ? Paint::Yellow
                                                                : Paint::Dim;
    return paint(std::string_view(line).substr(0, tag), p, color) + line.substr(tag);
}

po::options_description validate_options() {
    po::options_description opts(
        "pv validate PATH... [options]\n\n"
        "Checks contracts against the schema (upstream's SCHEMA/PROVABILITY rules, unknown keys, enum values)\n"
        "and every `harness:` binding against the falsifier registry. PATH is a contract file or a directory\n"
        "searched recursively for *.yaml and *.yml. `test:` commands are never run.\n"
        "Exit: 0 valid, 1 a contract has errors, 2 a path or file cannot be read or parsed");
    opts.add_options()("help,h", "show this help")(
        "paths", po::value<std::vector<std::string>>()->composing(),
        "the suite's path names (comma-separated, repeatable); bindings may name only these")(
        "quiet,q", "print errors only (warnings are still counted)")(
        "color", po::value<std::string>()->default_value("auto"),
        "auto | always | never: colour the verdicts (auto: on a terminal, unless CI or NO_COLOR is set)");
    return opts;
}

int run_validate(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = validate_options();
    const auto parsed = parse_or_help(args, opts, {{"path", -1}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("path")) throw po::error("missing PATH (a contract file or a directory of contracts)");

    contract::ValidateOptions options;
    if (vm.count("paths")) {
        options.known_paths = split_names(vm["paths"].as<std::vector<std::string>>());
        for (const auto& p : *options.known_paths) {
            if (!falsifiers::is_path_name(p)) throw po::error("--paths: `" + p + "` is not a path name");
        }
    }
    const bool quiet = vm.count("quiet") > 0;
    const bool color = use_color(parse_color_mode(vm["color"].as<std::string>()), io.out);

    const contract::CollectedFiles collected = contract::collect_contract_files(vm["path"].as<std::vector<std::string>>());
    for (const auto& e : collected.errors) io.err << "pv validate: error: " << e << "\n";
    if (collected.files.empty()) return kExitUsage;

    std::size_t errors = collected.errors.size(), warnings = 0;
    std::size_t valid = 0, invalid = 0, unreadable = 0;
    contract::TestCounts tests;
    for (const auto& file : collected.files) {
        const std::string name = file.string();
        contract::Contract c;
        try {
            c = contract::load_contract_file(file);
        } catch (const contract::ContractParseError& e) {
            io.err << "pv validate: error: " << e.what() << "\n";
            ++errors;
            ++unreadable;
            continue;
        } catch (const IoError& e) {
            io.err << "pv validate: error: " << e.what() << "\n";
            ++errors;
            ++unreadable;
            continue;
        }
        std::size_t file_errors = 0;
        for (const auto& f : contract::validate_contract(c, options)) {
            if (f.severity == contract::Severity::Error) {
                ++file_errors;
            } else if (f.severity == contract::Severity::Warning) {
                ++warnings;
            }
            if (!quiet || f.severity == contract::Severity::Error) io.out << finding_line(f, name, color) << "\n";
        }
        errors += file_errors;
        (file_errors == 0 ? valid : invalid) += 1;
        const contract::TestCounts t = contract::count_tests(c);
        tests.total += t.total;
        tests.bound += t.bound;
        tests.unbound += t.unbound;
    }

    const std::string counts = std::to_string(errors) + " error(s), " + std::to_string(warnings) + " warning(s)";
    io.out << "\n" << (errors > 0 ? paint(counts, Paint::Red, color) : counts) << "\n";
    const std::size_t files = collected.files.size();
    if (errors == 0) {
        io.out << paint(files == 1 ? std::string("Contract is valid.")
                                   : "All " + std::to_string(files) + " contracts are valid.",
                        Paint::Green, color)
               << "\n";
    }
    if (files > 1) {
        io.out << files << " contracts: " << valid << " valid, " << invalid << " invalid";
        if (unreadable > 0) io.out << ", " << unreadable << " unreadable";
        io.out << "\n";
    }
    io.out << tests.total << " falsification tests: " << tests.bound << " bound, " << tests.unbound << " unbound\n";

    if (unreadable > 0 || !collected.errors.empty()) return kExitUsage;
    return errors > 0 ? kExitFail : kExitOk;
}

}  // namespace

Command validate_command() {
    return {"validate", "check contracts: schema, enum values, unknown keys, harness bindings", run_validate,
            [] { return describe_options(validate_options()); }};
}

}  // namespace parity::cli
