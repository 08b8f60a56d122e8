// `pv trace MODEL (--prompt TEXT | --tokens IDS)`: per-layer activation statistics of one
// forward pass (upstream `apr trace --payload`), as text or JSON (docs/trace-json.md); with
// --save-tensor, the stage tensors of the pass as an APRT dump tree (docs/dumps.md).

#include <ostream>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "engine/error.h"
#include "engine/runtime/forward.h"
#include "engine/model/model.h"
#include "engine_cli.h"
#include "save_tensor.h"
#include "harness/cli/command.h"
#include "trace_json.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

po::options_description trace_options() {
    po::options_description opts(
        "pv trace MODEL (--prompt TEXT | --tokens IDS) [options]\n"
        "pv trace MODEL (--prompt TEXT | --tokens IDS) --save-tensor STAGES --output DIR [options]\n\n"
        "Runs one forward pass and prints per-layer activation statistics of ten slots\n"
        "(full_sequence: every position; incremental: the last token only), or with\n"
        "--save-tensor writes the stage tensors of every position as APRT files");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("mode", po::value<std::string>()->default_value("full_sequence"),
         "full_sequence (the prompt in one batched pass) | incremental (one token at a time through the KV cache)");
    add_forward_options(opts);
    opts.add_options()
        ("json", "print one JSON object (schema: docs/trace-json.md)")
        ("full-logits", "JSON: add logits.values, every logit of the last position")
        ("last-token-values", "JSON: add each layer's raw last-token vector per slot")
        ("save-tensor", po::value<std::string>(),
         "write stage tensors instead: all, or stage names separated by commas (docs/dumps.md)")
        ("output,o", po::value<std::string>(), "--save-tensor: the directory to write the dump tree to")
        ("layout", po::value<std::string>()->default_value("per-position"),
         "--save-tensor: per-position (DIR/pos-NNNN/layer-N/STAGE.bin) | concatenated (DIR/layer-N/STAGE.bin)");
    // clang-format on
    return opts;
}

int run_trace(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = trace_options();
    const auto parsed = parse_or_help(args, opts, {{"model"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("model")) throw po::error("missing MODEL");
    const auto& mode_name = vm["mode"].as<std::string>();
    const auto mode = parse_forward_mode(mode_name);
    if (!mode) throw UsageError("--mode: unknown mode '" + mode_name + "' (expected full_sequence or incremental)");
    const bool json = vm.count("json") > 0;
    if (!json && (vm.count("full-logits") || vm.count("last-token-values"))) {
        throw po::error("--full-logits and --last-token-values go with --json");
    }

    const bool save = vm.count("save-tensor") > 0;
    if (save != (vm.count("output") > 0)) throw po::error("--save-tensor and --output go together");
    if (save && json) throw po::error("--save-tensor writes files; it does not go with --json");
    if (!save && !vm["layout"].defaulted()) throw po::error("--layout goes with --save-tensor");
    const std::set<Stage> stages = save ? parse_stage_list(vm["save-tensor"].as<std::string>()) : std::set<Stage>{};
    const aprt::Layout layout = parse_layout(vm["layout"].as<std::string>());

    require_backend(vm);  // before the model is read: a GPU asked for and absent fails at once
    const Model model = Model::load(vm["model"].as<std::string>());
    const InputTokens in = input_tokens(vm, model);
    SessionOptions so = session_options(vm, static_cast<int>(in.ids.size()));
    ProgressLine progress = ProgressLine::for_terminal(io.err, "trace");
    follow_layers(so, progress, model.config().n_layers,
                  *mode == ForwardMode::FullSequence ? 1 : static_cast<std::int64_t>(in.ids.size()));
    auto session = create_session(model, so);
    if (save) {
        save_stage_tensors(*session, in.ids, *mode, stages, vm["output"].as<std::string>(), layout, io.out);
        progress.finish();
        return kExitOk;
    }
    const bool values = vm.count("last-token-values") > 0;
    const ForwardTrace trace = trace_forward(*session, in.ids, *mode, values);
    progress.finish();

    const ModelConfig& c = model.config();
    TraceInfo info;
    info.format = std::string(format_name(model.file().format()));
    info.architecture = c.arch;
    info.num_layers = c.n_layers;
    info.hidden_dim = c.n_embd;
    info.vocab_size = c.n_vocab;
    info.num_heads = c.n_head;
    info.num_kv_heads = c.n_head_kv;
    info.prompt = in.prompt;
    info.mode = std::string(to_string(*mode));
    info.matmul = std::string(to_string(so.matmul));
    info.kv_type = std::string(to_string(so.kv_type));
    info.backend = std::string(to_string(so.backend));

    if (json) {
        io.out << trace_json(info, trace, vm.count("full-logits") > 0, values)
                      .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
               << "\n";
    } else {
        write_trace_text(io.out, info, trace);
    }
    return kExitOk;
}

}  // namespace

Command trace_command() {
    return {"trace", "per-layer activation statistics of a forward pass (text or --json)", run_trace,
            [] { return describe_options(trace_options()); }};
}

}  // namespace parity::cli
