// `pv generate MODEL (--prompt TEXT | --tokens IDS) -n N`: greedy generation through the KV cache.

#include <cstdio>
#include <memory>
#include <ostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command_util.h"
#include "engine/error.h"
#include "engine/runtime/generate.h"
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine_cli.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

std::string ids_text(const std::vector<std::int32_t>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

po::options_description generate_options() {
    po::options_description opts(
        "pv generate MODEL (--prompt TEXT | --tokens IDS) -n N [options]\n\n"
        "Greedy generation: the prompt in one batched pass, then N tokens one at a time through\n"
        "the KV cache (argmax; stops early at an end-of-generation token unless --ignore-eos)");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("n,n", po::value<int>()->default_value(16), "tokens to generate");
    add_forward_options(opts);
    opts.add_options()
        ("ignore-eos", "keep generating past end-of-generation tokens")
        ("json", "print {prompt_tokens, generated_tokens, text, stopped, prefill_seconds, decode_seconds}");
    // clang-format on
    return opts;
}

int run_generate(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = generate_options();
    const auto parsed = parse_or_help(args, opts, {{"model"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("model")) throw po::error("missing MODEL");
    const int n = vm["n"].as<int>();
    if (n < 0) throw UsageError("-n must be >= 0");

    require_backend(vm);  // before the model is read: a GPU asked for and absent fails at once
    const Model model = Model::load(vm["model"].as<std::string>());
    const InputTokens in = input_tokens(vm, model);
    SessionOptions so = session_options(vm, static_cast<int>(in.ids.size()) + n);
    ProgressLine progress = ProgressLine::for_terminal(io.err, "generate");
    follow_layers(so, progress, model.config().n_layers, 1 + static_cast<std::int64_t>(n));  // prompt, then one per token
    auto session = create_session(model, so);

    // The tokenizer renders text and knows the end-of-generation ids; without one (a file with
    // no tokenizer metadata) only ids are printed.
    std::unique_ptr<Tokenizer> tok;
    try {
        tok = std::make_unique<Tokenizer>(model.file().tokenizer());
    } catch (const std::exception&) {
        if (in.prompt) throw;
    }
    std::function<bool(std::int32_t)> stop;
    if (tok && !vm.count("ignore-eos")) stop = [&](std::int32_t id) { return tok->is_eog(id); };

    const GenerationResult r = generate_greedy(*session, in.ids, n, stop);
    progress.finish();
    const double decode_tps = r.decode_seconds > 0 && r.tokens.size() > 1
                                  ? static_cast<double>(r.tokens.size() - 1) / r.decode_seconds
                                  : 0.0;
    if (vm.count("json")) {
        nlohmann::ordered_json j;
        j["prompt"] = in.prompt ? nlohmann::ordered_json(*in.prompt) : nlohmann::ordered_json(nullptr);
        j["prompt_tokens"] = in.ids;
        j["generated_tokens"] = r.tokens;
        j["text"] = tok ? nlohmann::ordered_json(tok->decode(r.tokens)) : nlohmann::ordered_json(nullptr);
        j["stopped"] = r.stopped;
        j["prefill_seconds"] = r.prefill_seconds;
        j["decode_seconds"] = r.decode_seconds;
        io.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return kExitOk;
    }
    io.out << "prompt ids:    " << ids_text(in.ids) << "\n";
    io.out << "generated ids: " << ids_text(r.tokens) << (r.stopped ? "  (stopped at end of generation)" : "") << "\n";
    if (tok) io.out << "text:          " << tok->decode(r.tokens) << "\n";
    char buf[128];
    std::snprintf(buf, sizeof buf, "prefill %.1f ms, decode %.1f tok/s\n", r.prefill_seconds * 1e3, decode_tps);
    io.err << buf;
    return kExitOk;
}

}  // namespace

Command generate_command() {
    return {"generate", "greedy generation through the KV cache", run_generate,
            [] { return describe_options(generate_options()); }};
}

}  // namespace parity::cli
