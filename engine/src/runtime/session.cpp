// The names of the session options, and the two execution modes on top of Session.

#include "engine/runtime/forward.h"

#include <string>

#include "engine/error.h"
#include "engine/runtime/memory_budget.h"

namespace parity {

std::string_view to_string(ForwardMode m) noexcept {
    return m == ForwardMode::FullSequence ? "full_sequence" : "incremental";
}
std::string_view to_string(MatmulPolicy p) noexcept { return p == MatmulPolicy::Dequant ? "dequant" : "ggml"; }
std::string_view to_string(KvType t) noexcept { return t == KvType::F32 ? "f32" : "f16"; }
std::string_view to_string(BackendKind b) noexcept {
    switch (b) {
        case BackendKind::Cpu: return "cpu";
        case BackendKind::Cuda: return "cuda";
        case BackendKind::F64: return "f64";
    }
    return "cpu";
}

std::optional<ForwardMode> parse_forward_mode(std::string_view s) noexcept {
    if (s == "full_sequence") return ForwardMode::FullSequence;
    if (s == "incremental") return ForwardMode::Incremental;
    return std::nullopt;
}
std::optional<MatmulPolicy> parse_matmul_policy(std::string_view s) noexcept {
    if (s == "dequant") return MatmulPolicy::Dequant;
    if (s == "ggml") return MatmulPolicy::Ggml;
    return std::nullopt;
}
std::optional<KvType> parse_kv_type(std::string_view s) noexcept {
    if (s == "f32") return KvType::F32;
    if (s == "f16") return KvType::F16;
    return std::nullopt;
}
std::optional<BackendKind> parse_backend(std::string_view s) noexcept {
    if (s == "cpu") return BackendKind::Cpu;
    if (s == "cuda") return BackendKind::Cuda;
    if (s == "f64") return BackendKind::F64;
    return std::nullopt;
}

std::vector<float> forward_logits(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode) {
    const auto n_vocab = static_cast<std::size_t>(session.model().config().n_vocab);
    require_memory("the logits of every position (" + std::to_string(tokens.size()) + " tokens x " +
                       std::to_string(n_vocab) + " vocabulary floats)",
                   tokens.size() * n_vocab * sizeof(float), "a shorter prompt");
    std::vector<float> logits(tokens.size() * n_vocab);
    session.reset();
    if (mode == ForwardMode::FullSequence) {
        session.evaluate(tokens, LogitsWanted::All, logits, nullptr);
    } else {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            session.evaluate(tokens.subspan(i, 1), LogitsWanted::Last,
                             std::span<float>(logits).subspan(i * n_vocab, n_vocab), nullptr);
        }
    }
    return logits;
}

void dump_stages(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode, StageSink& sink) {
    if (tokens.empty()) throw UsageError("dump_stages: no input tokens");
    struct SinkGuard {
        Session& s;
        ~SinkGuard() { s.set_stage_sink(nullptr); }
    } guard{session};
    const auto n_vocab = static_cast<std::size_t>(session.model().config().n_vocab);
    session.reset();
    session.set_stage_sink(&sink);
    if (mode == ForwardMode::FullSequence) {
        std::vector<float> logits(tokens.size() * n_vocab);
        session.evaluate(tokens, LogitsWanted::All, logits, nullptr);
    } else {
        std::vector<float> logits(n_vocab);
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            session.evaluate(tokens.subspan(i, 1), LogitsWanted::Last, logits, nullptr);
        }
    }
}

ForwardTrace trace_forward(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode,
                           bool keep_values) {
    if (tokens.empty()) throw UsageError("trace: no input tokens");
    const auto n_vocab = static_cast<std::size_t>(session.model().config().n_vocab);
    std::vector<float> logits(n_vocab);
    TraceRecorder recorder(session.model().config().n_layers, keep_values);
    recorder.begin();
    session.reset();
    if (mode == ForwardMode::FullSequence) {
        session.evaluate(tokens, LogitsWanted::Last, logits, &recorder);
    } else {
        for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
            session.evaluate(tokens.subspan(i, 1), LogitsWanted::None, {}, nullptr);
        }
        session.evaluate(tokens.subspan(tokens.size() - 1, 1), LogitsWanted::Last, logits, &recorder);
    }
    return recorder.finish(tokens, logits);
}

}  // namespace parity
