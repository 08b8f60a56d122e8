#pragma once
// The forward graph, written once for every backend. run_graph() walks a model's family
// description (engine/model/family.h) and calls a backend's GraphOps for each node; the CPU and
// CUDA backends implement only the ops, so their layers cannot drift apart. Trace slots and
// injected faults are applied here too, in one place, and so are the stage tensor dumps
// (PassRequest::stages).
//
// Buffers are named, not passed: a backend holds each Buf for the largest batch it has seen,
// row-major, `rows` rows of `width` floats. A View picks rows [row0, row0 + rows) of one.

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "engine/trace/trace.h"

namespace parity::graph {

/// Activation buffers; widths for a batch of n tokens.
enum class Buf {
    X,        ///< residual stream [n, n_embd]
    Cur,      ///< normed input of a block [n, n_embd]
    Q,        ///< [n, n_head * head_dim]
    K,        ///< [n, n_head_kv * head_dim]
    V,        ///< [n, n_head_kv * head_dim]
    Attn,     ///< merged attention heads [n, n_head * head_dim]
    O,        ///< attention block output [n, n_embd]
    Gate,     ///< [n, n_ff]
    Up,       ///< [n, n_ff]
    Down,     ///< feed-forward block output [n, n_embd]
    Router,   ///< MoE router logits [n, n_expert]
    ExpIn,    ///< MoE: the rows routed to one expert [<= n, n_embd]
    ExpGate,  ///< [<= n, n_ff_expert]
    ExpUp,    ///< [<= n, n_ff_expert]
    ExpOut,   ///< [<= n, n_embd]
    Slots,    ///< MoE: each token's weighted expert outputs [n * n_expert_used, n_embd]
    Logits,   ///< the logits the pass returns [n or 1, n_vocab]
};
constexpr int kBufCount = 17;

struct View {
    Buf buf = Buf::X;
    std::int64_t width = 0;
    std::int64_t row0 = 0;
    std::int64_t rows = 0;
};

/// Which per-layer weight a matmul reads.
enum class Mat { Wq, Wk, Wv, Wo, Gate, Up, Down, Router, ExpGate, ExpUp, ExpDown, Output };
/// Which per-layer f32 vector a norm or bias reads.
enum class Vec { AttnNorm, QNorm, KNorm, PostAttnNorm, FfnNorm, PostFfnNorm, Bq, Bk, Bv, OutputNorm };

/// The f32 vector `w` of `layer` (layer ignored for Vec::OutputNorm).
const std::vector<float>& vector_of(const Model& model, int layer, Vec w) noexcept;
/// The weight matrix `w` of `layer`; expert: the expert of an Exp* matrix (layer ignored for
/// Mat::Output).
const WeightMatrix& matrix_of(const Model& model, int layer, Mat w, int expert) noexcept;

/// The row width of `buf` for `model`.
std::int64_t buffer_width(const Model& model, Buf buf) noexcept;
/// Rows of `buf` a batch of n tokens needs (Slots: n * n_expert_used; Logits: n).
std::int64_t buffer_rows(const Model& model, Buf buf, std::int64_t n) noexcept;

/// One backend's implementation of the graph's nodes. Every op is enqueued in call order; the
/// backend may run it asynchronously except where a result is returned to the host.
class GraphOps {
public:
    virtual ~GraphOps() = default;

    /// X rows 0..n-1 = rows tokens[t] of token_embd (dequantized).
    virtual void embed(std::span<const std::int32_t> tokens) = 0;
    /// out = RMSNorm(in) * w over each row (rows of `in.width` values); Vec::OutputNorm is
    /// layer -1. out may be in.
    virtual void rms_norm(View in, View out, int layer, Vec w) = 0;
    /// The input of the following matmul() calls (activations rounded once per input).
    virtual void matmul_input(View in) = 0;
    /// out = W · input for every input row. Mat::Output (layer -1) is the output projection.
    /// expert: the expert of an Exp* matrix, else 0.
    virtual void matmul(int layer, Mat w, int expert, View out) = 0;
    /// y[r] += bias for every row.
    virtual void add_bias(View y, int layer, Vec b) = 0;
    /// y *= s.
    virtual void scale(View y, float s) = 0;
    /// y += x (same shape).
    virtual void add(View y, View x) = 0;
    /// y *= x (same shape).
    virtual void mul(View y, View x) = 0;
    virtual void silu(View y) = 0;
    /// tanh GELU; under the ggml policy through ggml's fp16 table (see gelu.h).
    virtual void gelu(View y) = 0;
    /// Rotates heads of `head_dim` values, n_heads per token row of y, token t at position
    /// n_past + t, with rope table `table` (Model::rope_tables()).
    virtual void rope(View y, int n_heads, int table) = 0;
    /// Appends K and V rows (Buf::K, Buf::V, n tokens) to the cache of `layer` and writes the
    /// attention of Buf::Q over it into Buf::Attn: scores times `scale`, causal, and when
    /// window > 0 only the last `window` positions.
    virtual void attention(int layer, std::int64_t n, int window, float scale) = 0;
    /// The values of a view, on the host (waits for the backend).
    virtual std::vector<float> read(View v) = 0;
    /// dst row i = src row rows[i].
    virtual void gather(View src, View dst, std::span<const std::int32_t> rows) = 0;
    /// dst row rows[i] = src row i * weights[i].
    virtual void scatter_scaled(View src, View dst, std::span<const std::int32_t> rows,
                                std::span<const float> weights) = 0;
    /// dst row t = src row t*k + 0 + src row t*k + 1 + ... (added in that order).
    virtual void sum_groups(View src, View dst, int k) = 0;
    /// Adds the view's statistics to the pass's trace (only called when tracing).
    virtual void trace(int layer, TraceSlot slot, View v) = 0;
    virtual void trace_embed(View v) = 0;
    virtual void trace_final_norm(View v) = 0;
};

/// One batch of a Session::evaluate().
struct PassRequest {
    std::span<const std::int32_t> tokens;
    int n_past = 0;  ///< position of tokens[0]
    LogitsWanted which = LogitsWanted::None;
    bool tracing = false;
    /// Receives the stage tensors (engine/trace/stage_dump.h) when not null: each stage the
    /// sink wants is read back with GraphOps::read() right after it is computed.
    StageSink* stages = nullptr;
};

/// Runs the graph: embedding, every layer, final norm and the output projection into
/// Buf::Logits (rows 0..n-1 for LogitsWanted::All, row 0 for Last).
void run_graph(const Model& model, const SessionOptions& options, GraphOps& ops, const PassRequest& pass);

/// The argument checks every backend's evaluate() makes (UsageError for an empty batch, a token
/// outside the vocabulary, a logits span of the wrong size, a full cache, a trace recorder of
/// another depth, a position past a window the family does not apply).
void check_pass(const Model& model, std::span<const std::int32_t> tokens, LogitsWanted which,
                std::span<const float> logits, int n_past, int capacity, const TraceRecorder* trace);

/// MoE routing of one token (llama.cpp's qwen3moe graph): probs = softmax(logits) (the sum in
/// double), the k largest probs (lower expert first on ties), weights = those probs divided by
/// their sum (clamped below at 6.103515625e-5). experts[i] and weights[i], i < k, in rank order.
struct Route {
    std::vector<std::int32_t> experts;
    std::vector<float> weights;
};
Route route_token(std::span<const float> logits, int k);

}  // namespace parity::graph
