// The CUDA backend: llama.cpp's qwen2 / llama graph on CUDA device 0, slot for slot the CPU
// backend's (engine/src/runtime/cpu/cpu_session.cpp): the same order of operations, the same trace calls,
// the same fault injection. docs/cuda.md describes the numerics and how they compare.
//
// Device state of a session: the weights (cuda_weights.h), the norm weights and biases, the KV
// cache [capacity, kv_dim] per layer (f32 or fp16), the rope table [capacity, head_dim] (made
// once on the host by rope_cache of engine/model/rope.h, so both backends rotate by identical
// cos/sin), and scratch activations for the largest batch seen. Everything runs on one stream; the host
// waits once per evaluate(), for the logits (and the trace records).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/model/rope.h"
#include "cuda_backend.h"
#include "cuda_check.h"
#include "cuda_trace.h"
#include "cuda_weights.h"
#include "device_math.h"
#include "engine/runtime/cuda_device.h"
#include "engine/error.h"
#include "kernels.h"

namespace parity::cuda {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// Traced calls per layer: attn_norm, q, k, v, attn_out, ffn_norm, gate, up, silu, swiglu,
/// ffn_out, output.
constexpr int kTraceCallsPerLayer = 12;

DeviceBuffer<float> upload_floats(const std::vector<float>& v, cudaStream_t stream) {
    if (v.empty()) return {};
    DeviceBuffer<float> b(v.size());
    PARITY_CUDA_CHECK(cudaMemcpyAsync(b.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
    return b;
}

std::string gib(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / kGiB);
    return buf;
}

struct DeviceLayer {
    DeviceBuffer<float> attn_norm, ffn_norm, bq, bk, bv;
    DeviceMatrix wq, wk, wv, wo, gate, up, down;
};

class CudaSession final : public Session {
public:
    CudaSession(const Model& model, const SessionOptions& options);

    const Model& model() const noexcept override { return model_; }
    const SessionOptions& options() const noexcept override { return options_; }
    int n_past() const noexcept override { return n_past_; }
    int capacity() const noexcept override { return capacity_; }
    void reset() noexcept override { n_past_ = 0; }
    void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                  TraceRecorder* trace) override;

private:
    void check_memory() const;
    void ensure_batch(std::int64_t n);
    void layer(int il, std::int64_t n, bool tracing);

    const Model& model_;
    SessionOptions options_;
    ModelConfig cfg_;
    std::int64_t embd_, qd_, kvd_, ff_, hd_;
    int capacity_;
    float attn_scale_;
    int n_past_ = 0;

    Stream stream_;
    CublasHandle blas_;
    Matmul mm_;

    std::vector<DeviceLayer> layers_;
    DeviceMatrix token_embd_;
    DeviceMatrix output_;  // empty when tied: the output projection is token_embd_
    DeviceBuffer<float> output_norm_;
    std::vector<DeviceBuffer<std::uint8_t>> k_cache_, v_cache_;
    DeviceBuffer<float> rope_cs_;

    std::int64_t batch_cap_ = 0;
    DeviceBuffer<float> x_, cur_, q_, k_, v_, attn_, o_, gate_, up_, down_, logits_;
    DeviceBuffer<std::int32_t> tokens_;
    DeviceTrace trace_;
};

CudaSession::CudaSession(const Model& model, const SessionOptions& options)
    : model_(model),
      options_(options),
      cfg_(model.config()),
      embd_(cfg_.n_embd),
      qd_(model.q_dim()),
      kvd_(model.kv_dim()),
      ff_(cfg_.n_ff),
      hd_(cfg_.head_dim),
      capacity_(options.max_context > 0 ? options.max_context : (cfg_.n_ctx > 0 ? cfg_.n_ctx : 4096)),
      attn_scale_(1.0f / std::sqrt(static_cast<float>(cfg_.head_dim))),
      blas_(stream_.get()),
      mm_(stream_.get(), blas_.get()),
      trace_(kTraceCallsPerLayer * cfg_.n_layers + 2,
             static_cast<std::int64_t>(cfg_.n_layers) * (5 * embd_ + qd_ + 2 * kvd_ + 4 * ff_)) {
    const cudaStream_t s = stream_.get();
    const int max_kv = kernels::attention_max_kv(cfg_.head_dim);
    if (capacity_ > max_kv) {
        throw UsageError("backend cuda: a context of " + std::to_string(capacity_) + " tokens exceeds the attention " +
                         "kernel's limit of " + std::to_string(max_kv) + " on " + device_name(0) +
                         " (set a smaller max_context)");
    }
    check_memory();

    const MatmulPolicy p = options_.matmul;
    for (const LayerWeights& L : model.layers()) {
        DeviceLayer d;
        d.attn_norm = upload_floats(L.attn_norm, s);
        d.ffn_norm = upload_floats(L.ffn_norm, s);
        d.bq = upload_floats(L.bq, s);
        d.bk = upload_floats(L.bk, s);
        d.bv = upload_floats(L.bv, s);
        d.wq = upload_matrix(L.wq, p, true, s);
        d.wk = upload_matrix(L.wk, p, true, s);
        d.wv = upload_matrix(L.wv, p, true, s);
        d.wo = upload_matrix(L.wo, p, true, s);
        d.gate = upload_matrix(L.ffn_gate, p, true, s);
        d.up = upload_matrix(L.ffn_up, p, true, s);
        d.down = upload_matrix(L.ffn_down, p, true, s);
        layers_.push_back(std::move(d));
    }
    token_embd_ = upload_matrix(model.token_embd(), p, cfg_.tied, s);
    if (!cfg_.tied) output_ = upload_matrix(model.output(), p, true, s);
    output_norm_ = upload_floats(model.output_norm(), s);

    const std::size_t elem = options_.kv_type == KvType::F32 ? 4 : 2;
    const std::size_t cache_bytes = static_cast<std::size_t>(capacity_) * static_cast<std::size_t>(kvd_) * elem;
    for (int l = 0; l < cfg_.n_layers; ++l) {
        k_cache_.emplace_back(cache_bytes);
        v_cache_.emplace_back(cache_bytes);
    }

    // cos/sin of every position, by the CPU's own function (so both backends rotate identically).
    std::vector<float> cs(static_cast<std::size_t>(capacity_) * static_cast<std::size_t>(hd_));
    for (int pos = 0; pos < capacity_; ++pos) {
        rope_cache(cs.data() + static_cast<std::size_t>(pos) * static_cast<std::size_t>(hd_), pos, cfg_.head_dim,
                   cfg_.rope_base, model_.rope_freqs());
    }
    rope_cs_ = upload_floats(cs, s);

    logits_ = DeviceBuffer<float>(static_cast<std::size_t>(cfg_.n_vocab));
    ensure_batch(1);
    stream_.synchronize();  // the uploads read host memory that may go away
}

void CudaSession::check_memory() const {
    const MatmulPolicy p = options_.matmul;
    double need = 0.0;
    for (const LayerWeights& L : model_.layers()) {
        for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) {
            need += static_cast<double>(matrix_device_bytes(*w, p, true));
        }
    }
    need += static_cast<double>(matrix_device_bytes(model_.token_embd(), p, cfg_.tied));
    if (!cfg_.tied) need += static_cast<double>(matrix_device_bytes(model_.output(), p, true));
    const double elem = options_.kv_type == KvType::F32 ? 4.0 : 2.0;
    need += 2.0 * cfg_.n_layers * static_cast<double>(capacity_) * static_cast<double>(kvd_) * elem;
    need += static_cast<double>(capacity_) * static_cast<double>(hd_) * 4.0;
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    PARITY_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    // Scratch, cuBLAS workspace and the ggml policy's per-call weight buffer come on top.
    if (need > 0.95 * static_cast<double>(free_bytes)) {
        throw UsageError("backend cuda: " + model_.path() + " needs about " + gib(need) + " of device memory with matmul " +
                         std::string(to_string(p)) + " (weights" + (p == MatmulPolicy::Dequant ? " and their f32 copies" : "") +
                         ", KV cache), but " + device_name(0) + " has " + gib(static_cast<double>(free_bytes)) +
                         " free" + (p == MatmulPolicy::Dequant ? "; matmul ggml keeps no f32 copies" : ""));
    }
}

void CudaSession::ensure_batch(std::int64_t n) {
    if (n <= batch_cap_) return;
    auto grow = [n](DeviceBuffer<float>& b, std::int64_t width) { b.ensure(static_cast<std::size_t>(n * width)); };
    grow(x_, embd_);
    grow(cur_, embd_);
    grow(q_, qd_);
    grow(k_, kvd_);
    grow(v_, kvd_);
    grow(attn_, qd_);
    grow(o_, embd_);
    grow(gate_, ff_);
    grow(up_, ff_);
    grow(down_, embd_);
    tokens_.ensure(static_cast<std::size_t>(n));
    mm_.reserve(n, std::max({embd_, qd_, ff_}));
    batch_cap_ = n;
}

void CudaSession::layer(int il, std::int64_t n, bool tracing) {
    const cudaStream_t s = stream_.get();
    const DeviceLayer& L = layers_[static_cast<std::size_t>(il)];
    // Injected faults change the activation before anything reads it (see FaultInjection).
    auto inject = [&](TraceSlot slot, float* buf, std::int64_t width) {
        for (const FaultInjection& f : options_.faults) {
            if (f.layer == il && f.slot == slot) kernels::scale(buf, f.scale, n * width, s);
        }
    };
    auto record = [&](TraceSlot slot, float* buf, std::int64_t width) {
        inject(slot, buf, width);
        if (tracing) trace_.add(il, slot, buf, n, width, s);
    };
    auto add_bias = [&](float* y, const DeviceBuffer<float>& b, std::int64_t width) {
        if (!b.empty()) kernels::add_rows(y, b.get(), n, width, s);
    };

    // Attention block.
    kernels::rms_norm(x_.get(), L.attn_norm.get(), n, embd_, cfg_.rms_eps, cur_.get(), s);
    record(TraceSlot::AttnNorm, cur_.get(), embd_);
    mm_.set_input(cur_.get(), n, embd_);
    mm_.run(L.wq, q_.get());
    mm_.run(L.wk, k_.get());
    mm_.run(L.wv, v_.get());
    add_bias(q_.get(), L.bq, qd_);
    add_bias(k_.get(), L.bk, kvd_);
    add_bias(v_.get(), L.bv, kvd_);
    inject(TraceSlot::Qkv, q_.get(), qd_);
    inject(TraceSlot::Qkv, k_.get(), kvd_);
    inject(TraceSlot::Qkv, v_.get(), kvd_);
    if (tracing) {
        trace_.add(il, TraceSlot::Qkv, q_.get(), n, qd_, s);
        trace_.add(il, TraceSlot::Qkv, k_.get(), n, kvd_, s);
        trace_.add(il, TraceSlot::Qkv, v_.get(), n, kvd_, s);
    }
    const bool neox = cfg_.rope == RopeType::Neox;
    kernels::rope(q_.get(), n, cfg_.n_head, cfg_.head_dim, rope_cs_.get(), n_past_, neox, s);
    kernels::rope(k_.get(), n, cfg_.n_head_kv, cfg_.head_dim, rope_cs_.get(), n_past_, neox, s);
    const bool f16 = options_.kv_type == KvType::F16;
    void* kc = k_cache_[static_cast<std::size_t>(il)].get();
    void* vc = v_cache_[static_cast<std::size_t>(il)].get();
    kernels::kv_store(k_.get(), v_.get(), n, static_cast<int>(kvd_), n_past_, f16, kc, vc, s);
    kernels::attention(q_.get(), kc, vc, f16, n, n_past_, cfg_.n_head, cfg_.n_head_kv, cfg_.head_dim, attn_scale_,
                       attn_.get(), s);
    mm_.set_input(attn_.get(), n, qd_);
    mm_.run(L.wo, o_.get());
    record(TraceSlot::AttnOut, o_.get(), embd_);
    kernels::add(x_.get(), o_.get(), n * embd_, s);

    // Feed-forward block.
    kernels::rms_norm(x_.get(), L.ffn_norm.get(), n, embd_, cfg_.rms_eps, cur_.get(), s);
    record(TraceSlot::FfnNorm, cur_.get(), embd_);
    mm_.set_input(cur_.get(), n, embd_);
    mm_.run(L.gate, gate_.get());
    mm_.run(L.up, up_.get());
    record(TraceSlot::FfnGate, gate_.get(), ff_);
    record(TraceSlot::FfnUp, up_.get(), ff_);
    kernels::silu(gate_.get(), n * ff_, s);
    record(TraceSlot::FfnSiluGate, gate_.get(), ff_);
    kernels::mul(up_.get(), gate_.get(), n * ff_, s);
    record(TraceSlot::FfnSwigluInner, up_.get(), ff_);
    mm_.set_input(up_.get(), n, ff_);
    mm_.run(L.down, down_.get());
    record(TraceSlot::FfnOut, down_.get(), embd_);
    kernels::add(x_.get(), down_.get(), n * embd_, s);
    record(TraceSlot::Output, x_.get(), embd_);
}

void CudaSession::evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                           TraceRecorder* trace) {
    const auto n = static_cast<std::int64_t>(tokens.size());
    if (n == 0) throw UsageError("evaluate: empty batch");
    const std::int64_t n_vocab = cfg_.n_vocab;
    for (const std::int32_t id : tokens) {
        if (id < 0 || id >= n_vocab) {
            throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(n_vocab) + ") of " + model_.path());
        }
    }
    const std::int64_t want = which == LogitsWanted::All ? n * n_vocab : which == LogitsWanted::Last ? n_vocab : 0;
    if (which != LogitsWanted::None && static_cast<std::int64_t>(logits.size()) != want) {
        throw UsageError("evaluate: logits span holds " + std::to_string(logits.size()) + " floats, expected " +
                         std::to_string(want));
    }
    if (n_past_ + n > capacity_) {
        throw UsageError("KV cache full: " + std::to_string(n_past_) + " cached + " + std::to_string(n) +
                         " new tokens exceed the capacity of " + std::to_string(capacity_) +
                         " (SessionOptions::max_context)");
    }
    if (trace != nullptr && trace->n_layers() != cfg_.n_layers) {
        throw UsageError("evaluate: trace recorder has " + std::to_string(trace->n_layers()) + " layers, model has " +
                         std::to_string(cfg_.n_layers));
    }
    ensure_batch(n);
    const cudaStream_t s = stream_.get();
    const bool tracing = trace != nullptr;
    if (tracing) trace_.begin(trace->keeps_values());

    PARITY_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data(), static_cast<std::size_t>(n) * sizeof(std::int32_t),
                                      cudaMemcpyHostToDevice, s));
    kernels::dequantize_rows(token_embd_.stored, token_embd_.data.get(), embd_, tokens_.get(), n, x_.get(), s);
    if (tracing) trace_.add_embed(x_.get(), n, embd_, s);

    for (int il = 0; il < cfg_.n_layers; ++il) layer(il, n, tracing);

    // Final norm: every row when they are all needed (all logits, or a trace of the whole
    // sample), else the last row only.
    const bool all_rows = which == LogitsWanted::All || tracing;
    if (all_rows) {
        kernels::rms_norm(x_.get(), output_norm_.get(), n, embd_, cfg_.rms_eps, cur_.get(), s);
        if (tracing) trace_.add_final_norm(cur_.get(), n, embd_, s);
    } else if (which == LogitsWanted::Last) {
        kernels::rms_norm(x_.get() + (n - 1) * embd_, output_norm_.get(), 1, embd_, cfg_.rms_eps,
                          cur_.get() + (n - 1) * embd_, s);
    }
    const DeviceMatrix& out = cfg_.tied ? token_embd_ : output_;
    if (which == LogitsWanted::All) {
        logits_.ensure(static_cast<std::size_t>(n * n_vocab));
        mm_.set_input(cur_.get(), n, embd_);
        mm_.run(out, logits_.get());
    } else if (which == LogitsWanted::Last) {
        mm_.set_input(cur_.get() + (n - 1) * embd_, 1, embd_);
        mm_.run(out, logits_.get());
    }
    if (which != LogitsWanted::None) {
        PARITY_CUDA_CHECK(cudaMemcpyAsync(logits.data(), logits_.get(), static_cast<std::size_t>(want) * sizeof(float),
                                          cudaMemcpyDeviceToHost, s));
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
    if (device_count() == 0) {
        throw UsageError("backend cuda: no CUDA device is visible (this build has CUDA; check the driver, "
                         "nvidia-smi and CUDA_VISIBLE_DEVICES)");
    }
    PARITY_CUDA_CHECK(cudaSetDevice(0));
    return std::make_unique<CudaSession>(model, options);
}

}  // namespace parity::cuda
