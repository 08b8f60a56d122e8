// `pv inspect FILE`: header, metadata and tensor table of a model file; optionally one
// tensor dequantized to raw little-endian f32.

#include <fstream>
#include <iomanip>
#include <ostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command_util.h"
#include "engine/error.h"
#include "engine/model/model_file.h"
#include "gguf_json.h"
#include "harness/cli/command.h"

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

std::string type_text(const apr::Json& v) {
    if (v.is_array()) return "array[" + std::to_string(v.size()) + "]";
    if (v.is_object()) return "object[" + std::to_string(v.size()) + "]";
    return v.type_name();
}

// One metadata row for the text listing: key, type, rendered value.
struct MetadataRow {
    std::string key;
    std::string type;
    std::string value;
};

std::vector<MetadataRow> metadata_rows(const ModelFile& m, std::size_t max_items) {
    std::vector<MetadataRow> rows;
    if (const auto* g = m.gguf()) {
        for (const auto& e : g->metadata()) rows.push_back({e.key, type_text(e.value), to_text(e.value, max_items)});
    } else {
        for (const auto& [key, value] : m.apr()->metadata().items()) {
            rows.push_back({key, type_text(value), to_text(value, max_items)});
        }
    }
    return rows;
}

nlohmann::ordered_json describe_json(const ModelFile& m) {
    nlohmann::ordered_json j;
    j["format"] = std::string(format_name(m.format()));
    if (const auto* g = m.gguf()) {
        j["version"] = g->version();
        j["alignment"] = g->alignment();
        j["metadata"] = nlohmann::ordered_json::object();
        for (const auto& e : g->metadata()) j["metadata"][e.key] = to_json(e.value);
    } else {
        const apr::File& a = *m.apr();
        j["version"] = std::to_string(a.version_major()) + "." + std::to_string(a.version_minor());
        j["alignment"] = apr::kAlignment;
        j["flags"] = a.flags();
        j["metadata"] = a.metadata();
    }
    j["tensors"] = nlohmann::ordered_json::array();
    for (const auto& t : m.tensors()) {
        j["tensors"].push_back(
            {{"name", t.name}, {"type", t.type_name}, {"shape", t.ne}, {"offset", t.offset}, {"bytes", t.bytes}});
    }
    return j;
}

void describe_header(const ModelFile& m, std::ostream& os) {
    std::uint64_t data_bytes = 0;
    for (const auto& t : m.tensors()) data_bytes += t.bytes;
    os << "file:      " << m.path() << "\n";
    if (const auto* g = m.gguf()) {
        os << "format:    GGUF v" << g->version() << "\n"
           << "alignment: " << g->alignment() << "\n"
           << "size:      " << g->file_size() << " bytes (data section at byte " << g->data_offset() << ", "
           << data_bytes << " bytes of tensor data)\n\n";
    } else {
        const apr::File& a = *m.apr();
        os << "format:    APR v" << int{a.version_major()} << "." << int{a.version_minor()} << "\n"
           << "flags:     0x" << std::hex << std::setw(4) << std::setfill('0') << a.flags() << std::dec
           << std::setfill(' ') << "\n"
           << "alignment: " << apr::kAlignment << "\n"
           << "size:      " << a.file_size() << " bytes (metadata at byte " << a.metadata_offset() << ", index at "
           << a.tensor_index_offset() << ", data at " << a.data_offset() << ", " << data_bytes
           << " bytes of tensor data; header CRC and footer CRC verified)\n\n";
    }
}

void describe_text(const ModelFile& m, bool all, std::ostream& os) {
    describe_header(m, os);
    const auto rows = metadata_rows(m, all ? 0 : kAbbreviatedItems);
    std::size_t key_width = 3;
    for (const auto& r : rows) key_width = std::max(key_width, r.key.size());
    os << "metadata (" << rows.size() << " keys):\n";
    for (const auto& r : rows) {
        os << "  " << std::left << std::setw(static_cast<int>(key_width)) << r.key << "  " << std::setw(16) << r.type
           << " " << r.value << "\n";
    }

    std::size_t name_width = 4;
    for (const auto& t : m.tensors()) name_width = std::max(name_width, t.name.size());
    os << "\ntensors (" << m.tensors().size() << "):\n"
       << "  " << std::left << std::setw(static_cast<int>(name_width)) << "name"
       << "  " << std::setw(8) << "type" << std::setw(22) << "shape (ne)" << std::right << std::setw(12) << "offset"
       << std::setw(12) << "bytes" << "\n";
    for (const auto& t : m.tensors()) {
        os << "  " << std::left << std::setw(static_cast<int>(name_width)) << t.name << "  " << std::setw(8)
           << t.type_name << std::setw(22) << shape_text(t.ne) << std::right << std::setw(12) << t.offset
           << std::setw(12) << t.bytes << "\n";
    }
}

void write_dequantized(const ModelFile& m, const std::string& name, const std::string& out_path, std::ostream& os) {
    const ModelTensor& t = m.tensor(name);
    const std::vector<float> values = m.dequantize(t);
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(out_path, "cannot create file");
    // Little-endian f32: this is the host order on every platform we build for (x86-64, arm64).
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
    if (!out) throw IoError(out_path, "write failed");
    os << "wrote " << values.size() << " f32 values of '" << t.name << "' (" << t.type_name << " " << shape_text(t.ne)
       << ", ne0 fastest) to " << out_path << "\n";
}

po::options_description inspect_options() {
    po::options_description opts("pv inspect FILE [options]\n\nShows a model file's header, metadata and tensors (GGUF or APR, told apart by magic)");
    opts.add_options()("help,h", "show this help")("json", "print one JSON object instead of text")(
        "all", "print long metadata arrays whole (text output)")("tensor", po::value<std::string>(),
                                                                 "tensor to dequantize (with --dequant)")(
        "dequant", po::value<std::string>(), "write the --tensor dequantized as little-endian f32, ne0 fastest");
    return opts;
}

int run_inspect(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = inspect_options();
    const auto parsed = parse_or_help(args, opts, {{"file"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("file")) throw po::error("missing FILE");
    if (vm.count("tensor") != vm.count("dequant")) throw po::error("--tensor and --dequant go together");

    const ModelFile f = ModelFile::open(vm["file"].as<std::string>());
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

Command inspect_command() {
    return {"inspect", "show a GGUF or APR file's metadata and tensors; dequantize one", run_inspect,
            [] { return describe_options(inspect_options()); }};
}

}  // namespace parity::cli
