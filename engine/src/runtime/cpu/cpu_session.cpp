// The CPU backend: the shared forward graph (engine/runtime/layer_graph.h) executed by ggml's CPU
// ops reproduced here, with a KV cache, both matmul policies and trace recording.

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <thread>

#include "attention.h"
#include "cpu_session.h"
#include "engine/error.h"
#include "engine/quant/quant.h"
#include "engine/runtime/gelu.h"
#include "engine/runtime/layer_graph.h"
#include "engine/runtime/memory_budget.h"
#include "kernels.h"
#include "matmul.h"
#include "threads.h"

namespace parity::cpu {

namespace {

using graph::Buf;
using graph::Mat;
using graph::Vec;
using graph::View;

int capacity_of(const ModelConfig& cfg, const SessionOptions& options) noexcept {
    return options.max_context > 0 ? options.max_context : (cfg.n_ctx > 0 ? cfg.n_ctx : 4096);
}

/// Bytes of the scratch a pass of n tokens uses: the graph's buffers, the rope tables and the
/// converted activation rows.
std::uint64_t batch_bytes(const Model& model, std::int64_t n) noexcept {
    std::uint64_t floats = 0;
    std::int64_t widest = 0;
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<graph::Buf>(b);
        if (buf == graph::Buf::Logits) continue;
        const std::int64_t rows = graph::buffer_rows(model, buf, n);
        const std::int64_t width = graph::buffer_width(model, buf);
        floats += static_cast<std::uint64_t>(rows * width);
        if (rows > 0) widest = std::max(widest, width);
    }
    floats += model.rope_tables().size() * static_cast<std::uint64_t>(n * model.config().head_dim);
    return floats * sizeof(float) + static_cast<std::uint64_t>(n * widest) * 2;
}

/// The widest input of the matrices the dequant policy decodes (those not stored as f32).
std::int64_t widest_decoded_input(const Model& model) noexcept {
    std::int64_t widest = 0;
    auto see = [&](const WeightMatrix& w) {
        if (w.type != GgmlType::F32 && w.n_out > 0) widest = std::max(widest, w.n_in);
    };
    for (const LayerWeights& L : model.layers()) {
        for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.router}) see(*w);
        for (const auto* ws : {&L.exp_gate, &L.exp_up, &L.exp_down}) {
            for (const WeightMatrix& w : *ws) see(w);
        }
    }
    see(model.output());
    return widest;
}

/// Refuses a session the machine cannot hold: KV cache, attention scratch, dequant tiles and a
/// one-token pass (the weights are mapped file pages, not counted).
void check_session_memory(const Model& model, const SessionOptions& options, int threads) {
    const ModelConfig& cfg = model.config();
    const auto capacity = static_cast<std::uint64_t>(capacity_of(cfg, options));
    const std::uint64_t elem = options.kv_type == KvType::F32 ? 4 : 2;
    const std::uint64_t kv = 2 * static_cast<std::uint64_t>(cfg.n_layers) * capacity *
                             static_cast<std::uint64_t>(model.kv_dim()) * elem;
    std::uint64_t scratch = attention_scratch_floats(static_cast<int>(capacity), cfg.head_dim) *
                            static_cast<std::uint64_t>(threads) * sizeof(float);
    if (options.matmul == MatmulPolicy::Dequant) {
        scratch += static_cast<std::uint64_t>(threads * kTileRows * widest_decoded_input(model)) * sizeof(float);
    }
    scratch += batch_bytes(model, 1);
    require_memory("a cpu session of " + model.path() + " (KV cache of " + std::to_string(capacity) + " tokens: " +
                       std::to_string(kv) + " bytes; scratch: " + std::to_string(scratch) + " bytes)",
                   kv + scratch, "a smaller max_context (fewer tokens), kv_type f16 or fewer threads");
}

struct PreparedLayer {
    PreparedMatrix wq, wk, wv, wo, gate, up, down, router;
    std::vector<PreparedMatrix> exp_gate, exp_up, exp_down;
};

class CpuSession final : public Session, private graph::GraphOps {
public:
    CpuSession(const Model& model, const SessionOptions& options);

    const Model& model() const noexcept override { return model_; }
    const SessionOptions& options() const noexcept override { return options_; }
    int n_past() const noexcept override { return n_past_; }
    int capacity() const noexcept override { return kv_.capacity(); }
    void reset() noexcept override { n_past_ = 0; }
    void set_stage_sink(StageSink* sink) noexcept override { stages_ = sink; }
    void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                  TraceRecorder* trace) override;

private:
    // graph::GraphOps
    void embed(std::span<const std::int32_t> tokens) override;
    void rms_norm(View in, View out, int layer, Vec w) override;
    void matmul_input(View in) override { pack_.set(ptr(in), in.rows, in.width); }
    void matmul(int layer, Mat w, int expert, View out) override;
    void add_bias(View y, int layer, Vec b) override;
    void scale(View y, float s) override;
    void add(View y, View x) override { add_inplace(ptr(y), ptr(x), y.rows * y.width); }
    void mul(View y, View x) override { mul_inplace(ptr(y), ptr(x), y.rows * y.width); }
    void silu(View y) override;
    void gelu(View y) override;
    void rope(View y, int n_heads, int table) override;
    void attention(int layer, std::int64_t n, int window, float scale) override;
    std::vector<float> read(View v) override { return {ptr(v), ptr(v) + v.rows * v.width}; }
    void gather(View src, View dst, std::span<const std::int32_t> rows) override;
    void scatter_scaled(View src, View dst, std::span<const std::int32_t> rows, std::span<const float> weights) override;
    void sum_groups(View src, View dst, int k) override;
    void trace(int layer, TraceSlot slot, View v) override { trace_->add(layer, slot, ptr(v), v.rows, v.width, v.width); }
    void trace_embed(View v) override { trace_->add_embed(ptr(v), v.rows, v.width); }
    void trace_final_norm(View v) override { trace_->add_final_norm(ptr(v), v.rows, v.width); }

    float* ptr(View v) {
        float* base = v.buf == Buf::Logits ? logits_ : bufs_[static_cast<std::size_t>(v.buf)].data();
        return base + v.row0 * v.width;
    }
    const std::vector<float>& vec(int layer, Vec w) const { return graph::vector_of(model_, layer, w); }
    void ensure_batch(std::int64_t n);

    const Model& model_;
    SessionOptions options_;
    ModelConfig cfg_;
    int threads_;
    std::int64_t hd_;
    KvCache kv_;
    int n_past_ = 0;
    StageSink* stages_ = nullptr;       // receives stage tensors when set (set_stage_sink)

    std::vector<PreparedLayer> layers_;
    PreparedMatrix output_;

    // Scratch for batch_cap_ tokens (grown by ensure_batch, never per decode step).
    std::int64_t batch_cap_ = 0;
    std::array<std::vector<float>, graph::kBufCount> bufs_;
    std::vector<std::vector<float>> cs_;  // per rope table: [batch, head_dim] cos/sin
    std::vector<float> att_scratch_;
    std::size_t att_stride_ = 0;
    ActivationPack pack_;
    DecodeScratch tiles_;               // dequant policy: per-thread f32 tiles of weight rows
    float* logits_ = nullptr;           // the caller's logits during evaluate()
    TraceRecorder* trace_ = nullptr;    // the caller's recorder during evaluate()
};

CpuSession::CpuSession(const Model& model, const SessionOptions& options)
    : model_(model),
      options_(options),
      cfg_(model.config()),
      threads_(resolve_threads(options.threads)),
      hd_(cfg_.head_dim),
      kv_(options.kv_type, cfg_.n_layers, capacity_of(cfg_, options), model.kv_dim()) {
    options_.threads = threads_;
    const MatmulPolicy p = options.matmul;
    std::int64_t widest_decoded = 0;
    auto prep = [&](const WeightMatrix& w) {
        PreparedMatrix m = prepare_matrix(w, p);
        if (m.decode) widest_decoded = std::max(widest_decoded, m.n_in);
        return m;
    };
    auto prep_all = [&](const std::vector<WeightMatrix>& ws) {
        std::vector<PreparedMatrix> out;
        for (const WeightMatrix& w : ws) out.push_back(prep(w));
        return out;
    };
    const bool moe = model.family().ffn == FfnKind::MoeSwiGlu;
    for (const LayerWeights& L : model.layers()) {
        PreparedLayer P{prep(L.wq), prep(L.wk), prep(L.wv), prep(L.wo), {}, {}, {}, {}, {}, {}, {}};
        if (moe) {
            P.router = prep(L.router);
            P.exp_gate = prep_all(L.exp_gate);
            P.exp_up = prep_all(L.exp_up);
            P.exp_down = prep_all(L.exp_down);
        } else {
            P.gate = prep(L.ffn_gate);
            P.up = prep(L.ffn_up);
            P.down = prep(L.ffn_down);
        }
        layers_.push_back(std::move(P));
    }
    output_ = prep(model.output());
    if (widest_decoded > 0) tiles_.reserve(threads_, widest_decoded);
    att_stride_ = attention_scratch_floats(kv_.capacity(), cfg_.head_dim);
    att_scratch_.resize(att_stride_ * static_cast<std::size_t>(threads_));
    cs_.resize(model.rope_tables().size());
    ensure_batch(1);
}

void CpuSession::ensure_batch(std::int64_t n) {
    if (n <= batch_cap_) return;
    if (batch_cap_ > 0) {
        require_memory("a cpu pass of " + std::to_string(n) + " tokens of " + model_.path() + " (activation scratch)",
                       batch_bytes(model_, n) - batch_bytes(model_, batch_cap_),
                       "mode incremental (one token per pass) or a shorter prompt");
    }
    std::int64_t widest = 0;
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<Buf>(b);
        if (buf == Buf::Logits) continue;
        const std::int64_t width = graph::buffer_width(model_, buf);
        bufs_[static_cast<std::size_t>(b)].resize(static_cast<std::size_t>(graph::buffer_rows(model_, buf, n) * width));
        if (graph::buffer_rows(model_, buf, n) > 0) widest = std::max(widest, width);
    }
    for (auto& cs : cs_) cs.resize(static_cast<std::size_t>(n * hd_));
    pack_.reserve(n, widest);
    batch_cap_ = n;
}

void CpuSession::embed(std::span<const std::int32_t> tokens) {
    const WeightMatrix& te = model_.token_embd();
    float* x = bufs_[static_cast<std::size_t>(Buf::X)].data();
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        dequantize_row(te.type, te.row(tokens[t]),
                       {x + static_cast<std::int64_t>(t) * cfg_.n_embd, static_cast<std::size_t>(cfg_.n_embd)});
    }
}

void CpuSession::rms_norm(View in, View out, int layer, Vec w) {
    const float* wv = vec(layer, w).data();
    const float* x = ptr(in);
    float* y = ptr(out);
    for (std::int64_t r = 0; r < in.rows; ++r) cpu::rms_norm(x + r * in.width, wv, y + r * in.width, in.width, cfg_.rms_eps);
}

void CpuSession::matmul(int layer, Mat w, int expert, View out) {
    const PreparedMatrix* m = &output_;
    if (w != Mat::Output) {
        const PreparedLayer& P = layers_[static_cast<std::size_t>(layer)];
        const auto e = static_cast<std::size_t>(expert);
        switch (w) {
            case Mat::Wq: m = &P.wq; break;
            case Mat::Wk: m = &P.wk; break;
            case Mat::Wv: m = &P.wv; break;
            case Mat::Wo: m = &P.wo; break;
            case Mat::Gate: m = &P.gate; break;
            case Mat::Up: m = &P.up; break;
            case Mat::Down: m = &P.down; break;
            case Mat::Router: m = &P.router; break;
            case Mat::ExpGate: m = &P.exp_gate[e]; break;
            case Mat::ExpUp: m = &P.exp_up[e]; break;
            case Mat::ExpDown: m = &P.exp_down[e]; break;
            case Mat::Output: break;
        }
    }
    cpu::matmul(*m, pack_, ptr(out), threads_, &tiles_);
}

void CpuSession::add_bias(View y, int layer, Vec b) {
    const float* bv = vec(layer, b).data();
    float* p = ptr(y);
    for (std::int64_t r = 0; r < y.rows; ++r) add_inplace(p + r * y.width, bv, y.width);
}

void CpuSession::scale(View y, float s) {
    float* p = ptr(y);
    for (std::int64_t i = 0; i < y.rows * y.width; ++i) p[i] *= s;
}

void CpuSession::silu(View y) {
    float* p = ptr(y);
    // Whole rows: ggml's SILU groups each row's values by 4 from its start.
    const std::int64_t rows_per_4096 = std::max<std::int64_t>(1, 4096 / y.width);
    const int chunks = static_cast<int>(
        std::min<std::int64_t>(threads_, std::max<std::int64_t>(1, y.rows / rows_per_4096)));
    run_chunks(chunks, [&](int c) {
        const std::int64_t r1 = chunk_begin(y.rows, chunks, c + 1);
        for (std::int64_t r = chunk_begin(y.rows, chunks, c); r < r1; ++r) {
            cpu::silu(p + r * y.width, p + r * y.width, y.width);
        }
    });
}

void CpuSession::gelu(View y) {
    float* p = ptr(y);
    const bool table = options_.matmul == MatmulPolicy::Ggml;
    for (std::int64_t i = 0; i < y.rows * y.width; ++i) p[i] = table ? gelu_ggml(p[i]) : gelu_tanh(p[i]);
}

void CpuSession::rope(View y, int n_heads, int table) {
    const float* cs = cs_[static_cast<std::size_t>(table)].data();
    float* p = ptr(y);
    for (std::int64_t t = 0; t < y.rows; ++t) {
        cpu::rope(p + t * y.width, n_heads, cfg_.head_dim, cfg_.head_dim, cs + (y.row0 + t) * hd_, cfg_.rope);
    }
}

void CpuSession::attention(int layer, std::int64_t n, int window, float scale) {
    const float* k = bufs_[static_cast<std::size_t>(Buf::K)].data();
    const float* v = bufs_[static_cast<std::size_t>(Buf::V)].data();
    const float* q = bufs_[static_cast<std::size_t>(Buf::Q)].data();
    float* out = bufs_[static_cast<std::size_t>(Buf::Attn)].data();
    const std::int64_t kvd = model_.kv_dim();
    const std::int64_t qd = model_.q_dim();
    for (std::int64_t t = 0; t < n; ++t) kv_.store(layer, n_past_ + static_cast<int>(t), k + t * kvd, v + t * kvd);
    const AttentionShape shape{cfg_.n_head, cfg_.n_head_kv, cfg_.head_dim, scale};
    // Split by heads: every chunk gets all the positions of its heads, so the causal mask's
    // growing rows are shared evenly (a split by position would give the last rows to one thread).
    const int chunks = std::min(threads_, shape.n_head);
    run_chunks(chunks, [&](int c) {
        float* scratch = att_scratch_.data() + static_cast<std::size_t>(c) * att_stride_;
        const int h0 = static_cast<int>(chunk_begin(shape.n_head, chunks, c));
        const int h1 = static_cast<int>(chunk_begin(shape.n_head, chunks, c + 1));
        for (std::int64_t t = 0; t < n; ++t) {
            const int pos = n_past_ + static_cast<int>(t);
            const int first = window > 0 ? std::max(0, pos - window + 1) : 0;
            attend(kv_, layer, shape, q + t * qd, first, pos, h0, h1, scratch, out + t * qd);
        }
    });
}

void CpuSession::gather(View src, View dst, std::span<const std::int32_t> rows) {
    const float* s = ptr(src);
    float* d = ptr(dst);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::copy_n(s + rows[i] * src.width, src.width, d + static_cast<std::int64_t>(i) * dst.width);
    }
}

void CpuSession::scatter_scaled(View src, View dst, std::span<const std::int32_t> rows, std::span<const float> weights) {
    const float* s = ptr(src);
    float* d = ptr(dst);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const float* sr = s + static_cast<std::int64_t>(i) * src.width;
        float* dr = d + rows[i] * dst.width;
        for (std::int64_t j = 0; j < dst.width; ++j) dr[j] = sr[j] * weights[i];
    }
}

void CpuSession::sum_groups(View src, View dst, int k) {
    const float* s = ptr(src);
    float* d = ptr(dst);
    for (std::int64_t t = 0; t < dst.rows; ++t) {
        float* dr = d + t * dst.width;
        std::copy_n(s + t * k * src.width, dst.width, dr);
        for (int i = 1; i < k; ++i) add_inplace(dr, s + (t * k + i) * src.width, dst.width);
    }
}

void CpuSession::evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                          TraceRecorder* trace) {
    graph::check_pass(model_, tokens, which, logits, n_past_, kv_.capacity(), trace);
    const auto n = static_cast<std::int64_t>(tokens.size());
    ensure_batch(n);
    for (std::size_t i = 0; i < cs_.size(); ++i) {
        const RopeSpec& spec = model_.rope_tables()[i];
        for (std::int64_t t = 0; t < n; ++t) {
            rope_cache(cs_[i].data() + t * hd_, n_past_ + t, cfg_.head_dim, spec.base, model_.rope_freqs(),
                       spec.freq_scale);
        }
    }
    logits_ = logits.data();
    trace_ = trace;
    graph::run_graph(model_, options_, *this, graph::PassRequest{tokens, n_past_, which, trace != nullptr, stages_});
    logits_ = nullptr;
    trace_ = nullptr;
    n_past_ += static_cast<int>(n);
}

}  // namespace

int resolve_threads(int requested) noexcept {
    if (requested > 0) return requested;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

std::unique_ptr<Session> make_cpu_session(const Model& model, const SessionOptions& options) {
    check_session_memory(model, options, resolve_threads(options.threads));
    return std::make_unique<CpuSession>(model, options);
}

}  // namespace parity::cpu
