// `pv bench MODEL`: prefill and decode throughput (a table of ppN / tgN tests, as llama-bench),
// decode bytes per second against the measured memory bandwidth, and peak memory. A
// benchmark, not a test: numbers depend on the machine.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <span>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench_measures.h"
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
        "Measures prefill (ppN: one batched pass over N prompt tokens) and decode (tgN: N single-token\n"
        "passes through the KV cache after the first prompt length) throughput, each for every value\n"
        "of its list; the decode bytes read per second against the machine's memory bandwidth (a\n"
        "STREAM triad measured here); and the peak RSS of the passes");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("prompt-tokens", po::value<std::string>()->default_value("64"), "prompt lengths, e.g. 64 or 64,512 (deterministic token ids)")
        ("gen-tokens", po::value<std::string>()->default_value("32"), "decode lengths, e.g. 32 or 32,128 (0: no decode)")
        ("repeat", po::value<int>()->default_value(1), "runs of each test; the fastest is reported")
        ("trace", "record a full trace on every pass (measures the tracing overhead)")
        ("no-bandwidth", "skip the memory bandwidth measurement (about 1 s and 384 MiB)")
        ("matmul", po::value<std::string>()->default_value("ggml"), "dequant | ggml")
        ("kv-type", po::value<std::string>()->default_value("f32"), "f32 | f16")
        ("backend", po::value<std::string>()->default_value("cpu"), "cpu | cuda | f64")
        ("threads", po::value<int>()->default_value(0), "worker threads (0: every hardware thread)")
        ("json", "print one JSON object");
    // clang-format on
    return opts;
}

/// One row of the table: a prefill (ppN) or decode (tgN) test.
struct BenchRow {
    std::string test;
    int tokens = 0;
    double seconds = 0.0;
    double tokens_per_second = 0.0;
    double gb_per_second = -1.0;  ///< decode only: bytes read per second / 1e9
};

int run_bench(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = bench_options();
    const auto parsed = parse_or_help(args, opts, {{"model"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("model")) throw po::error("missing MODEL");
    const std::vector<int> prompts = parse_int_list(vm["prompt-tokens"].as<std::string>(), "prompt-tokens", 1);
    const std::vector<int> gens = parse_int_list(vm["gen-tokens"].as<std::string>(), "gen-tokens", 0);
    const int repeat = vm["repeat"].as<int>();
    if (repeat < 1) throw UsageError("--repeat must be >= 1");
    const bool trace = vm.count("trace") > 0;
    const int max_prompt = *std::max_element(prompts.begin(), prompts.end());
    const int max_gen = *std::max_element(gens.begin(), gens.end());

    const auto t_load = Clock::now();
    require_backend(vm);  // before the model is read: a GPU asked for and absent fails at once
    const Model model = Model::load(vm["model"].as<std::string>());
    const SessionOptions so = session_options(vm, std::max(max_prompt, prompts.front() + max_gen));
    auto session = create_session(model, so);
    const double load_s = seconds_since(t_load);

    const ModelConfig& c = model.config();
    std::vector<std::int32_t> prompt(static_cast<std::size_t>(max_prompt));
    for (int i = 0; i < max_prompt; ++i) prompt[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7919L + 17) % c.n_vocab);
    std::vector<float> logits(static_cast<std::size_t>(c.n_vocab));
    TraceRecorder recorder(c.n_layers);
    TraceRecorder* rec = trace ? &recorder : nullptr;

    std::vector<BenchRow> rows;
    for (const int n : prompts) {
        double best = 1e300;
        for (int r = 0; r < repeat; ++r) {
            session->reset();
            recorder.begin();
            const auto t0 = Clock::now();
            session->evaluate(std::span(prompt).first(static_cast<std::size_t>(n)), LogitsWanted::Last, logits, rec);
            best = std::min(best, seconds_since(t0));
        }
        rows.push_back({"pp" + std::to_string(n), n, best, n / best});
    }
    for (const int n : gens) {
        if (n == 0) continue;
        double best = 1e300;
        for (int r = 0; r < repeat; ++r) {
            session->reset();
            session->evaluate(std::span(prompt).first(static_cast<std::size_t>(prompts.front())), LogitsWanted::Last,
                              logits, nullptr);
            const auto t0 = Clock::now();
            for (int i = 0; i < n; ++i) {
                const std::int32_t id = argmax(logits);
                recorder.begin();
                session->evaluate({&id, 1}, LogitsWanted::Last, logits, rec);
            }
            best = std::min(best, seconds_since(t0));
        }
        // Bytes per step at the average context of the timed steps.
        const double bytes = static_cast<double>(decode_bytes_per_token(model, prompts.front() + n / 2, so.kv_type));
        rows.push_back({"tg" + std::to_string(n), n, best, n / best, bytes * n / best / 1e9});
    }
    const double rss_mib = peak_rss_bytes() / (1024.0 * 1024.0);  // before the triad's arrays
    const double bandwidth = vm.count("no-bandwidth") ? -1.0 : stream_triad_gbps(session->options().threads);
    const auto fraction = [&](const BenchRow& r) {
        return r.gb_per_second >= 0.0 && bandwidth > 0.0 ? r.gb_per_second / bandwidth : -1.0;
    };
    const auto first = [&](const char* kind) -> const BenchRow* {
        for (const BenchRow& r : rows) {
            if (r.test.rfind(kind, 0) == 0) return &r;
        }
        return nullptr;
    };

    if (vm.count("json")) {
        nlohmann::ordered_json j;
        j["model"] = model.path();
        j["architecture"] = c.arch;
        j["backend"] = std::string(to_string(so.backend));
        j["threads"] = session->options().threads;
        j["matmul"] = std::string(to_string(so.matmul));
        j["kv_type"] = std::string(to_string(so.kv_type));
        j["trace"] = trace;
        j["load_seconds"] = load_s;
        // The first prefill and decode test, flat (the keys of earlier versions).
        const BenchRow* pp = first("pp");
        const BenchRow* tg = first("tg");
        j["prompt_tokens"] = pp->tokens;
        j["prefill_seconds"] = pp->seconds;
        j["prefill_tokens_per_second"] = pp->tokens_per_second;
        j["gen_tokens"] = tg ? tg->tokens : 0;
        j["decode_seconds"] = tg ? tg->seconds : 0.0;
        j["decode_tokens_per_second"] = tg ? tg->tokens_per_second : 0.0;
        j["peak_rss_mib"] = rss_mib;
        if (bandwidth > 0.0) j["memory_bandwidth_gbps"] = bandwidth;
        nlohmann::ordered_json tests = nlohmann::ordered_json::array();
        for (const BenchRow& r : rows) {
            nlohmann::ordered_json t;
            t["test"] = r.test;
            t["tokens"] = r.tokens;
            t["seconds"] = r.seconds;
            t["tokens_per_second"] = r.tokens_per_second;
            if (r.gb_per_second >= 0.0) t["gb_per_second"] = r.gb_per_second;
            if (fraction(r) >= 0.0) t["fraction_of_bandwidth"] = fraction(r);
            tests.push_back(std::move(t));
        }
        j["tests"] = std::move(tests);
        io.out << j.dump(2) << "\n";
        return kExitOk;
    }
    char buf[256];
    io.out << "model:   " << model.path() << " (" << c.arch << ", " << c.n_layers << " layers, hidden " << c.n_embd
           << ", vocab " << c.n_vocab << ")\n";
    io.out << "setup:   backend " << to_string(so.backend) << ", threads " << session->options().threads << ", matmul "
           << to_string(so.matmul) << ", kv " << to_string(so.kv_type) << ", trace " << (trace ? "on" : "off")
           << ", best of " << repeat << "\n";
    std::snprintf(buf, sizeof buf, "load:    %.3f s (mapping, checks, policy preparation)\n\n", load_s);
    io.out << buf;
    io.out << "| test | seconds | tok/s | GB/s read | of bandwidth |\n|---|---|---|---|---|\n";
    for (const BenchRow& r : rows) {
        std::snprintf(buf, sizeof buf, "| %s | %.3f | %.1f | ", r.test.c_str(), r.seconds, r.tokens_per_second);
        io.out << buf;
        if (r.gb_per_second >= 0.0) {
            std::snprintf(buf, sizeof buf, "%.2f | ", r.gb_per_second);
            io.out << buf;
        } else {
            io.out << "| ";
        }
        if (fraction(r) >= 0.0) {
            std::snprintf(buf, sizeof buf, "%.0f %% |\n", 100.0 * fraction(r));
            io.out << buf;
        } else {
            io.out << "|\n";
        }
    }
    io.out << "\n";
    if (bandwidth > 0.0) {
        std::snprintf(buf, sizeof buf, "memory bandwidth: %.2f GB/s (STREAM triad, %d threads)\n", bandwidth,
                      session->options().threads);
        io.out << buf;
    }
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
