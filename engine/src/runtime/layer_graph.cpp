// The forward graph of every family, executed through a backend's GraphOps.

#include "engine/runtime/layer_graph.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/error.h"
#include "engine/runtime/ggml_exp.h"

namespace parity::graph {

std::int64_t buffer_width(const Model& model, Buf buf) noexcept {
    const ModelConfig& c = model.config();
    switch (buf) {
        case Buf::X:
        case Buf::Cur:
        case Buf::O:
        case Buf::Down:
        case Buf::ExpIn:
        case Buf::ExpOut:
        case Buf::Slots: return c.n_embd;
        case Buf::Q:
        case Buf::Attn: return model.q_dim();
        case Buf::K:
        case Buf::V: return model.kv_dim();
        case Buf::Gate:
        case Buf::Up: return c.n_ff;
        case Buf::Router: return c.n_expert;
        case Buf::ExpGate:
        case Buf::ExpUp: return c.n_ff_expert;
        case Buf::Logits: return c.n_vocab;
    }
    return 0;
}

const std::vector<float>& vector_of(const Model& model, int layer, Vec w) noexcept {
    if (w == Vec::OutputNorm) return model.output_norm();
    const LayerWeights& L = model.layers()[static_cast<std::size_t>(layer)];
    switch (w) {
        case Vec::AttnNorm: return L.attn_norm;
        case Vec::QNorm: return L.q_norm;
        case Vec::KNorm: return L.k_norm;
        case Vec::PostAttnNorm: return L.post_attn_norm;
        case Vec::FfnNorm: return L.ffn_norm;
        case Vec::PostFfnNorm: return L.post_ffn_norm;
        case Vec::Bq: return L.bq;
        case Vec::Bk: return L.bk;
        case Vec::Bv: return L.bv;
        case Vec::OutputNorm: break;
    }
    return model.output_norm();
}

const WeightMatrix& matrix_of(const Model& model, int layer, Mat w, int expert) noexcept {
    if (w == Mat::Output) return model.output();
    const LayerWeights& L = model.layers()[static_cast<std::size_t>(layer)];
    const auto e = static_cast<std::size_t>(expert);
    switch (w) {
        case Mat::Wq: return L.wq;
        case Mat::Wk: return L.wk;
        case Mat::Wv: return L.wv;
        case Mat::Wo: return L.wo;
        case Mat::Gate: return L.ffn_gate;
        case Mat::Up: return L.ffn_up;
        case Mat::Down: return L.ffn_down;
        case Mat::Router: return L.router;
        case Mat::ExpGate: return L.exp_gate[e];
        case Mat::ExpUp: return L.exp_up[e];
        case Mat::ExpDown: return L.exp_down[e];
        case Mat::Output: break;
    }
    return model.output();
}

std::int64_t buffer_rows(const Model& model, Buf buf, std::int64_t n) noexcept {
    const bool moe = model.family().ffn == FfnKind::MoeSwiGlu;
    switch (buf) {
        case Buf::Gate:
        case Buf::Up: return moe ? 0 : n;
        case Buf::Router:
        case Buf::ExpIn:
        case Buf::ExpGate:
        case Buf::ExpUp:
        case Buf::ExpOut: return moe ? n : 0;
        case Buf::Slots: return moe ? n * model.config().n_expert_used : 0;
        default: return n;
    }
}

Route route_token(std::span<const float> logits, int k) {
    const auto n = static_cast<std::int64_t>(logits.size());
    std::vector<float> probs(logits.begin(), logits.end());
    // ggml_soft_max: max, the exponentials and their double sum (ggml_soft_max_exp), then
    // scaled by 1/sum in float.
    float max = -INFINITY;
    for (float v : probs) max = std::max(max, v);
    const double sum = ggml_soft_max_exp(probs.data(), probs.data(), n, max);
    const auto inv = static_cast<float>(1.0 / sum);
    for (float& v : probs) v *= inv;
    std::vector<std::int32_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        return probs[static_cast<std::size_t>(a)] > probs[static_cast<std::size_t>(b)];
    });
    Route r;
    r.experts.assign(order.begin(), order.begin() + k);
    double wsum = 0.0;  // ggml_sum_rows: a double accumulator
    for (std::int32_t e : r.experts) {
        r.weights.push_back(probs[static_cast<std::size_t>(e)]);
        wsum += static_cast<double>(r.weights.back());
    }
    const float denom = std::max(static_cast<float>(wsum), 6.103515625e-5f);
    for (float& w : r.weights) w /= denom;
    return r;
}

void check_pass(const Model& model, std::span<const std::int32_t> tokens, LogitsWanted which,
                std::span<const float> logits, int n_past, int capacity, const TraceRecorder* trace) {
    const ModelConfig& c = model.config();
    const auto n = static_cast<std::int64_t>(tokens.size());
    if (n == 0) throw UsageError("evaluate: empty batch");
    const std::int64_t n_vocab = c.n_vocab;
    for (const std::int32_t id : tokens) {
        if (id < 0 || id >= n_vocab) {
            throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(n_vocab) + ") of " + model.path());
        }
    }
    const std::int64_t want = which == LogitsWanted::All ? n * n_vocab : which == LogitsWanted::Last ? n_vocab : 0;
    if (which != LogitsWanted::None && static_cast<std::int64_t>(logits.size()) != want) {
        throw UsageError("evaluate: logits span holds " + std::to_string(logits.size()) + " floats, expected " +
                         std::to_string(want));
    }
    if (n_past + n > capacity) {
        throw UsageError("KV cache full: " + std::to_string(n_past) + " cached + " + std::to_string(n) +
                         " new tokens exceed the capacity of " + std::to_string(capacity) +
                         " (SessionOptions::max_context)");
    }
    if (model.family().window_not_applied && c.sliding_window > 0 && n_past + n > c.sliding_window) {
        throw UsageError(model.path() + ": position " + std::to_string(n_past + n - 1) + " is past " + c.arch +
                         ".attention.sliding_window = " + std::to_string(c.sliding_window) +
                         "; llama.cpp does not apply that window and the model was trained with it, so the "
                         "results would differ from one of them (use a shorter prompt)");
    }
    if (trace != nullptr && trace->n_layers() != c.n_layers) {
        throw UsageError("evaluate: trace recorder has " + std::to_string(trace->n_layers()) + " layers, model has " +
                         std::to_string(c.n_layers));
    }
}

namespace {

class LayerRunner {
public:
    LayerRunner(const Model& model, const SessionOptions& options, GraphOps& ops, const PassRequest& pass)
        : m_(model), c_(model.config()), fam_(model.family()), opt_(options), ops_(ops), pass_(pass),
          n_(static_cast<std::int64_t>(pass.tokens.size())) {}

    void run() {
        ops_.embed(pass_.tokens);
        if (fam_.embed_scale) ops_.scale(all(Buf::X), std::sqrt(static_cast<float>(c_.n_embd)));
        if (pass_.tracing) ops_.trace_embed(all(Buf::X));
        stage(Stage::Embedding, all(Buf::X));
        for (int il = 0; il < c_.n_layers; ++il) {
            il_ = il;
            attention_block();
            if (fam_.ffn == FfnKind::MoeSwiGlu) {
                moe_block();
            } else {
                dense_ffn_block();
            }
            if (opt_.on_layer) opt_.on_layer(il);
        }
        output();
    }

private:
    View all(Buf b) const { return View{b, buffer_width(m_, b), 0, n_}; }
    /// The rows of a per-head view: n tokens x heads rows of head_dim.
    View heads(Buf b, int n_heads) const { return View{b, c_.head_dim, 0, n_ * n_heads}; }

    /// Injected faults change an activation before anything reads it (see FaultInjection).
    void inject(TraceSlot slot, View v) {
        for (const FaultInjection& f : opt_.faults) {
            if (f.layer == il_ && f.slot == slot) ops_.scale(v, f.scale);
        }
    }
    void record(TraceSlot slot, View v) {
        inject(slot, v);
        if (pass_.tracing) ops_.trace(il_, slot, v);
    }

    /// Stage tensors (PassRequest::stages): nothing at all is read without a sink.
    bool wants(Stage s) const noexcept { return pass_.stages != nullptr && pass_.stages->wants(s); }
    void stage(Stage s, View v) {
        if (!wants(s)) return;
        const std::vector<float> values = ops_.read(v);
        const bool whole = s == Stage::Embedding || s == Stage::FinalNorm || s == Stage::LmHead;
        pass_.stages->add(s, whole ? -1 : il_, pass_.n_past + static_cast<int>(v.row0), values, v.width);
    }
    /// q | k | v of each position, concatenated.
    void stage_qkv(Stage s) {
        if (!wants(s)) return;
        const View q = all(Buf::Q), k = all(Buf::K), v = all(Buf::V);
        const std::vector<float> qv = ops_.read(q), kv = ops_.read(k), vv = ops_.read(v);
        const std::int64_t w = q.width + k.width + v.width;
        std::vector<float> rows(static_cast<std::size_t>(n_ * w));
        for (std::int64_t t = 0; t < n_; ++t) {
            float* dst = rows.data() + t * w;
            dst = std::copy_n(qv.data() + t * q.width, q.width, dst);
            dst = std::copy_n(kv.data() + t * k.width, k.width, dst);
            std::copy_n(vv.data() + t * v.width, v.width, dst);
        }
        pass_.stages->add(s, il_, pass_.n_past, rows, w);
    }

    void attention_block() {
        const View x = all(Buf::X), cur = all(Buf::Cur), q = all(Buf::Q), k = all(Buf::K), v = all(Buf::V);
        ops_.rms_norm(x, cur, il_, Vec::AttnNorm);
        record(TraceSlot::AttnNorm, cur);
        stage(Stage::AttnNorm, cur);
        ops_.matmul_input(cur);
        ops_.matmul(il_, Mat::Wq, 0, q);
        ops_.matmul(il_, Mat::Wk, 0, k);
        ops_.matmul(il_, Mat::Wv, 0, v);
        // A fault injected at qkv acts after the bias: qkv_matmul shows it only without biases.
        if (fam_.qkv_bias) {
            stage_qkv(Stage::QkvMatmul);
            ops_.add_bias(q, il_, Vec::Bq);
            ops_.add_bias(k, il_, Vec::Bk);
            ops_.add_bias(v, il_, Vec::Bv);
        }
        inject(TraceSlot::Qkv, q);
        inject(TraceSlot::Qkv, k);
        inject(TraceSlot::Qkv, v);
        stage_qkv(fam_.qkv_bias ? Stage::QkvBias : Stage::QkvMatmul);
        if (pass_.tracing) {
            ops_.trace(il_, TraceSlot::Qkv, q);
            ops_.trace(il_, TraceSlot::Qkv, k);
            ops_.trace(il_, TraceSlot::Qkv, v);
        }
        if (fam_.qk_norm) {
            ops_.rms_norm(heads(Buf::Q, c_.n_head), heads(Buf::Q, c_.n_head), il_, Vec::QNorm);
            ops_.rms_norm(heads(Buf::K, c_.n_head_kv), heads(Buf::K, c_.n_head_kv), il_, Vec::KNorm);
        }
        const LayerPlan& plan = m_.plan(il_);
        ops_.rope(q, c_.n_head, plan.rope_table);
        ops_.rope(k, c_.n_head_kv, plan.rope_table);
        stage(Stage::QPostRope, q);
        stage(Stage::KPostRope, k);
        float scale = m_.attention_scale();
        if (fam_.q_prescale) {
            ops_.scale(q, scale);
            scale = 1.0f;
        }
        ops_.attention(il_, n_, plan.window, scale);
        stage(Stage::Attention, all(Buf::Attn));
        const View o = all(Buf::O);
        ops_.matmul_input(all(Buf::Attn));
        ops_.matmul(il_, Mat::Wo, 0, o);
        record(TraceSlot::AttnOut, o);
        stage(Stage::AttnOut, o);
        if (fam_.post_norms) ops_.rms_norm(o, o, il_, Vec::PostAttnNorm);
        ops_.add(x, o);
        stage(Stage::PostAttnResidual, x);
    }

    void dense_ffn_block() {
        const View x = all(Buf::X), cur = all(Buf::Cur), gate = all(Buf::Gate), up = all(Buf::Up),
                   down = all(Buf::Down);
        ops_.rms_norm(x, cur, il_, Vec::FfnNorm);
        record(TraceSlot::FfnNorm, cur);
        stage(Stage::FfnNorm, cur);
        ops_.matmul_input(cur);
        ops_.matmul(il_, Mat::Gate, 0, gate);
        ops_.matmul(il_, Mat::Up, 0, up);
        record(TraceSlot::FfnGate, gate);
        record(TraceSlot::FfnUp, up);
        stage(Stage::FfnGate, gate);
        stage(Stage::FfnUp, up);
        if (fam_.ffn == FfnKind::GeGlu) {
            ops_.gelu(gate);
        } else {
            ops_.silu(gate);
        }
        record(TraceSlot::FfnSiluGate, gate);
        stage(Stage::FfnSilu, gate);
        ops_.mul(up, gate);
        record(TraceSlot::FfnSwigluInner, up);
        stage(Stage::FfnSwigl, up);
        ops_.matmul_input(up);
        ops_.matmul(il_, Mat::Down, 0, down);
        finish_ffn(down);
    }

    /// llama.cpp's qwen3moe FFN: each token's top-k experts, their SwiGLU outputs weighted and
    /// summed in rank order. Routing runs on the host from the router logits, so both backends
    /// route identically.
    void moe_block() {
        const View x = all(Buf::X), cur = all(Buf::Cur), router = all(Buf::Router);
        const int k = c_.n_expert_used;
        ops_.rms_norm(x, cur, il_, Vec::FfnNorm);
        record(TraceSlot::FfnNorm, cur);
        stage(Stage::FfnNorm, cur);
        ops_.matmul_input(cur);
        ops_.matmul(il_, Mat::Router, 0, router);
        stage(Stage::FfnRouter, router);
        const std::vector<float> logits = ops_.read(router);
        std::vector<std::vector<std::int32_t>> token_rows(static_cast<std::size_t>(c_.n_expert));
        std::vector<std::vector<std::int32_t>> slot_rows(token_rows.size());
        std::vector<std::vector<float>> slot_weights(token_rows.size());
        for (std::int64_t t = 0; t < n_; ++t) {
            const std::span<const float> row(logits.data() + t * c_.n_expert, static_cast<std::size_t>(c_.n_expert));
            const Route r = route_token(row, k);
            for (int i = 0; i < k; ++i) {
                const auto e = static_cast<std::size_t>(r.experts[static_cast<std::size_t>(i)]);
                token_rows[e].push_back(static_cast<std::int32_t>(t));
                slot_rows[e].push_back(static_cast<std::int32_t>(t * k + i));
                slot_weights[e].push_back(r.weights[static_cast<std::size_t>(i)]);
            }
        }
        for (int e = 0; e < c_.n_expert; ++e) {
            const auto& rows = token_rows[static_cast<std::size_t>(e)];
            if (rows.empty()) continue;
            const auto m = static_cast<std::int64_t>(rows.size());
            const View in{Buf::ExpIn, c_.n_embd, 0, m}, gate{Buf::ExpGate, c_.n_ff_expert, 0, m},
                up{Buf::ExpUp, c_.n_ff_expert, 0, m}, out{Buf::ExpOut, c_.n_embd, 0, m};
            ops_.gather(cur, in, rows);
            ops_.matmul_input(in);
            ops_.matmul(il_, Mat::ExpGate, e, gate);
            ops_.matmul(il_, Mat::ExpUp, e, up);
            ops_.silu(gate);
            ops_.mul(up, gate);
            ops_.matmul_input(up);
            ops_.matmul(il_, Mat::ExpDown, e, out);
            ops_.scatter_scaled(out, View{Buf::Slots, c_.n_embd, 0, n_ * k}, slot_rows[static_cast<std::size_t>(e)],
                                slot_weights[static_cast<std::size_t>(e)]);
        }
        const View down = all(Buf::Down);
        ops_.sum_groups(View{Buf::Slots, c_.n_embd, 0, n_ * k}, down, k);
        finish_ffn(down);
    }

    void finish_ffn(View down) {
        record(TraceSlot::FfnOut, down);
        stage(Stage::FfnOut, down);
        if (fam_.post_norms) ops_.rms_norm(down, down, il_, Vec::PostFfnNorm);
        const View x = all(Buf::X);
        ops_.add(x, down);
        record(TraceSlot::Output, x);
        stage(Stage::PostFfnResidual, x);
        stage(Stage::LayerOutput, x);
    }

    void output() {
        // Final norm: every row when they are all needed (all logits, or a trace of the whole
        // sample), else the last row only.
        const LogitsWanted which = pass_.which;
        const View x = all(Buf::X), cur = all(Buf::Cur);
        if (which == LogitsWanted::All || pass_.tracing || wants(Stage::FinalNorm)) {
            ops_.rms_norm(x, cur, -1, Vec::OutputNorm);
            if (pass_.tracing) ops_.trace_final_norm(cur);
            stage(Stage::FinalNorm, cur);
        } else if (which == LogitsWanted::Last) {
            ops_.rms_norm(View{Buf::X, c_.n_embd, n_ - 1, 1}, View{Buf::Cur, c_.n_embd, n_ - 1, 1}, -1, Vec::OutputNorm);
        }
        if (which == LogitsWanted::All) {
            ops_.matmul_input(cur);
            ops_.matmul(-1, Mat::Output, 0, View{Buf::Logits, c_.n_vocab, 0, n_});
            stage(Stage::LmHead, View{Buf::Logits, c_.n_vocab, 0, n_});
        } else if (which == LogitsWanted::Last) {
            ops_.matmul_input(View{Buf::Cur, c_.n_embd, n_ - 1, 1});
            ops_.matmul(-1, Mat::Output, 0, View{Buf::Logits, c_.n_vocab, 0, 1});
            if (wants(Stage::LmHead)) {
                // The one row computed is the last position's.
                const std::vector<float> values = ops_.read(View{Buf::Logits, c_.n_vocab, 0, 1});
                pass_.stages->add(Stage::LmHead, -1, pass_.n_past + static_cast<int>(n_ - 1), values, c_.n_vocab);
            }
        }
    }

    const Model& m_;
    const ModelConfig& c_;
    const Family& fam_;
    const SessionOptions& opt_;
    GraphOps& ops_;
    const PassRequest& pass_;
    const std::int64_t n_;
    int il_ = 0;
};

}  // namespace

void run_graph(const Model& model, const SessionOptions& options, GraphOps& ops, const PassRequest& pass) {
    LayerRunner(model, options, ops, pass).run();
}

}  // namespace parity::graph
