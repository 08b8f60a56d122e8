// `pv convert IN -o OUT`: GGUF <-> APR with the same weights (or other tensor types).

#include <filesystem>
#include <map>
#include <ostream>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "engine/model/convert.h"
#include "engine/error.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

constexpr std::uint64_t kProgressThreshold = 100ull * 1000 * 1000;  // show progress for files over 100 MB

ModelFormat target_format(const std::string& in, const std::string& out, const po::variables_map& vm) {
    if (vm.count("to")) {
        const auto to = vm["to"].as<std::string>();
        if (to == "gguf") return ModelFormat::Gguf;
        if (to == "apr") return ModelFormat::Apr;
        throw po::error("--to must be gguf or apr, not '" + to + "'");
    }
    const auto ext = std::filesystem::path(out).extension().string();
    if (ext == ".gguf") return ModelFormat::Gguf;
    if (ext == ".apr") return ModelFormat::Apr;
    // No hint: the other format than the input's.
    return detect_format(in) == ModelFormat::Gguf ? ModelFormat::Apr : ModelFormat::Gguf;
}

ConvertDtype parse_dtype(const std::string& s) {
    if (s == "keep") return ConvertDtype::Keep;
    if (s == "f32") return ConvertDtype::F32;
    if (s == "f16") return ConvertDtype::F16;
    throw po::error("--dtype must be keep, f32 or f16, not '" + s + "'");
}

po::options_description convert_options() {
    po::options_description opts(
        "pv convert IN -o OUT [options]\n\nConverts a model between GGUF and APR (input format by magic; output "
        "format by --to, else OUT's extension, else the other format)");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("output,o", po::value<std::string>(), "output file")
        ("to", po::value<std::string>(), "output format: gguf | apr")
        ("dtype", po::value<std::string>()->default_value("keep"),
         "keep: each tensor keeps its type where the target has it, else F32; f32: all F32; f16: 2-D tensors F16");
    // clang-format on
    return opts;
}

int run_convert(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = convert_options();
    const auto parsed = parse_or_help(args, opts, {{"input"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("input")) throw po::error("missing IN");
    if (!vm.count("output")) throw po::error("missing -o OUT");
    const auto in = vm["input"].as<std::string>();
    const auto out = vm["output"].as<std::string>();
    if (std::error_code ec; std::filesystem::exists(out) && std::filesystem::equivalent(in, out, ec)) {
        throw UsageError("output " + out + " is the input file");
    }
    const ModelFormat target = target_format(in, out, vm);
    const ConvertDtype dtype = parse_dtype(vm["dtype"].as<std::string>());

    Progress progress;
    std::error_code ec;
    if (std::filesystem::file_size(in, ec) > kProgressThreshold && !ec) progress = progress_bar(io.err, out);
    const ConvertResult r = convert_model(in, out, target, dtype, progress);

    std::map<std::string, int> changes;  // "Q8_0 -> F32" -> count
    for (const auto& c : r.changed) ++changes[c.from + " -> " + c.to];
    for (const auto& [what, n] : changes) {
        io.err << "pv convert: " << n << " tensor(s) " << what
               << (dtype == ConvertDtype::Keep ? " (the target format has no such type)" : "") << "\n";
    }
    io.out << out << "  " << format_name(target) << "  " << r.tensors << " tensors, "
           << r.tensors - r.changed.size() << " copied unchanged, " << std::filesystem::file_size(out) << " bytes\n";
    return kExitOk;
}

}  // namespace

Command convert_command() {
    return {"convert", "convert a model between GGUF and APR", run_convert,
            [] { return describe_options(convert_options()); }};
}

}  // namespace parity::cli
