// `pv run CONTRACTS... [--suite ctest.cfg] [--path NAME=k=v,...] [--only ID] [--label L]
//        [--report-dir DIR] [--format json,junit,md,html] [--list]`
// Validates the contracts, runs every bound falsification test against the suite's paths
// (each path's trace, logits and generations computed once and shared), prints a summary table
// and writes the reports. docs/running.md describes it all.
// Exit: 0 every evaluated test passed, 1 any FAIL or ERROR (or UNMEASURED the suite does not
// allow), 2 bad usage or input, 77 nothing evaluated (everything skipped, unbound or allowed
// unmeasured).

#include <algorithm>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "color.h"
#include "command_util.h"
#include "harness/cli/command.h"
#include "harness/run/runner.h"
#include "harness/run/suite.h"
#include "reports/describe.h"
#include "reports/write_reports.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

std::vector<std::string> split_commas(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) {
        std::stringstream ss(v);
        std::string item;
        while (std::getline(ss, item, ',')) {
            if (!item.empty()) out.push_back(item);
        }
    }
    return out;
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

std::string one_line(std::string s, std::size_t max) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    if (s.size() > max) {
        // Cut on a UTF-8 character boundary.
        std::size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        s = s.substr(0, cut) + "...";
    }
    return s;
}

/// The status column's width (UNMEASURED, the one longer word, pushes its row's id right).
constexpr std::size_t kStatusWidth = 8;

/// The status column: the status word, coloured when `color`, padded to kStatusWidth columns.
std::string status_cell(reports::Status status, bool color) {
    const std::string_view word = reports::to_string(status);
    Paint p = Paint::Dim;
    switch (status) {
        case reports::Status::Pass: p = Paint::Green; break;
        case reports::Status::Fail: p = Paint::Red; break;
        case reports::Status::Error: p = Paint::BoldRed; break;
        case reports::Status::Skipped: p = Paint::Yellow; break;
        case reports::Status::Unbound: p = Paint::Dim; break;
        case reports::Status::Unmeasured: p = Paint::Magenta; break;
    }
    return paint(word, p, color) + std::string(word.size() < kStatusWidth ? kStatusWidth - word.size() : 0, ' ');
}

std::string fmt_num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

po::options_description run_options() {
    po::options_description opts(
        "pv run CONTRACT... [options]\n\n"
        "Runs the falsification tests of contracts (files, or directories searched for *.yaml / *.yml)\n"
        "against the suite's named paths, prints a summary and writes reports. Contracts are validated\n"
        "first. Without CONTRACT arguments, the suite's `contracts:` are run.\n"
        "Exit: 0 all evaluated tests passed, 1 any FAIL or ERROR, 2 bad usage or input, 77 nothing evaluated");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("suite", po::value<std::string>(), "suite config (YAML, e.g. ctest.cfg): prompt, models, paths, labels")
        ("path", po::value<std::vector<std::string>>()->composing(),
         "NAME=model=FILE,backend=cpu|cuda|f64,mode=full_sequence|incremental,matmul=dequant|ggml,kv_type=f32|f16,"
         "threads=N,inject=LAYER:SLOT:scale=F — define a path or override fields of a suite path (repeatable)")
        ("only", po::value<std::vector<std::string>>()->composing(), "run only the test with this id (repeatable, comma-separated)")
        ("label", po::value<std::vector<std::string>>()->composing(),
         "run only tests carrying this label (smoke, cpu, gpu, nightly, ...; repeatable, comma-separated)")
        ("report-dir", po::value<std::string>()->default_value("pv-reports"), "directory the reports are written to")
        ("format", po::value<std::string>()->default_value("json,junit,md,html"),
         "report formats, comma-separated: json, junit, md, html; or none")
        ("list", "print the selected tests (id, contract, labels, timeout, bound|unbound; tab-separated) and exit")
        ("list-paths", "print the suite's paths (name, description; tab-separated) and exit")
        ("color", po::value<std::string>()->default_value("auto"),
         "auto | always | never: colour the status column (auto: on a terminal, unless CI or NO_COLOR is set)");
    // clang-format on
    return opts;
}

int run_run(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = run_options();
    const auto parsed = parse_or_help(args, opts, {{"contract", -1}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;

    run::RunRequest req;
    if (vm.count("contract")) req.contracts = vm["contract"].as<std::vector<std::string>>();
    if (vm.count("suite")) req.suite_file = vm["suite"].as<std::string>();
    if (vm.count("path")) req.path_options = vm["path"].as<std::vector<std::string>>();
    if (vm.count("only")) req.only = split_commas(vm["only"].as<std::vector<std::string>>());
    if (vm.count("label")) req.labels = split_commas(vm["label"].as<std::vector<std::string>>());
    std::vector<std::string> formats = split_commas({vm["format"].as<std::string>()});
    if (formats.size() == 1 && formats[0] == "none") formats.clear();
    for (const auto& f : formats) {
        const auto& known = reports::report_formats();
        if (std::find(known.begin(), known.end(), f) == known.end()) {
            throw po::error("--format: unknown format '" + f + "' (expected json, junit, md, html or none)");
        }
    }
    const std::string report_dir = vm["report-dir"].as<std::string>();
    const bool color = use_color(parse_color_mode(vm["color"].as<std::string>()), io.out);

    if (vm.count("list-paths")) {
        run::SuiteConfig suite;
        try {
            if (req.suite_file) suite = run::load_suite(*req.suite_file);
            for (const auto& opt : req.path_options) run::apply_path_option(suite, opt);
        } catch (const run::SuiteError& e) {
            io.err << "pv run: error: " << e.what() << "\n";
            return kExitUsage;
        }
        for (const auto& p : suite.paths) io.out << p.name << "\t" << run::describe(p) << "\n";
        return kExitOk;
    }

    run::Plan plan;
    try {
        plan = run::plan_run(req);
    } catch (const run::RunInputError& e) {
        for (const auto& m : e.messages()) io.err << "pv run: error: " << m << "\n";
        return kExitUsage;
    }

    if (vm.count("list")) {
        for (const auto& t : plan.tests) {
            std::string labels;
            for (const auto& l : t.labels) labels += (labels.empty() ? "" : ",") + l;
            io.out << t.test->id.value << "\t" << t.contract << "\t" << labels << "\t" << fmt_num(t.timeout) << "\t"
                   << (t.falsifier ? "bound" : "unbound") << "\n";
        }
        return kExitOk;
    }

    std::string command = "pv run";
    for (const auto& a : args) command += " " + run::shell_quote(a);

    io.out << "pv run: " << plan.contracts.size() << (plan.contracts.size() == 1 ? " contract, " : " contracts, ")
           << plan.tests.size() << (plan.tests.size() == 1 ? " test" : " tests");
    if (req.suite_file) io.out << " (suite " << *req.suite_file << ")";
    io.out << "\n";
    run::PathCache cache(plan.suite);
    // The paths the selected tests read, in suite order.
    std::vector<const run::PathSpec*> used;
    for (const auto& p : plan.suite.paths) {
        const bool reads = std::any_of(plan.tests.begin(), plan.tests.end(), [&](const run::PlannedTest& t) {
            if (!t.falsifier) return false;
            const auto names = t.falsifier->paths();
            return std::find(names.begin(), names.end(), p.name) != names.end();
        });
        if (reads) used.push_back(&p);
    }
    if (!used.empty()) {
        io.out << "paths:\n";
        std::size_t w = 0;
        for (const auto* p : used) w = std::max(w, p->name.size());
        for (const auto* pp : used) {
            const run::PathSpec& p = *pp;
            io.out << "  " << pad(p.name, w) << "  " << run::describe(p);
            if (cache.missing_file(p.name)) {
                io.out << "  [file missing: its tests are ERROR]";
            } else if (cache.unavailable(p.name)) {
                io.out << "  [unavailable here]";
            }
            io.out << "\n";
        }
    }
    io.out << "\n";

    const reports::RunReport report = run::execute(plan, cache, command);

    std::size_t wid = 2, wfal = 9;
    for (const auto& r : report.results) {
        wid = std::max(wid, r.id.size());
        wfal = std::max(wfal, r.falsifier.size());
    }
    io.out << pad("STATUS", kStatusWidth) << " " << pad("ID", wid) << "  " << pad("FALSIFIER", wfal) << "  MESSAGE\n";
    for (const auto& r : report.results) {
        io.out << status_cell(r.status, color) << " " << pad(r.id, wid) << "  "
               << pad(r.falsifier.empty() ? "-" : r.falsifier, wfal) << "  " << one_line(r.message, 220) << "\n";
        if (reports::is_failure(r.status) || r.status == reports::Status::Unmeasured) {
            const std::string indent(kStatusWidth + 1, ' ');
            if (r.status == reports::Status::Unmeasured && r.allow_unmeasured) {
                io.out << indent << "allowed by the suite (allow_unmeasured): does not fail the run\n";
            }
            if (const auto d = reports::first_divergence(r)) {
                io.out << indent << "first divergence: " << one_line(reports::describe_divergence(*d), 200) << "\n";
            }
            io.out << indent << "repro: " << r.repro << "\n";
        }
    }
    const reports::Summary s = report.summary();
    io.out << "\n" << reports::describe_summary(s) << "\n";
    const run::CacheStats& cs = cache.stats();
    io.out << "computed once and shared: " << cs.traces << " traced passes, " << cs.logits << " logits passes, "
           << cs.generations << " generations (" << cs.models_loaded << " models loaded) in "
           << fmt_num(static_cast<double>(static_cast<long long>(report.seconds * 100.0)) / 100.0) << " s\n";

    if (!formats.empty()) {
        try {
            const auto written = reports::write_reports(report, report_dir, formats);
            io.out << "reports:";
            for (const auto& w : written) io.out << " " << w;
            io.out << "\n";
        } catch (const std::exception& e) {
            io.err << "pv run: error: " << e.what() << "\n";
            return kExitUsage;
        }
    }
    return reports::exit_code(report);
}

}  // namespace

Command run_command() {
    return {"run", "run the falsification tests of contracts against a suite's paths; write reports", run_run,
            [] { return describe_options(run_options()); }};
}

}  // namespace parity::cli
