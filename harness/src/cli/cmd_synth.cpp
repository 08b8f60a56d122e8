// `pv synth`: deterministic synthetic models in GGUF (and an APR copy).

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "engine/model/convert.h"
#include "engine/error.h"
#include "engine/synth/synth.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

std::vector<FileType> parse_types(const std::string& list) {
    std::vector<FileType> out;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto t = file_type_from_name(item);
        if (!t) {
            std::string known;
            for (auto k : all_file_types()) known += (known.empty() ? "" : ", ") + std::string(file_type_name(k));
            throw UsageError("unknown --types entry '" + item + "' (known: " + known + ")");
        }
        out.push_back(*t);
    }
    if (out.empty()) throw UsageError("--types is empty");
    return out;
}

std::string upper(std::string_view s) {
    std::string u(s);
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
}

po::options_description synth_options() {
    po::options_description opts(
        "pv synth [options]\n\nWrites deterministic synthetic models (same arguments, same bytes) as GGUF");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("arch", po::value<std::string>(),
         "qwen2 | llama | qwen3 | qwen3moe | gemma3 | phi3; default: the preset's own, else qwen2")
        ("preset", po::value<std::string>()->default_value("tiny"),
         "tiny (every arch) | bench-1024 | bench-0.5b | bench-7b (qwen2, llama) | llama3-8b | qwen3-8b | "
         "qwen3-30b-a3b | gemma3-4b | phi3-mini (real shapes of one arch each)")
        ("layers", po::value<int>(), "override: number of blocks")
        ("embd", po::value<int>(), "override: embedding width")
        ("ff", po::value<int>(), "override: feed-forward width")
        ("heads", po::value<int>(), "override: attention heads")
        ("kv-heads", po::value<int>(), "override: key/value heads")
        ("head-dim", po::value<int>(), "override: head dimension (default embd / heads)")
        ("experts", po::value<int>(), "override: experts per layer (qwen3moe)")
        ("experts-used", po::value<int>(), "override: experts per token (qwen3moe)")
        ("expert-ff", po::value<int>(), "override: one expert's feed-forward width (qwen3moe)")
        ("window", po::value<int>(), "override: sliding window of the local layers (gemma3)")
        ("vocab", po::value<int>(), "override: vocabulary size (>= 259)")
        ("tied", po::value<bool>(), "override: tie the output projection to token_embd (true|false)")
        ("seed", po::value<std::uint64_t>()->default_value(42), "weight seed")
        ("name", po::value<std::string>(), "model name (file name stem); default synth-ARCH-PRESET")
        ("types", po::value<std::string>()->default_value("f32"), "comma-separated file types: f32,f16,bf16,q8_0,q4_0,q4_1,q5_0,q5_1,q2_k,q3_k_s,q3_k_m,q4_k_s,q4_k_m,q5_k_s,q5_k_m,q6_k,iq4_nl,iq4_xs")
        ("apr", po::value<std::string>()->default_value("f32"),
         "APR copy: f32 (one APR with the F32 weights), keep (an APR per GGUF, converted with --dtype keep), none")
        ("output,o", po::value<std::string>()->default_value("."), "output directory (created if missing)");
    // clang-format on
    return opts;
}

int run_synth(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = synth_options();
    const auto parsed = parse_or_help(args, opts, {}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;

    const auto preset_name = vm["preset"].as<std::string>();
    std::string arch = vm.count("arch") ? vm["arch"].as<std::string>() : std::string(synth::preset_arch(preset_name));
    if (arch.empty()) arch = "qwen2";
    synth::ModelShape shape = synth::preset(arch, preset_name);
    bool custom = false;
    auto override_int = [&](const char* key, int& field) {
        if (vm.count(key)) {
            field = vm[key].as<int>();
            custom = true;
        }
    };
    override_int("layers", shape.n_layers);
    override_int("embd", shape.n_embd);
    override_int("ff", shape.n_ff);
    override_int("heads", shape.n_head);
    override_int("kv-heads", shape.n_head_kv);
    override_int("vocab", shape.n_vocab);
    override_int("head-dim", shape.n_head_dim);
    override_int("experts", shape.n_expert);
    override_int("experts-used", shape.n_expert_used);
    override_int("expert-ff", shape.n_ff_expert);
    override_int("window", shape.sliding_window);
    if (vm.count("tied")) {
        shape.tied = vm["tied"].as<bool>();
        custom = true;
    }
    if (vm.count("name")) {
        shape.name = vm["name"].as<std::string>();
    } else if (custom) {
        shape.name += "-custom";
    }
    synth::validate(shape);
    const auto types = parse_types(vm["types"].as<std::string>());
    const auto seed = vm["seed"].as<std::uint64_t>();
    const auto apr_mode = vm["apr"].as<std::string>();
    if (apr_mode != "f32" && apr_mode != "keep" && apr_mode != "none") {
        throw po::error("--apr must be f32, keep or none, not '" + apr_mode + "'");
    }

    const std::filesystem::path dir = vm["output"].as<std::string>();
    std::filesystem::create_directories(dir);
    auto timed = [&](const std::string& path, const auto& write) {
        const auto start = std::chrono::steady_clock::now();
        write();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        io.out << path << "  " << std::filesystem::file_size(path) << " bytes  " << std::fixed << std::setprecision(2)
               << seconds << " s\n";
    };
    const auto stem = (dir / shape.name).string();
    for (FileType ft : types) {
        const auto path = stem + "-" + upper(file_type_name(ft)) + ".gguf";
        timed(path, [&] { synth::write_gguf(shape, seed, ft, path, progress_bar(io.err, path)); });
        if (apr_mode == "keep") {
            const auto apr = stem + "-" + upper(file_type_name(ft)) + ".apr";
            timed(apr, [&] { convert_model(path, apr, ModelFormat::Apr, ConvertDtype::Keep, progress_bar(io.err, apr)); });
        }
    }
    if (apr_mode == "f32") {
        const auto apr = stem + "-F32.apr";
        timed(apr, [&] { synth::write_apr_f32(shape, seed, apr, progress_bar(io.err, apr)); });
    }
    return kExitOk;
}

}  // namespace

Command synth_command() {
    return {"synth", "write deterministic synthetic models (GGUF, APR)", run_synth,
            [] { return describe_options(synth_options()); }};
}

}  // namespace parity::cli
