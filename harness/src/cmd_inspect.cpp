// `pv inspect FILE`: header, metadata and tensor table of a model file; optionally one
// tensor dequantized to raw little-endian f32.

#include <fstream>
#include <iomanip>
#include <ostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command_util.h"
#include "engine/error.h"
#include "engine/gguf.h"
#include "gguf_json.h"
#include "harness/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

constexpr std::size_t kAbbreviatedItems = 8;

std::string shape_text(const std::vector<std::int64_t>& ne) {
    std::string s = "[";
    for (std::size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

std::string type_text(const gguf::Value& v) {
    std::string s(gguf::value_type_name(v.type()));
    if (const auto* a = v.as_array()) {
        s += "[" + std::string(gguf::value_type_name(a->type)) + "," + std::to_string(a->items.size()) + "]";
    }
    return s;
}

nlohmann::json describe_json(const gguf::File& f) {
    nlohmann::json j;
    j["format"] = "gguf";
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["metadata"] = nlohmann::json::object();
    for (const auto& e : f.metadata()) j["metadata"][e.key] = to_json(e.value);
    j["tensors"] = nlohmann::json::array();
    for (const auto& t : f.tensors()) {
        j["tensors"].push_back({{"name", t.name},
                                {"type", std::string(type_name(t.type))},
                                {"shape", t.ne},
                                {"offset", t.offset},
                                {"bytes", t.n_bytes}});
    }
    return j;
}

void describe_text(const gguf::File& f, bool all, std::ostream& os) {
    std::uint64_t data_bytes = 0;
    for (const auto& t : f.tensors()) data_bytes += t.n_bytes;
    os << "file:      " << f.path() << "\n"
       << "format:    GGUF v" << f.version() << "\n"
       << "alignment: " << f.alignment() << "\n"
       << "size:      " << f.file_size() << " bytes (data section at byte " << f.data_offset() << ", "
       << data_bytes << " bytes of tensor data)\n\n";

    std::size_t key_width = 3;
    for (const auto& e : f.metadata()) key_width = std::max(key_width, e.key.size());
    os << "metadata (" << f.metadata().size() << " keys):\n";
    for (const auto& e : f.metadata()) {
        os << "  " << std::left << std::setw(static_cast<int>(key_width)) << e.key << "  " << std::setw(16)
           << type_text(e.value) << " " << to_text(e.value, all ? 0 : kAbbreviatedItems) << "\n";
    }

    std::size_t name_width = 4;
    for (const auto& t : f.tensors()) name_width = std::max(name_width, t.name.size());
    os << "\ntensors (" << f.tensors().size() << "):\n"
       << "  " << std::left << std::setw(static_cast<int>(name_width)) << "name"
       << "  " << std::setw(8) << "type" << std::setw(22) << "shape (ne)" << std::right << std::setw(12) << "offset"
       << std::setw(12) << "bytes" << "\n";
    for (const auto& t : f.tensors()) {
        os << "  " << std::left << std::setw(static_cast<int>(name_width)) << t.name << "  " << std::setw(8)
           << type_name(t.type) << std::setw(22) << shape_text(t.ne) << std::right << std::setw(12) << t.offset
           << std::setw(12) << t.n_bytes << "\n";
    }
}

void write_dequantized(const gguf::File& f, const std::string& name, const std::string& out_path, std::ostream& os) {
    const gguf::TensorInfo& t = f.tensor(name);
    const std::vector<float> values = f.dequantize(t);
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(out_path, "cannot create file");
    // Little-endian f32: this is the host order on every platform we build for (x86-64, arm64).
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
    if (!out) throw IoError(out_path, "write failed");
    os << "wrote " << values.size() << " f32 values of '" << t.name << "' (" << type_name(t.type) << " "
       << shape_text(t.ne) << ", ne0 fastest) to " << out_path << "\n";
}

int run_inspect(const std::vector<std::string>& args, Io io) {
    po::options_description opts("pv inspect FILE [options]\n\nShows a model file's header, metadata and tensors");
    opts.add_options()("help,h", "show this help")("json", "print one JSON object instead of text")(
        "all", "print long metadata arrays whole (text output)")("tensor", po::value<std::string>(),
                                                                 "tensor to dequantize (with --dequant)")(
        "dequant", po::value<std::string>(), "write the --tensor dequantized as little-endian f32, ne0 fastest");
    po::options_description hidden;
    hidden.add_options()("file", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("file", 1);

    const po::variables_map vm = parse_command_line(args, opts, hidden, pos);
    if (vm.count("help")) {
        io.out << opts << "\n";
        return kExitOk;
    }
    if (!vm.count("file")) throw po::error("missing FILE");
    if (vm.count("tensor") != vm.count("dequant")) throw po::error("--tensor and --dequant go together");

    const gguf::File f = gguf::File::open(vm["file"].as<std::string>());
    if (vm.count("tensor")) {
        write_dequantized(f, vm["tensor"].as<std::string>(), vm["dequant"].as<std::string>(), io.err);
        return kExitOk;
    }
    if (vm.count("json")) {
        io.out << describe_json(f).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        describe_text(f, vm.count("all") > 0, io.out);
    }
    return kExitOk;
}

}  // namespace

Command inspect_command() { return {"inspect", "show a GGUF file's metadata and tensors; dequantize one", run_inspect}; }

}  // namespace parity::cli
