// `pv bench MODEL`: prefill and decode throughput and peak memory of the forward pass. A
// benchmark, not a test: numbers depend on the machine.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command_util.h"
#include "engine/error.h"
#include "engine/runtime/generate.h"
#include "engine/model/model.h"
#include "engine_cli.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// Peak resident set size of this process in bytes (getrusage; Linux reports KiB).
double peak_rss_bytes() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) * 1024.0;
}

po::options_description bench_options() {
    po::options_description opts(
        "pv bench MODEL [options]\n\n"
        "Measures prefill (one batched pass over --prompt-tokens tokens) and decode (--gen-tokens\n"
        "single-token passes through the KV cache) throughput, and the peak RSS");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("prompt-tokens", po::value<int>()->default_value(64), "prompt length (deterministic token ids)")
        ("gen-tokens", po::value<int>()->default_value(32), "tokens to decode")
        ("repeat", po::value<int>()->default_value(1), "runs; the fastest is reported")
        ("trace", "record a full trace on every pass (measures the tracing overhead)")
        ("matmul", po::value<std::string>()->default_value("ggml"), "dequant | ggml")
        ("kv-type", po::value<std::string>()->default_value("f32"), "f32 | f16")
        ("backend", po::value<std::string>()->default_value("cpu"), "cpu | cuda")
        ("threads", po::value<int>()->default_value(0), "worker threads (0: every hardware thread)")
        ("json", "print one JSON object");
    // clang-format on
    return opts;
}

int run_bench(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = bench_options();
    const auto parsed = parse_or_help(args, opts, {{"model"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("model")) throw po::error("missing MODEL");
    const int n_prompt = vm["prompt-tokens"].as<int>();
    const int n_gen = vm["gen-tokens"].as<int>();
    const int repeat = vm["repeat"].as<int>();
    if (n_prompt < 1) throw UsageError("--prompt-tokens must be >= 1");
    if (n_gen < 0) throw UsageError("--gen-tokens must be >= 0");
    if (repeat < 1) throw UsageError("--repeat must be >= 1");
    const bool trace = vm.count("trace") > 0;

    const auto t_load = Clock::now();
    require_backend(vm);  // before the model is read: a GPU asked for and absent fails at once
    const Model model = Model::load(vm["model"].as<std::string>());
    const SessionOptions so = session_options(vm, n_prompt + n_gen);
    auto session = create_session(model, so);
    const double load_s = seconds_since(t_load);

    const ModelConfig& c = model.config();
    std::vector<std::int32_t> prompt(static_cast<std::size_t>(n_prompt));
    for (int i = 0; i < n_prompt; ++i) prompt[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7919L + 17) % c.n_vocab);
    std::vector<float> logits(static_cast<std::size_t>(c.n_vocab));
    TraceRecorder recorder(c.n_layers);
    TraceRecorder* rec = trace ? &recorder : nullptr;

    double best_prefill = 1e300;
    double best_decode = 1e300;
    for (int r = 0; r < repeat; ++r) {
        session->reset();
        recorder.begin();
        const auto t0 = Clock::now();
        session->evaluate(prompt, LogitsWanted::Last, logits, rec);
        best_prefill = std::min(best_prefill, seconds_since(t0));
        const auto t1 = Clock::now();
        for (int i = 0; i < n_gen; ++i) {
            const std::int32_t id = argmax(logits);
            recorder.begin();
            session->evaluate({&id, 1}, LogitsWanted::Last, logits, rec);
        }
        best_decode = std::min(best_decode, seconds_since(t1));
    }
    const double prefill_tps = n_prompt / best_prefill;
    const double decode_tps = n_gen > 0 ? n_gen / best_decode : 0.0;
    const double rss_mib = peak_rss_bytes() / (1024.0 * 1024.0);

    if (vm.count("json")) {
        nlohmann::ordered_json j;
        j["model"] = model.path();
        j["architecture"] = c.arch;
        j["threads"] = session->options().threads;
        j["matmul"] = std::string(to_string(so.matmul));
        j["kv_type"] = std::string(to_string(so.kv_type));
        j["trace"] = trace;
        j["load_seconds"] = load_s;
        j["prompt_tokens"] = n_prompt;
        j["prefill_seconds"] = best_prefill;
        j["prefill_tokens_per_second"] = prefill_tps;
        j["gen_tokens"] = n_gen;
        j["decode_seconds"] = best_decode;
        j["decode_tokens_per_second"] = decode_tps;
        j["peak_rss_mib"] = rss_mib;
        io.out << j.dump(2) << "\n";
        return kExitOk;
    }
    char buf[256];
    io.out << "model:   " << model.path() << " (" << c.arch << ", " << c.n_layers << " layers, hidden " << c.n_embd
           << ", vocab " << c.n_vocab << ")\n";
    io.out << "setup:   threads " << session->options().threads << ", matmul " << to_string(so.matmul) << ", kv "
           << to_string(so.kv_type) << ", trace " << (trace ? "on" : "off") << ", best of " << repeat << "\n";
    std::snprintf(buf, sizeof buf, "load:    %.3f s (mapping, checks, policy preparation)\n", load_s);
    io.out << buf;
    std::snprintf(buf, sizeof buf, "prefill: %d tokens in %.3f s = %.1f tok/s\n", n_prompt, best_prefill, prefill_tps);
    io.out << buf;
    std::snprintf(buf, sizeof buf, "decode:  %d tokens in %.3f s = %.1f tok/s\n", n_gen, best_decode, decode_tps);
    io.out << buf;
    std::snprintf(buf, sizeof buf, "peak RSS: %.1f MiB\n", rss_mib);
    io.out << buf;
    return kExitOk;
}

}  // namespace

Command bench_command() {
    return {"bench", "prefill / decode throughput and peak memory of the forward pass", run_bench,
            [] { return describe_options(bench_options()); }};
}

}  // namespace parity::cli
