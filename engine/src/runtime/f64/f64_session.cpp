// The float64 arbiter backend (engine/runtime/f64_session.h): the shared forward graph with every
// buffer, the KV cache and every product in double.

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/parallel_for.h"
#include "engine/quant/dot_type.h"
#include "engine/quant/quant.h"
#include "engine/runtime/f64_session.h"
#include "engine/runtime/layer_graph.h"
#include "engine/runtime/memory_budget.h"
#include "f64_math.h"

namespace parity {

namespace {

using graph::Buf;
using graph::Mat;
using graph::Vec;
using graph::View;

/// x rounded to the nearest fp16 value (ties to even) in one step, not through float.
double round_f16(double x) noexcept {
    const double a = std::fabs(x);
    if (!(a < 65520.0)) return a == a ? std::copysign(HUGE_VAL, x) : x;
    if (a == 0.0) return x;
    int e = 0;
    std::frexp(a, &e);                          // a = m * 2^e, m in [0.5, 1)
    const int quantum = std::max(e - 1, -14) - 10;  // fp16 spacing: 10 fraction bits, subnormals below 2^-14
    return std::copysign(std::ldexp(std::nearbyint(std::ldexp(a, -quantum)), quantum), x);
}

/// Refuses a model the f64 backend cannot decode exactly or (ggml) cannot round as ggml does.
void check_weight(const WeightMatrix& w, MatmulPolicy policy) {
    if (w.n_out == 0) return;
    if (!can_dequantize_exact(w.type)) {
        throw UsageError(w.name + ": backend f64 has no exact decoder for tensor type " +
                         std::string(traits(w.type).name));
    }
    if (policy == MatmulPolicy::Ggml && !dot_type(w.type)) {
        throw UsageError(w.name + ": backend f64 with matmul ggml: ggml has no dot product for tensor type " +
                         std::string(traits(w.type).name));
    }
}

class F64SessionImpl final : public F64Session, private graph::GraphOps {
public:
    F64SessionImpl(const Model& model, const SessionOptions& options)
        : model_(model), options_(options), cfg_(model.config()) {
        options_.backend = BackendKind::F64;
        capacity_ = options.max_context > 0 ? options.max_context : (cfg_.n_ctx > 0 ? cfg_.n_ctx : 4096);
        k_.resize(static_cast<std::size_t>(cfg_.n_layers));
        v_.resize(static_cast<std::size_t>(cfg_.n_layers));
        cs_.resize(model.rope_tables().size());
    }

    const Model& model() const noexcept override { return model_; }
    const SessionOptions& options() const noexcept override { return options_; }
    int n_past() const noexcept override { return n_past_; }
    int capacity() const noexcept override { return capacity_; }
    void reset() noexcept override { n_past_ = 0; }
    void set_stage_sink(StageSink* sink) noexcept override { stages_ = sink; }
    std::span<const double> logits_f64() const noexcept override { return logits_out_; }
    void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                  TraceRecorder* trace) override;

private:
    // graph::GraphOps
    void embed(std::span<const std::int32_t> tokens) override;
    void rms_norm(View in, View out, int layer, Vec w) override;
    void matmul_input(View in) override {
        input_ = in;
        rounded_type_.reset();
    }
    void matmul(int layer, Mat w, int expert, View out) override;
    void add_bias(View y, int layer, Vec b) override;
    void scale(View y, float s) override { each(y, [s](double& v) { v *= static_cast<double>(s); }); }
    void add(View y, View x) override;
    void mul(View y, View x) override;
    void silu(View y) override { each(y, [](double& v) { v = f64::silu(v); }); }
    void gelu(View y) override { each(y, [](double& v) { v = f64::gelu(v); }); }
    void rope(View y, int n_heads, int table) override;
    void attention(int layer, std::int64_t n, int window, float scale) override;
    std::vector<float> read(View v) override;
    void gather(View src, View dst, std::span<const std::int32_t> rows) override;
    void scatter_scaled(View src, View dst, std::span<const std::int32_t> rows, std::span<const float> weights) override;
    void sum_groups(View src, View dst, int k) override;
    void trace(int layer, TraceSlot slot, View v) override {
        const std::vector<float> f = read(v);
        trace_->add(layer, slot, f.data(), v.rows, v.width, v.width);
    }
    void trace_embed(View v) override { trace_->add_embed(read(v).data(), v.rows, v.width); }
    void trace_final_norm(View v) override { trace_->add_final_norm(read(v).data(), v.rows, v.width); }

    double* ptr(View v) { return bufs_[static_cast<std::size_t>(v.buf)].data() + v.row0 * v.width; }
    template <class F>
    void each(View y, F&& f) {
        double* p = ptr(y);
        for (std::int64_t i = 0; i < y.rows * y.width; ++i) f(p[i]);
    }
    const std::vector<float>& vec(int layer, Vec w) const { return graph::vector_of(model_, layer, w); }
    /// The current matmul input as the products see it (rounded to `act` under the ggml policy).
    const double* input_for(const WeightMatrix& w);

    const Model& model_;
    SessionOptions options_;
    ModelConfig cfg_;
    int capacity_ = 0;
    int n_past_ = 0;
    StageSink* stages_ = nullptr;
    TraceRecorder* trace_ = nullptr;

    std::array<std::vector<double>, graph::kBufCount> bufs_;
    std::vector<std::vector<double>> k_, v_;  // per layer: [positions, kv_dim], grown per pass
    std::vector<std::vector<double>> cs_;     // per rope table: [batch, head_dim] cos/sin pairs
    View input_{};
    std::vector<double> rounded_;             // the ggml policy's rounded matmul input
    std::optional<GgmlType> rounded_type_;    // what rounded_ holds the input rounded to, if anything
    std::vector<double> logits_out_;          // the last pass's logits
};

void F64SessionImpl::embed(std::span<const std::int32_t> tokens) {
    const WeightMatrix& te = model_.token_embd();
    double* x = bufs_[static_cast<std::size_t>(Buf::X)].data();
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        dequantize_row_exact(te.type, te.row(tokens[t]),
                             {x + static_cast<std::int64_t>(t) * cfg_.n_embd, static_cast<std::size_t>(cfg_.n_embd)});
    }
}

void F64SessionImpl::rms_norm(View in, View out, int layer, Vec w) {
    const float* wv = vec(layer, w).data();
    for (std::int64_t r = 0; r < in.rows; ++r) {
        f64::rms_norm(ptr(in) + r * in.width, wv, ptr(out) + r * in.width, in.width, static_cast<double>(cfg_.rms_eps));
    }
}

const double* F64SessionImpl::input_for(const WeightMatrix& w) {
    const double* x = ptr(input_);
    if (options_.matmul != MatmulPolicy::Ggml) return x;
    const GgmlType act = *dot_type(w.type);
    if (act == GgmlType::F32) return x;
    if (rounded_type_ == act) return rounded_.data();  // q, k and v (gate and up) share one input
    rounded_type_ = act;
    const std::int64_t n = input_.rows * input_.width;
    rounded_.resize(static_cast<std::size_t>(n));
    std::vector<float> row(static_cast<std::size_t>(input_.width));
    std::vector<std::byte> packed(row_size(act, input_.width));
    for (std::int64_t r = 0; r < input_.rows; ++r) {
        for (std::int64_t i = 0; i < input_.width; ++i) row[static_cast<std::size_t>(i)] = static_cast<float>(x[r * input_.width + i]);
        quantize_row(act, row, packed);
        dequantize_row(act, packed, row);
        std::copy(row.begin(), row.end(), rounded_.begin() + r * input_.width);
    }
    return rounded_.data();
}

void F64SessionImpl::matmul(int layer, Mat w, int expert, View out) {
    const WeightMatrix& m = graph::matrix_of(model_, layer, w, expert);
    const double* x = input_for(m);
    double* y = ptr(out);
    const std::int64_t rows = input_.rows;
    const std::int64_t n_in = m.n_in;
    parallel_for(
        m.n_out,
        [&](std::int64_t o) {
            thread_local std::vector<double> wrow;
            wrow.resize(static_cast<std::size_t>(n_in));
            dequantize_row_exact(m.type, m.row(o), wrow);
            for (std::int64_t r = 0; r < rows; ++r) {
                const double* xr = x + r * n_in;
                double acc = 0.0;
                for (std::int64_t i = 0; i < n_in; ++i) acc += wrow[static_cast<std::size_t>(i)] * xr[i];
                y[r * out.width + o] = acc;
            }
        },
        options_.threads);
}

void F64SessionImpl::add_bias(View y, int layer, Vec b) {
    const float* bv = vec(layer, b).data();
    double* p = ptr(y);
    for (std::int64_t r = 0; r < y.rows; ++r) {
        for (std::int64_t i = 0; i < y.width; ++i) p[r * y.width + i] += static_cast<double>(bv[i]);
    }
}

void F64SessionImpl::add(View y, View x) {
    double* a = ptr(y);
    const double* b = ptr(x);
    for (std::int64_t i = 0; i < y.rows * y.width; ++i) a[i] += b[i];
}

void F64SessionImpl::mul(View y, View x) {
    double* a = ptr(y);
    const double* b = ptr(x);
    for (std::int64_t i = 0; i < y.rows * y.width; ++i) a[i] *= b[i];
}

void F64SessionImpl::rope(View y, int n_heads, int table) {
    const double* cs = cs_[static_cast<std::size_t>(table)].data();
    for (std::int64_t t = 0; t < y.rows; ++t) {
        f64::rope(ptr(y) + t * y.width, n_heads, cfg_.head_dim, cs + (y.row0 + t) * cfg_.head_dim, cfg_.rope);
    }
}

void F64SessionImpl::attention(int layer, std::int64_t n, int window, float scale) {
    const std::int64_t kvd = model_.kv_dim();
    const std::int64_t qd = model_.q_dim();
    const int hd = cfg_.head_dim;
    const bool f16 = options_.kv_type == KvType::F16;
    auto& K = k_[static_cast<std::size_t>(layer)];
    auto& V = v_[static_cast<std::size_t>(layer)];
    K.resize(static_cast<std::size_t>((n_past_ + n) * kvd));
    V.resize(K.size());
    const double* kin = ptr(View{Buf::K, kvd, 0, n});
    const double* vin = ptr(View{Buf::V, kvd, 0, n});
    for (std::int64_t i = 0; i < n * kvd; ++i) {
        K[static_cast<std::size_t>(n_past_ * kvd + i)] = f16 ? round_f16(kin[i]) : kin[i];
        V[static_cast<std::size_t>(n_past_ * kvd + i)] = f16 ? round_f16(vin[i]) : vin[i];
    }
    const double* q = ptr(View{Buf::Q, qd, 0, n});
    double* out = ptr(View{Buf::Attn, qd, 0, n});
    const int group = cfg_.n_head / cfg_.n_head_kv;
    parallel_for(
        n * cfg_.n_head,
        [&](std::int64_t item) {
            const std::int64_t t = item / cfg_.n_head;
            const int h = static_cast<int>(item % cfg_.n_head);
            const std::int64_t pos = n_past_ + t;
            const std::int64_t first = window > 0 ? std::max<std::int64_t>(0, pos - window + 1) : 0;
            const std::int64_t koff = static_cast<std::int64_t>(h / group) * hd;
            thread_local std::vector<double> qh, p;
            qh.assign(q + t * qd + h * hd, q + t * qd + (h + 1) * hd);
            if (f16) std::transform(qh.begin(), qh.end(), qh.begin(), round_f16);
            p.resize(static_cast<std::size_t>(pos + 1 - first));
            for (std::int64_t j = first; j <= pos; ++j) {
                const double* kr = K.data() + j * kvd + koff;
                double s = 0.0;
                for (int d = 0; d < hd; ++d) s += qh[static_cast<std::size_t>(d)] * kr[d];
                p[static_cast<std::size_t>(j - first)] = s * static_cast<double>(scale);
            }
            f64::softmax(p.data(), static_cast<std::int64_t>(p.size()));
            double* oh = out + t * qd + h * hd;
            std::fill_n(oh, hd, 0.0);
            for (std::int64_t j = first; j <= pos; ++j) {
                const double w = f16 ? round_f16(p[static_cast<std::size_t>(j - first)]) : p[static_cast<std::size_t>(j - first)];
                const double* vr = V.data() + j * kvd + koff;
                for (int d = 0; d < hd; ++d) oh[d] += w * vr[d];
            }
        },
        options_.threads);
}

std::vector<float> F64SessionImpl::read(View v) {
    const double* p = ptr(v);
    std::vector<float> f(static_cast<std::size_t>(v.rows * v.width));
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(p[i]);
    return f;
}

void F64SessionImpl::gather(View src, View dst, std::span<const std::int32_t> rows) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::copy_n(ptr(src) + rows[i] * src.width, src.width, ptr(dst) + static_cast<std::int64_t>(i) * dst.width);
    }
}

void F64SessionImpl::scatter_scaled(View src, View dst, std::span<const std::int32_t> rows,
                                    std::span<const float> weights) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const double* s = ptr(src) + static_cast<std::int64_t>(i) * src.width;
        double* d = ptr(dst) + rows[i] * dst.width;
        for (std::int64_t j = 0; j < dst.width; ++j) d[j] = s[j] * static_cast<double>(weights[i]);
    }
}

void F64SessionImpl::sum_groups(View src, View dst, int k) {
    for (std::int64_t t = 0; t < dst.rows; ++t) {
        double* d = ptr(dst) + t * dst.width;
        std::fill_n(d, dst.width, 0.0);
        for (int i = 0; i < k; ++i) {
            const double* s = ptr(src) + (t * k + i) * src.width;
            for (std::int64_t j = 0; j < dst.width; ++j) d[j] += s[j];
        }
    }
}

void F64SessionImpl::evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                              TraceRecorder* trace) {
    graph::check_pass(model_, tokens, which, logits, n_past_, capacity_, trace);
    const auto n = static_cast<std::int64_t>(tokens.size());
    std::uint64_t doubles = 0;
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<Buf>(b);
        doubles += static_cast<std::uint64_t>(graph::buffer_rows(model_, buf, n) * graph::buffer_width(model_, buf));
    }
    doubles += 2 * static_cast<std::uint64_t>(cfg_.n_layers) * static_cast<std::uint64_t>(n * model_.kv_dim());
    require_memory("an f64 pass of " + std::to_string(n) + " tokens of " + model_.path() +
                       " (double activations and KV cache)",
                   doubles * sizeof(double), "a shorter prompt");
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<Buf>(b);
        bufs_[static_cast<std::size_t>(b)].resize(
            static_cast<std::size_t>(graph::buffer_rows(model_, buf, n) * graph::buffer_width(model_, buf)));
    }
    for (std::size_t i = 0; i < cs_.size(); ++i) {
        const RopeSpec& spec = model_.rope_tables()[i];
        cs_[i].resize(static_cast<std::size_t>(n * cfg_.head_dim));
        for (std::int64_t t = 0; t < n; ++t) {
            f64::rope_table(cs_[i].data() + t * cfg_.head_dim, n_past_ + t, cfg_.head_dim, static_cast<double>(spec.base),
                            model_.rope_freqs(), static_cast<double>(spec.freq_scale));
        }
    }
    trace_ = trace;
    graph::run_graph(model_, options_, *this, graph::PassRequest{tokens, n_past_, which, trace != nullptr, stages_});
    trace_ = nullptr;
    const std::size_t count = which == LogitsWanted::All ? static_cast<std::size_t>(n * cfg_.n_vocab)
                              : which == LogitsWanted::Last ? static_cast<std::size_t>(cfg_.n_vocab)
                                                            : 0;
    const std::vector<double>& l = bufs_[static_cast<std::size_t>(Buf::Logits)];
    logits_out_.assign(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(count));
    for (std::size_t i = 0; i < count; ++i) logits[i] = static_cast<float>(logits_out_[i]);
    n_past_ += static_cast<int>(n);
}

}  // namespace

std::unique_ptr<F64Session> create_f64_session(const Model& model, const SessionOptions& options) {
    for (const LayerWeights& L : model.layers()) {
        for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.router}) {
            check_weight(*w, options.matmul);
        }
        for (const auto* ws : {&L.exp_gate, &L.exp_up, &L.exp_down}) {
            for (const WeightMatrix& w : *ws) check_weight(w, options.matmul);
        }
    }
    check_weight(model.output(), options.matmul);
    check_weight(model.token_embd(), MatmulPolicy::Dequant);
    return std::make_unique<F64SessionImpl>(model, options);
}

}  // namespace parity
