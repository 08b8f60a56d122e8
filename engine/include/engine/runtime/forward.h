#pragma once
// Forward passes: a backend-independent Session interface (one model, one KV cache) and the two
// execution modes built on it (DESIGN.md "Execution").
//
//   full_sequence  the whole prompt in one batched pass (upstream's APR path)
//   incremental    the prompt one token at a time through the KV cache (upstream's GGUF path)
//
// Matmul policies (CPU backend):
//   dequant  weights read in their stored type from the mapped file and decoded to f32 a tile of
//            rows at a time into per-thread scratch (no f32 copy of the model); activations stay
//            f32; f32 dot products (FMA, float accumulation).
//   ggml     as ggml's CPU backend: each activation row is converted to the weight type's dot type
//            first (Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants and
//            IQ4_XS, F16 for F16, BF16 for BF16, none for F32) and the dot product is ggml's
//            block-wise integer formula; F32/F16/BF16 products are summed in double as ggml does.
// KV cache: f32 (default), or f16 as llama.cpp's default cache (K and V rounded to f16; the
// query and the attention weights are rounded to f16 for the two products, as ggml's f16
// mul_mat converts its other operand).
//
// Backends: `cpu`, `cuda` (docs/cuda.md) and `f64`, the float64 arbiter
// (engine/runtime/f64_session.h); cuda is a module loaded on its first use
// (engine/runtime/cuda_module.h). Without CUDA in the build, the module, its libraries or a
// device, create_session throws a UsageError saying which. No public header depends on the
// build's CUDA setting.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/model/model.h"
#include "engine/trace/stage_dump.h"
#include "engine/trace/trace.h"

namespace parity {

enum class ForwardMode { FullSequence, Incremental };
enum class MatmulPolicy { Dequant, Ggml };
enum class KvType { F32, F16 };
enum class BackendKind { Cpu, Cuda, F64 };

/// "full_sequence", "incremental", "dequant", "ggml", "f32", "f16", "cpu", "cuda", "f64".
std::string_view to_string(ForwardMode m) noexcept;
std::string_view to_string(MatmulPolicy p) noexcept;
std::string_view to_string(KvType t) noexcept;
std::string_view to_string(BackendKind b) noexcept;
/// Parse the names above; nullopt for anything else.
std::optional<ForwardMode> parse_forward_mode(std::string_view s) noexcept;
std::optional<MatmulPolicy> parse_matmul_policy(std::string_view s) noexcept;
std::optional<KvType> parse_kv_type(std::string_view s) noexcept;
std::optional<BackendKind> parse_backend(std::string_view s) noexcept;

/// A deliberate fault, for proving that parity checks can fail: the output of `slot` in
/// `layer` is multiplied by `scale` (every position, and for qkv all of q, k and v) before it
/// flows on, so every later slot and the logits see it.
struct FaultInjection {
    int layer = 0;
    TraceSlot slot = TraceSlot::Output;
    float scale = 1.0f;
};

struct SessionOptions {
    BackendKind backend = BackendKind::Cpu;
    MatmulPolicy matmul = MatmulPolicy::Ggml;
    KvType kv_type = KvType::F32;
    int threads = 0;      ///< worker threads; 0: every hardware thread
    int max_context = 0;  ///< KV cache capacity in tokens; 0: the model's n_ctx (4096 when unknown)
    std::vector<FaultInjection> faults;  ///< empty in every real run
    /// Progress of long passes: called by the forward graph after each layer of every pass with
    /// the layer's index (on the cuda backend when the layer is enqueued, not finished). Unset
    /// in tests and suite runs; `pv trace` and `pv generate` draw a terminal progress line.
    std::function<void(int layer)> on_layer;
};

/// Which logits Session::evaluate writes.
enum class LogitsWanted {
    None,  ///< none (logits span may be empty)
    Last,  ///< the last token's: [n_vocab]
    All,   ///< every token's: [n_tokens, n_vocab] row-major
};

/// One model and one KV cache on one backend. Not thread-safe; a session uses its own worker
/// threads internally. Steady-state decoding (evaluate() of one token) allocates nothing.
class Session {
public:
    virtual ~Session() = default;

    virtual const Model& model() const noexcept = 0;
    virtual const SessionOptions& options() const noexcept = 0;
    /// Tokens held in the KV cache (the position the next token gets).
    virtual int n_past() const noexcept = 0;
    /// KV cache capacity in tokens.
    virtual int capacity() const noexcept = 0;
    /// Empties the KV cache.
    virtual void reset() noexcept = 0;

    /// Runs `tokens` at positions n_past() .. n_past() + n - 1 in one batched pass (causal
    /// attention over the cache and the batch) and appends their keys and values to the cache.
    /// logits: sized for `which` (see LogitsWanted). trace: when not null, every slot of this
    /// pass (all n tokens) is added to it. Throws UsageError for an empty batch, a token id
    /// outside [0, n_vocab), a full cache or a logits span of the wrong size.
    virtual void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                          TraceRecorder* trace) = 0;

    /// Later evaluate() calls hand their stage tensors to `sink` (null: none, the default). A
    /// pass then reads each stage the sink wants back to the host; without a sink nothing is
    /// read. lm_head is given for the logits the pass computes (LogitsWanted), final_norm for
    /// every position.
    virtual void set_stage_sink(StageSink* sink) noexcept = 0;
};

/// A session for `model` (which must outlive it) on options.backend. Throws UsageError when the
/// backend cannot run here ("backend cuda: <why>", see cuda_backend() in cuda_module.h).
std::unique_ptr<Session> create_session(const Model& model, const SessionOptions& options);

/// Logits of every prompt position, [tokens.size(), n_vocab] row-major, from an emptied cache:
/// full_sequence evaluates the prompt in one pass, incremental one token at a time.
std::vector<float> forward_logits(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode);

/// The trace of the prompt from an emptied cache. full_sequence traces every position;
/// incremental evaluates the tokens before the last silently and traces the last one only.
/// keep_values: keep each slot's last-token vector (LayerActivation::last_token_values).
/// The stage tensors of every prompt position from an emptied cache, into `sink`:
/// full_sequence in one pass (all logits), incremental one token at a time (each token's logits).
/// The session's sink is null again afterwards.
void dump_stages(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode, StageSink& sink);

ForwardTrace trace_forward(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode,
                           bool keep_values = false);

}  // namespace parity
