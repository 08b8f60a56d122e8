// pv bench's bandwidth and bytes-per-token measures (bench_measures.h).

#include "bench_measures.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <memory>

#include "engine/error.h"
#include "engine/parallel_for.h"

namespace parity::cli {

double stream_triad_gbps(int threads) {
    constexpr std::int64_t n = std::int64_t{1} << 24;  // 16 Mi doubles = 128 MiB per array
    constexpr std::int64_t chunk = std::int64_t{1} << 16;
    const auto a = std::make_unique<double[]>(n), b = std::make_unique<double[]>(n), c = std::make_unique<double[]>(n);
    // First touch by the workers that will stream the chunk.
    parallel_for(
        n / chunk,
        [&](std::int64_t k) {
            for (std::int64_t i = k * chunk; i < (k + 1) * chunk; ++i) {
                a[i] = 0.0;
                b[i] = 1.0;
                c[i] = 2.0;
            }
        },
        threads);
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        parallel_for(
            n / chunk,
            [&](std::int64_t k) {
                for (std::int64_t i = k * chunk; i < (k + 1) * chunk; ++i) a[i] = b[i] + 3.0 * c[i];
            },
            threads);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 3.0 * static_cast<double>(n) * sizeof(double) / best / 1e9;
}

std::uint64_t decode_bytes_per_token(const Model& model, int context, KvType kv) {
    const ModelConfig& c = model.config();
    double bytes = 0.0;
    auto add = [&](const WeightMatrix& w, double share) { bytes += share * static_cast<double>(w.data.size()); };
    const double expert_share = c.n_expert > 0 ? static_cast<double>(c.n_expert_used) / c.n_expert : 0.0;
    for (const LayerWeights& L : model.layers()) {
        for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.router}) {
            add(*w, 1.0);
        }
        for (const auto* ws : {&L.exp_gate, &L.exp_up, &L.exp_down}) {
            for (const WeightMatrix& w : *ws) add(w, expert_share);
        }
    }
    add(model.output(), 1.0);
    bytes += static_cast<double>(model.token_embd().row_bytes());
    const double elem = kv == KvType::F32 ? 4.0 : 2.0;
    bytes += 2.0 * c.n_layers * static_cast<double>(context) * static_cast<double>(model.kv_dim()) * elem;
    return static_cast<std::uint64_t>(bytes);
}

std::vector<int> parse_int_list(const std::string& text, const std::string& option, int min) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        int v = 0;
        const char* first = text.data() + start;
        const char* last = text.data() + end;
        const auto [p, ec] = std::from_chars(first, last, v);
        if (first == last || ec != std::errc() || p != last || v < min) {
            throw UsageError("--" + option + ": '" + text + "' is not a comma-separated list of integers >= " +
                             std::to_string(min));
        }
        out.push_back(v);
        start = end + 1;
    }
    return out;
}

}  // namespace parity::cli
