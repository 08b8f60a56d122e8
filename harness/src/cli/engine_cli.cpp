// Shared options of pv trace / generate / bench.

#include "engine_cli.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>

#include "engine/error.h"
#include "engine/runtime/cuda_module.h"
#include "engine/tokenizer/tokenizer.h"

namespace po = boost::program_options;

namespace parity::cli {

void add_forward_options(po::options_description& opts, const char* matmul_default) {
    // clang-format off
    opts.add_options()
        ("prompt", po::value<std::string>(), "input text, encoded with the model's tokenizer")
        ("tokens", po::value<std::string>(), "input token ids, comma-separated (e.g. 1021,17,263)")
        ("matmul", po::value<std::string>()->default_value(matmul_default),
         "dequant (weights to f32, float math) | ggml (activations converted to the weight's dot type, as ggml's CPU)")
        ("kv-type", po::value<std::string>()->default_value("f32"), "KV cache element type: f32 | f16 (llama.cpp's default)")
        ("backend", po::value<std::string>()->default_value("cpu"), "cpu | cuda | f64")
        ("threads", po::value<int>()->default_value(0), "worker threads (0: every hardware thread)");
    // clang-format on
}

std::vector<std::int32_t> parse_token_list(const std::string& text) {
    std::vector<std::int32_t> ids;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        std::size_t b = pos;
        std::size_t e = comma;
        while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
        std::int32_t v = 0;
        const auto r = std::from_chars(text.data() + b, text.data() + e, v);
        if (b == e || r.ec != std::errc() || r.ptr != text.data() + e || v < 0) {
            throw UsageError("--tokens: entry " + std::to_string(ids.size() + 1) + " ('" + text.substr(b, e - b) +
                             "') is not a token id (expected non-negative integers separated by commas)");
        }
        ids.push_back(v);
        pos = comma + 1;
    }
    return ids;
}

InputTokens input_tokens(const po::variables_map& vm, const Model& model) {
    const bool has_prompt = vm.count("prompt") > 0;
    const bool has_tokens = vm.count("tokens") > 0;
    if (has_prompt == has_tokens) throw po::error("give exactly one of --prompt TEXT and --tokens IDS");
    InputTokens in;
    if (has_tokens) {
        in.ids = parse_token_list(vm["tokens"].as<std::string>());
    } else {
        in.prompt = vm["prompt"].as<std::string>();
        const Tokenizer tok(model.file().tokenizer());
        in.ids = tok.encode(*in.prompt);
        if (in.ids.empty()) throw UsageError("--prompt: the text encodes to no tokens");
    }
    return in;
}

void require_backend(BackendKind backend) {
    // An explicit --backend cuda must run on a GPU: an error, never a CPU fallback.
    if (backend == BackendKind::Cuda) {
        if (const auto& problem = cuda::cuda_backend().problem; !problem.empty()) {
            throw UsageError("--backend cuda cannot run here: " + problem);
        }
    }
}

void require_backend(const po::variables_map& vm) {
    if (const auto b = parse_backend(vm["backend"].as<std::string>())) require_backend(*b);
}

SessionOptions session_options(const po::variables_map& vm, int max_context) {
    SessionOptions o;
    const auto& matmul = vm["matmul"].as<std::string>();
    const auto& kv = vm["kv-type"].as<std::string>();
    const auto& backend = vm["backend"].as<std::string>();
    const auto m = parse_matmul_policy(matmul);
    if (!m) throw UsageError("--matmul: unknown policy '" + matmul + "' (expected dequant or ggml)");
    const auto k = parse_kv_type(kv);
    if (!k) throw UsageError("--kv-type: unknown type '" + kv + "' (expected f32 or f16)");
    const auto b = parse_backend(backend);
    if (!b) throw UsageError("--backend: unknown backend '" + backend + "' (expected cpu, cuda or f64)");
    require_backend(*b);
    const int threads = vm["threads"].as<int>();
    if (threads < 0) throw UsageError("--threads must be >= 0");
    o.matmul = *m;
    o.kv_type = *k;
    o.backend = *b;
    o.threads = threads;
    o.max_context = max_context;
    return o;
}

void follow_layers(SessionOptions& so, ProgressLine& line, int n_layers, std::int64_t passes) {
    auto done = std::make_shared<std::int64_t>(0);
    so.on_layer = [&line, done, n_layers, passes](int layer) {
        const std::int64_t pass = *done / n_layers;
        ++*done;
        std::string detail = "layer " + std::to_string(layer + 1) + "/" + std::to_string(n_layers);
        if (passes > 1) detail = "token " + std::to_string(std::min(pass + 1, passes)) + "/" + std::to_string(passes) + ", " + detail;
        line.update(static_cast<double>(*done) / static_cast<double>(n_layers * passes), detail);
    };
}

}  // namespace parity::cli
