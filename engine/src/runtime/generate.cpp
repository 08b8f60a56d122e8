// Greedy generation through the KV cache.

#include "engine/runtime/generate.h"

#include <chrono>

#include "engine/error.h"

namespace parity {

std::int32_t argmax(std::span<const float> logits) noexcept {
    std::int32_t best = 0;
    float best_v = 0.0f;
    bool found = false;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        const float v = logits[i];
        if (v != v) continue;  // NaN never wins
        if (!found || v > best_v) {
            best = static_cast<std::int32_t>(i);
            best_v = v;
            found = true;
        }
    }
    return best;
}

GenerationResult generate_greedy(Session& session, std::span<const std::int32_t> prompt, int n_new,
                                 const std::function<bool(std::int32_t)>& stop,
                                 const std::function<void(std::int32_t)>& on_token) {
    if (prompt.empty()) throw UsageError("generate: empty prompt");
    if (n_new < 0) throw UsageError("generate: negative token count");
    using Clock = std::chrono::steady_clock;
    GenerationResult r;
    r.tokens.reserve(static_cast<std::size_t>(n_new));
    std::vector<float> logits(static_cast<std::size_t>(session.model().config().n_vocab));
    session.reset();
    if (n_new == 0) return r;

    const auto t0 = Clock::now();
    session.evaluate(prompt, LogitsWanted::Last, logits, nullptr);
    const auto t1 = Clock::now();
    r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();

    for (int i = 0; i < n_new; ++i) {
        const std::int32_t id = argmax(logits);
        r.tokens.push_back(id);
        if (on_token) on_token(id);
        if (stop && stop(id)) {
            r.stopped = true;
            break;
        }
        if (i + 1 == n_new) break;
        session.evaluate({&id, 1}, LogitsWanted::Last, logits, nullptr);
    }
    r.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    return r;
}

}  // namespace parity
