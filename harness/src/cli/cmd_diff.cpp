// `pv diff A B`: element-wise comparison of two APRT stage tensor files, or of two dump trees
// file by file (upstream `apr diff --values` on the files of `apr trace --save-tensor` and
// `apr parity --per-op`). Exit 0 when every pair is within tolerance, 1 when a pair differs or
// a file is on one side only, 2 for bad input (see docs/stage-diff.md).

#include <cmath>
#include <filesystem>
#include <ostream>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "diff_report.h"
#include "engine/error.h"
#include "engine/trace/aprt.h"
#include "engine/trace/aprt_tree.h"
#include "harness/cli/command.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace parity::cli {

namespace {

std::string layer_text(std::uint32_t layer) {
    return layer == aprt::kWholeModelLayer ? std::string("0xFFFFFFFF (whole model)") : std::to_string(layer);
}

/// The pair must have the same element count, and (for two files) the same header layer.
void check_pair(const aprt::Tensor& a, const aprt::Tensor& b, const std::string& a_path, const std::string& b_path,
                bool check_layer) {
    if (a.values.size() != b.values.size()) {
        throw FormatError(b_path, 8,
                          "element count " + std::to_string(b.values.size()) + " differs from " +
                              std::to_string(a.values.size()) + " in " + a_path);
    }
    if (check_layer && a.layer != b.layer) {
        throw FormatError(b_path, 4, "header layer " + layer_text(b.layer) + " differs from " + layer_text(a.layer) +
                                         " in " + a_path);
    }
}

std::string pair_key(const fs::path& a, const fs::path& b) {
    const std::string an = a.filename().string(), bn = b.filename().string();
    return an == bn ? an : an + " vs " + bn;
}

void diff_files(DiffReport& r) {
    const aprt::Tensor a = aprt::read_file(r.a);
    const aprt::Tensor b = aprt::read_file(r.b);
    check_pair(a, b, r.a, r.b, true);
    r.pairs.push_back({pair_key(r.a, r.b), r.a, r.b, a.layer, diff_tensors(a.values, b.values, r.tolerance, r.top)});
}

void diff_trees(DiffReport& r) {
    const aprt::DumpTree ta = aprt::scan_tree(r.a);
    const aprt::DumpTree tb = aprt::scan_tree(r.b);
    if (ta.layout != tb.layout) {
        throw UsageError(r.b + ": " + std::string(aprt::layout_name(tb.layout)) + " layout, but " + r.a + " is " +
                         std::string(aprt::layout_name(ta.layout)));
    }
    r.layout = std::string(aprt::layout_name(ta.layout));
    // Both lists are in forward order with unique keys: merge them.
    std::size_t i = 0, j = 0;
    while (i < ta.files.size() || j < tb.files.size()) {
        if (j == tb.files.size() || (i < ta.files.size() && aprt::forward_order_less(ta.files[i], tb.files[j]))) {
            r.only_a.push_back(ta.files[i++].key());
            continue;
        }
        if (i == ta.files.size() || aprt::forward_order_less(tb.files[j], ta.files[i])) {
            r.only_b.push_back(tb.files[j++].key());
            continue;
        }
        const aprt::DumpFile& fa = ta.files[i++];
        const aprt::DumpFile& fb = tb.files[j++];
        // Each header is checked against its file's place, so the layers agree.
        const aprt::Tensor a = aprt::read_dump_file(fa);
        const aprt::Tensor b = aprt::read_dump_file(fb);
        check_pair(a, b, fa.path.string(), fb.path.string(), false);
        r.pairs.push_back(
            {fa.key(), fa.path.string(), fb.path.string(), fa.layer, diff_tensors(a.values, b.values, r.tolerance, r.top)});
    }
}

double tolerance_value(const po::variables_map& vm, const char* name) {
    const double v = vm[name].as<double>();
    if (!std::isfinite(v) || v < 0.0) throw po::error(std::string("--") + name + " must be a finite number >= 0");
    return v;
}

po::options_description diff_options() {
    po::options_description opts(
        "pv diff A B [options]\n\n"
        "Compares two APRT stage tensor files element by element, or two dump trees file by file\n"
        "(DIR/pos-NNNN/[layer-N/]STAGE.bin or DIR/[layer-N/]STAGE.bin): element count, max|d|, RMS of d,\n"
        "cosine and the largest |d| per pair; in trees, the files found on one side only.\n"
        "An element is within tolerance when |a - b| <= atol + rtol * |b| (NaN equals only the same NaN bits).\n"
        "Exit: 0 every pair within tolerance, 1 a pair differs or a file is on one side only, 2 bad input");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("atol", po::value<double>()->default_value(0.0), "absolute tolerance (default 0: exact equality)")
        ("rtol", po::value<double>()->default_value(0.0), "tolerance relative to |b|")
        ("top", po::value<int>()->default_value(5), "how many of the largest |d| to list per pair (K >= 0)")
        ("json", "print one JSON object (schema: docs/stage-diff.md)");
    // clang-format on
    return opts;
}

int run_diff(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = diff_options();
    const auto parsed = parse_or_help(args, opts, {{"path-a"}, {"path-b"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("path-a") || !vm.count("path-b")) throw po::error("missing A and B (two APRT files or two dump trees)");

    DiffReport r;
    r.a = vm["path-a"].as<std::string>();
    r.b = vm["path-b"].as<std::string>();
    r.tolerance = {tolerance_value(vm, "atol"), tolerance_value(vm, "rtol")};
    const int top = vm["top"].as<int>();
    if (top < 0) throw po::error("--top must be >= 0");
    r.top = static_cast<std::size_t>(top);
    for (const auto& p : {r.a, r.b}) {
        if (!fs::exists(p)) throw IoError(p, "cannot open: no such file or directory");
    }
    const bool a_dir = fs::is_directory(r.a), b_dir = fs::is_directory(r.b);
    if (a_dir != b_dir) {
        throw UsageError(r.b + ": " + (b_dir ? "a directory" : "a file") + ", but " + r.a + " is " +
                         (a_dir ? "a directory" : "a file") + " (compare two files or two trees)");
    }
    r.trees = a_dir;
    if (r.trees) {
        diff_trees(r);
    } else {
        diff_files(r);
    }

    if (vm.count("json")) {
        io.out << diff_json(r).dump(2) << "\n";
    } else {
        write_diff_text(io.out, r);
    }
    return r.all_within() ? kExitOk : kExitFail;
}

}  // namespace

Command diff_command() {
    return {"diff", "compare APRT stage tensor files or dump trees element by element", run_diff,
            [] { return describe_options(diff_options()); }};
}

}  // namespace parity::cli
