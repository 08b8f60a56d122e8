// The CUDA backend: the shared forward graph (engine/runtime/layer_graph.h) executed by device
// kernels on CUDA device 0. The graph, the trace calls and the fault injection are the CPU
// backend's, node for node; docs/cuda.md describes the numerics and how they compare.
//
// Device state of a session: the weights (cuda_weights.h), the norm weights and biases, the KV
// cache [capacity, kv_dim] per layer (f32 or fp16), one rope table [capacity, head_dim] per
// Model::rope_tables() entry (made once on the host by rope_cache of engine/model/rope.h, so
// both backends rotate by identical cos/sin), ggml's GELU table, and scratch activations for the
// largest batch seen. Everything runs on one stream; the host waits once per evaluate(), for the
// logits (and the trace records), and in MoE layers once more per layer for the router logits.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_trace.h"
#include "cuda_weights.h"
#include "device_query.h"
#include "device_math.h"
#include "engine/error.h"
#include "engine/model/rope.h"
#include "engine/runtime/gelu.h"
#include "engine/runtime/layer_graph.h"
#include "engine/runtime/memory_budget.h"
#include "kernels.h"

namespace parity::cuda {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string gib(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / kGiB);
    return buf;
}

using graph::Buf;
using graph::Mat;
using graph::Vec;
using graph::View;

struct DeviceLayer {
    DeviceBuffer<float> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm, post_attn_norm, post_ffn_norm;
    DeviceMatrix wq, wk, wv, wo, gate, up, down, router;
    std::vector<DeviceMatrix> exp_gate, exp_up, exp_down;
};

/// Traced calls per layer: attn_norm, q, k, v, attn_out, ffn_norm, gate, up, silu, swiglu,
/// ffn_out, output.
constexpr int kTraceCallsPerLayer = 12;

class CudaSession final : public Session, private graph::GraphOps {
public:
    CudaSession(const Model& model, const SessionOptions& options);

    const Model& model() const noexcept override { return model_; }
    const SessionOptions& options() const noexcept override { return options_; }
    int n_past() const noexcept override { return n_past_; }
    int capacity() const noexcept override { return capacity_; }
    void reset() noexcept override { n_past_ = 0; }
    void set_stage_sink(StageSink* sink) noexcept override { stages_ = sink; }
    void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                  TraceRecorder* trace) override;

private:
    // graph::GraphOps
    void embed(std::span<const std::int32_t> tokens) override;
    void rms_norm(View in, View out, int layer, Vec w) override;
    void matmul_input(View in) override { mm_.set_input(ptr(in), in.rows, in.width); }
    void matmul(int layer, Mat w, int expert, View out) override;
    void add_bias(View y, int layer, Vec b) override;
    void scale(View y, float s) override { kernels::scale(ptr(y), s, y.rows * y.width, stream_.get()); }
    void add(View y, View x) override { kernels::add(ptr(y), ptr(x), y.rows * y.width, stream_.get()); }
    void mul(View y, View x) override { kernels::mul(ptr(y), ptr(x), y.rows * y.width, stream_.get()); }
    void silu(View y) override { kernels::silu(ptr(y), y.rows * y.width, stream_.get()); }
    void gelu(View y) override;
    void rope(View y, int n_heads, int table) override;
    void attention(int layer, std::int64_t n, int window, float scale) override;
    std::vector<float> read(View v) override;
    void gather(View src, View dst, std::span<const std::int32_t> rows) override;
    void scatter_scaled(View src, View dst, std::span<const std::int32_t> rows, std::span<const float> weights) override;
    void sum_groups(View src, View dst, int k) override;
    void trace(int layer, TraceSlot slot, View v) override { trace_.add(layer, slot, ptr(v), v.rows, v.width, stream_.get()); }
    void trace_embed(View v) override { trace_.add_embed(ptr(v), v.rows, v.width, stream_.get()); }
    void trace_final_norm(View v) override { trace_.add_final_norm(ptr(v), v.rows, v.width, stream_.get()); }

    float* ptr(View v) { return bufs_[static_cast<std::size_t>(v.buf)].get() + v.row0 * v.width; }
    const DeviceBuffer<float>& vec(int layer, Vec w) const;
    void upload_rows(std::span<const std::int32_t> rows);
    /// Refuses a model the device cannot hold; records weight_scratch_bytes_.
    void check_memory();
    std::uint64_t batch_bytes(std::int64_t n) const noexcept;
    void ensure_batch(std::int64_t n);

    const Model& model_;
    SessionOptions options_;
    ModelConfig cfg_;
    std::int64_t hd_;
    int capacity_;
    int n_past_ = 0;
    StageSink* stages_ = nullptr;  // receives stage tensors when set (set_stage_sink)

    Stream stream_;
    CublasHandle blas_;
    Matmul mm_;

    std::vector<DeviceLayer> layers_;
    DeviceMatrix token_embd_;
    DeviceMatrix output_;  // empty when tied: the output projection is token_embd_
    DeviceBuffer<float> output_norm_;
    std::vector<DeviceBuffer<std::uint8_t>> k_cache_, v_cache_;
    std::vector<DeviceBuffer<float>> rope_cs_;  // per rope table: [capacity, head_dim]
    DeviceBuffer<std::uint16_t> gelu_table_;    // ggml policy: ggml's fp16 GELU table

    std::int64_t batch_cap_ = 0;
    std::uint64_t weight_scratch_bytes_ = 0;  ///< f32 scratch of the largest batched matmul (check_memory)
    std::array<DeviceBuffer<float>, graph::kBufCount> bufs_;
    DeviceBuffer<std::int32_t> tokens_, rows_;
    DeviceBuffer<float> weights_;
    DeviceTrace trace_;
};

DeviceBuffer<float> upload_floats(std::span<const float> v, cudaStream_t stream) {
    if (v.empty()) return {};
    DeviceBuffer<float> b(v.size());
    PARITY_CUDA_CHECK(cudaMemcpyAsync(b.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
    return b;
}

std::vector<DeviceMatrix> upload_all(const std::vector<WeightMatrix>& ws, MatmulPolicy p, cudaStream_t s) {
    std::vector<DeviceMatrix> out;
    for (const WeightMatrix& w : ws) out.push_back(upload_matrix(w, p, true, s));
    return out;
}

CudaSession::CudaSession(const Model& model, const SessionOptions& options)
    : model_(model),
      options_(options),
      cfg_(model.config()),
      hd_(cfg_.head_dim),
      capacity_(options.max_context > 0 ? options.max_context : (cfg_.n_ctx > 0 ? cfg_.n_ctx : 4096)),
      blas_(stream_.get()),
      mm_(stream_.get(), blas_.get()),
      trace_(kTraceCallsPerLayer * cfg_.n_layers + 2,
             static_cast<std::int64_t>(cfg_.n_layers) *
                 (5 * cfg_.n_embd + model.q_dim() + 2 * model.kv_dim() + 4 * std::int64_t{cfg_.n_ff})) {
    const cudaStream_t s = stream_.get();
    const int max_kv = kernels::attention_max_kv(cfg_.head_dim);
    if (capacity_ > max_kv) {
        throw UsageError("backend cuda: a context of " + std::to_string(capacity_) + " tokens exceeds the attention " +
                         "kernel's limit of " + std::to_string(max_kv) + " on " + device::name(0) +
                         " (set a smaller max_context)");
    }
    check_memory();

    const MatmulPolicy p = options_.matmul;
    const bool moe = model.family().ffn == FfnKind::MoeSwiGlu;
    for (const LayerWeights& L : model.layers()) {
        DeviceLayer d;
        d.attn_norm = upload_floats(L.attn_norm, s);
        d.ffn_norm = upload_floats(L.ffn_norm, s);
        d.bq = upload_floats(L.bq, s);
        d.bk = upload_floats(L.bk, s);
        d.bv = upload_floats(L.bv, s);
        d.q_norm = upload_floats(L.q_norm, s);
        d.k_norm = upload_floats(L.k_norm, s);
        d.post_attn_norm = upload_floats(L.post_attn_norm, s);
        d.post_ffn_norm = upload_floats(L.post_ffn_norm, s);
        d.wq = upload_matrix(L.wq, p, true, s);
        d.wk = upload_matrix(L.wk, p, true, s);
        d.wv = upload_matrix(L.wv, p, true, s);
        d.wo = upload_matrix(L.wo, p, true, s);
        if (moe) {
            d.router = upload_matrix(L.router, p, true, s);
            d.exp_gate = upload_all(L.exp_gate, p, s);
            d.exp_up = upload_all(L.exp_up, p, s);
            d.exp_down = upload_all(L.exp_down, p, s);
        } else {
            d.gate = upload_matrix(L.ffn_gate, p, true, s);
            d.up = upload_matrix(L.ffn_up, p, true, s);
            d.down = upload_matrix(L.ffn_down, p, true, s);
        }
        layers_.push_back(std::move(d));
    }
    token_embd_ = upload_matrix(model.token_embd(), p, cfg_.tied, s);
    if (!cfg_.tied) output_ = upload_matrix(model.output(), p, true, s);
    output_norm_ = upload_floats(model.output_norm(), s);
    if (p == MatmulPolicy::Ggml && model.family().ffn == FfnKind::GeGlu) {
        const std::span<const std::uint16_t> table = gelu_fp16_table();
        gelu_table_ = DeviceBuffer<std::uint16_t>(table.size());
        PARITY_CUDA_CHECK(cudaMemcpyAsync(gelu_table_.get(), table.data(), table.size_bytes(), cudaMemcpyHostToDevice, s));
    }

    const std::size_t elem = options_.kv_type == KvType::F32 ? 4 : 2;
    const std::size_t cache_bytes =
        static_cast<std::size_t>(capacity_) * static_cast<std::size_t>(model.kv_dim()) * elem;
    for (int l = 0; l < cfg_.n_layers; ++l) {
        k_cache_.emplace_back(cache_bytes);
        v_cache_.emplace_back(cache_bytes);
    }

    // cos/sin of every position, by the CPU's own function (so both backends rotate identically).
    std::vector<float> cs(static_cast<std::size_t>(capacity_) * static_cast<std::size_t>(hd_));
    for (const RopeSpec& spec : model.rope_tables()) {
        for (int pos = 0; pos < capacity_; ++pos) {
            rope_cache(cs.data() + static_cast<std::size_t>(pos) * static_cast<std::size_t>(hd_), pos, cfg_.head_dim,
                       spec.base, model_.rope_freqs(), spec.freq_scale);
        }
        rope_cs_.push_back(upload_floats(cs, s));
        stream_.synchronize();  // cs is reused for the next table
    }

    ensure_batch(1);
    stream_.synchronize();  // the uploads read host memory that may go away
}

void CudaSession::check_memory() {
    const MatmulPolicy p = options_.matmul;
    double need = 0.0;
    std::size_t scratch = 0;
    auto matrix = [&](const WeightMatrix& w, bool for_matmul) {
        need += static_cast<double>(matrix_device_bytes(w));
        if (for_matmul) scratch = std::max(scratch, batch_weight_scratch_bytes(w, p));
    };
    for (const LayerWeights& L : model_.layers()) {
        for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.router}) {
            if (w->n_out > 0) matrix(*w, true);
        }
        for (const auto* set : {&L.exp_gate, &L.exp_up, &L.exp_down}) {
            for (const WeightMatrix& w : *set) matrix(w, true);
        }
    }
    matrix(model_.token_embd(), cfg_.tied);
    if (!cfg_.tied) matrix(model_.output(), true);
    // Counted by batch_bytes() for passes of more than one token.
    weight_scratch_bytes_ = scratch;
    const double elem = options_.kv_type == KvType::F32 ? 4.0 : 2.0;
    need += 2.0 * cfg_.n_layers * static_cast<double>(capacity_) * static_cast<double>(model_.kv_dim()) * elem;
    need += static_cast<double>(model_.rope_tables().size()) * static_cast<double>(capacity_) *
            static_cast<double>(hd_) * 4.0;
    need += static_cast<double>(batch_bytes(1));  // the scratch and logits of a one-token pass
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    PARITY_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    // The cuBLAS workspace comes on top.
    if (need > 0.95 * static_cast<double>(free_bytes)) {
        throw MemoryError("backend cuda: " + model_.path() + " needs about " + gib(need) + " of device memory with matmul " +
                         std::string(to_string(p)) + " (weights, KV cache), but " + device::name(0) + " has " +
                         gib(static_cast<double>(free_bytes)) + " free");
    }
}

std::uint64_t CudaSession::batch_bytes(std::int64_t n) const noexcept {
    std::uint64_t floats = 0;
    std::int64_t widest = 0;
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<Buf>(b);
        const std::int64_t rows = graph::buffer_rows(model_, buf, n);
        floats += static_cast<std::uint64_t>(rows * graph::buffer_width(model_, buf));  // Logits included
        if (rows > 0 && buf != Buf::Logits) widest = std::max(widest, graph::buffer_width(model_, buf));
    }
    const auto routed = static_cast<std::uint64_t>(n * std::max(1, cfg_.n_expert_used));
    // tokens (int32), expert rows (int32) and weights (float), the matmul's f32 and f16 activations,
    // and for a batch the f32 scratch of the largest matrix cuBLAS multiplies
    const std::uint64_t scratch = n > 1 ? weight_scratch_bytes_ : 0;
    return floats * 4 + static_cast<std::uint64_t>(n) * 4 + routed * 8 + static_cast<std::uint64_t>(n * widest) * 6 +
           scratch;
}

void CudaSession::ensure_batch(std::int64_t n) {
    if (n <= batch_cap_) return;
    if (batch_cap_ > 0) {
        std::size_t free_bytes = 0;
        std::size_t total_bytes = 0;
        PARITY_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
        require_memory("a cuda pass of " + std::to_string(n) + " tokens of " + model_.path() +
                           " (activation scratch and logits on " + device::name(0) + ")",
                       batch_bytes(n) - batch_bytes(batch_cap_), "mode incremental (one token per pass) or a shorter prompt",
                       free_bytes);
    }
    std::int64_t widest = 0;
    for (int b = 0; b < graph::kBufCount; ++b) {
        const auto buf = static_cast<Buf>(b);
        const std::int64_t rows = graph::buffer_rows(model_, buf, n);
        const std::int64_t width = graph::buffer_width(model_, buf);
        if (rows * width > 0) bufs_[static_cast<std::size_t>(b)].ensure(static_cast<std::size_t>(rows * width));
        if (rows > 0 && buf != Buf::Logits) widest = std::max(widest, width);
    }
    tokens_.ensure(static_cast<std::size_t>(n));
    rows_.ensure(static_cast<std::size_t>(n * std::max(1, cfg_.n_expert_used)));
    weights_.ensure(static_cast<std::size_t>(n * std::max(1, cfg_.n_expert_used)));
    mm_.reserve(n, widest);
    batch_cap_ = n;
}

const DeviceBuffer<float>& CudaSession::vec(int layer, Vec w) const {
    if (w == Vec::OutputNorm) return output_norm_;
    const DeviceLayer& L = layers_[static_cast<std::size_t>(layer)];
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
    return output_norm_;
}

void CudaSession::embed(std::span<const std::int32_t> tokens) {
    const cudaStream_t s = stream_.get();
    const auto n = static_cast<std::int64_t>(tokens.size());
    PARITY_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data(), static_cast<std::size_t>(n) * sizeof(std::int32_t),
                                      cudaMemcpyHostToDevice, s));
    kernels::dequantize_rows(token_embd_.stored, token_embd_.data.get(), cfg_.n_embd, tokens_.get(), n,
                             ptr(View{Buf::X, cfg_.n_embd, 0, n}), s);
}

void CudaSession::rms_norm(View in, View out, int layer, Vec w) {
    kernels::rms_norm(ptr(in), vec(layer, w).get(), in.rows, in.width, cfg_.rms_eps, ptr(out), stream_.get());
}

void CudaSession::matmul(int layer, Mat w, int expert, View out) {
    const DeviceMatrix* m = cfg_.tied ? &token_embd_ : &output_;
    if (w != Mat::Output) {
        const DeviceLayer& L = layers_[static_cast<std::size_t>(layer)];
        const auto e = static_cast<std::size_t>(expert);
        switch (w) {
            case Mat::Wq: m = &L.wq; break;
            case Mat::Wk: m = &L.wk; break;
            case Mat::Wv: m = &L.wv; break;
            case Mat::Wo: m = &L.wo; break;
            case Mat::Gate: m = &L.gate; break;
            case Mat::Up: m = &L.up; break;
            case Mat::Down: m = &L.down; break;
            case Mat::Router: m = &L.router; break;
            case Mat::ExpGate: m = &L.exp_gate[e]; break;
            case Mat::ExpUp: m = &L.exp_up[e]; break;
            case Mat::ExpDown: m = &L.exp_down[e]; break;
            case Mat::Output: break;
        }
    }
    mm_.run(*m, ptr(out));
}

void CudaSession::add_bias(View y, int layer, Vec b) {
    kernels::add_rows(ptr(y), vec(layer, b).get(), y.rows, y.width, stream_.get());
}

void CudaSession::gelu(View y) {
    kernels::gelu(ptr(y), y.rows * y.width, gelu_table_.empty() ? nullptr : gelu_table_.get(), stream_.get());
}

void CudaSession::rope(View y, int n_heads, int table) {
    kernels::rope(ptr(y), y.rows, n_heads, cfg_.head_dim, rope_cs_[static_cast<std::size_t>(table)].get(),
                  n_past_ + static_cast<int>(y.row0), cfg_.rope == RopeType::Neox, stream_.get());
}

void CudaSession::attention(int layer, std::int64_t n, int window, float scale) {
    const cudaStream_t s = stream_.get();
    const bool f16 = options_.kv_type == KvType::F16;
    void* kc = k_cache_[static_cast<std::size_t>(layer)].get();
    void* vc = v_cache_[static_cast<std::size_t>(layer)].get();
    kernels::kv_store(ptr(View{Buf::K, model_.kv_dim(), 0, n}), ptr(View{Buf::V, model_.kv_dim(), 0, n}), n,
                      model_.kv_dim(), n_past_, f16, kc, vc, s);
    kernels::attention(ptr(View{Buf::Q, model_.q_dim(), 0, n}), kc, vc, f16, n, n_past_, cfg_.n_head, cfg_.n_head_kv,
                       cfg_.head_dim, scale, window, ptr(View{Buf::Attn, model_.q_dim(), 0, n}), s);
}

std::vector<float> CudaSession::read(View v) {
    std::vector<float> host(static_cast<std::size_t>(v.rows * v.width));
    PARITY_CUDA_CHECK(cudaMemcpyAsync(host.data(), ptr(v), host.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                      stream_.get()));
    stream_.synchronize();
    return host;
}

void CudaSession::upload_rows(std::span<const std::int32_t> rows) {
    // Stream-ordered: the copy waits for the kernels that still read the previous ids.
    PARITY_CUDA_CHECK(cudaMemcpyAsync(rows_.get(), rows.data(), rows.size_bytes(), cudaMemcpyHostToDevice, stream_.get()));
}

void CudaSession::gather(View src, View dst, std::span<const std::int32_t> rows) {
    upload_rows(rows);
    kernels::gather_rows(ptr(src), rows_.get(), static_cast<std::int64_t>(rows.size()), src.width, ptr(dst),
                         stream_.get());
}

void CudaSession::scatter_scaled(View src, View dst, std::span<const std::int32_t> rows, std::span<const float> weights) {
    upload_rows(rows);
    PARITY_CUDA_CHECK(cudaMemcpyAsync(weights_.get(), weights.data(), weights.size_bytes(), cudaMemcpyHostToDevice,
                                      stream_.get()));
    kernels::scatter_rows_scaled(ptr(src), rows_.get(), weights_.get(), static_cast<std::int64_t>(rows.size()),
                                 dst.width, ptr(dst), stream_.get());
}

void CudaSession::sum_groups(View src, View dst, int k) {
    kernels::sum_groups(ptr(src), dst.rows, k, dst.width, ptr(dst), stream_.get());
}

void CudaSession::evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                           TraceRecorder* trace) {
    graph::check_pass(model_, tokens, which, logits, n_past_, capacity_, trace);
    const auto n = static_cast<std::int64_t>(tokens.size());
    ensure_batch(n);
    const cudaStream_t s = stream_.get();
    const bool tracing = trace != nullptr;
    if (tracing) trace_.begin(trace->keeps_values());
    graph::run_graph(model_, options_, *this, graph::PassRequest{tokens, n_past_, which, tracing, stages_});
    if (which != LogitsWanted::None) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(logits.data(), bufs_[static_cast<std::size_t>(Buf::Logits)].get(),
                                          logits.size_bytes(), cudaMemcpyDeviceToHost, s));
    }
    if (tracing) {
        trace_.finish(*trace, s);  // waits for the stream
    } else {
        stream_.synchronize();
    }
    n_past_ += static_cast<int>(n);
}

}  // namespace

std::unique_ptr<Session> create_cuda_session(const Model& model, const SessionOptions& options) {
    if (device::count() == 0) {
        throw UsageError("backend cuda: no CUDA device is visible (this build has CUDA; check the driver, "
                         "nvidia-smi and CUDA_VISIBLE_DEVICES)");
    }
    PARITY_CUDA_CHECK(cudaSetDevice(0));
    return std::make_unique<CudaSession>(model, options);
}

}  // namespace parity::cuda
