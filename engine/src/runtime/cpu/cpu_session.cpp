// The CPU backend: llama.cpp's qwen2 / llama graph on one batch of tokens at a time, with a KV
// cache, both matmul policies, and trace recording at every slot.

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "attention.h"
#include "cpu_session.h"
#include "kernels.h"
#include "matmul.h"
#include "threads.h"
#include "engine/error.h"
#include "engine/quant/quant.h"

namespace parity::cpu {

namespace {

struct PreparedLayer {
    PreparedMatrix wq, wk, wv, wo, gate, up, down;
};

class CpuSession final : public Session {
public:
    CpuSession(const Model& model, const SessionOptions& options);

    const Model& model() const noexcept override { return model_; }
    const SessionOptions& options() const noexcept override { return options_; }
    int n_past() const noexcept override { return n_past_; }
    int capacity() const noexcept override { return kv_.capacity(); }
    void reset() noexcept override { n_past_ = 0; }
    void evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
                  TraceRecorder* trace) override;

private:
    void ensure_batch(std::int64_t n);
    void layer(int il, std::int64_t n, TraceRecorder* trace);
    void attention(int il, std::int64_t n);
    void norm_rows(const float* x, const std::vector<float>& w, float* y, std::int64_t row0, std::int64_t row1);

    const Model& model_;
    SessionOptions options_;
    ModelConfig cfg_;
    int threads_;
    std::int64_t embd_, qd_, kvd_, ff_, hd_;
    AttentionShape shape_;
    KvCache kv_;
    int n_past_ = 0;

    std::vector<std::vector<float>> dequant_store_;
    std::vector<PreparedLayer> layers_;
    PreparedMatrix output_;

    // Scratch for batch_cap_ tokens (grown by ensure_batch, never per decode step).
    std::int64_t batch_cap_ = 0;
    std::vector<float> x_, cur_, q_, k_, v_, attn_, o_, gate_, up_, down_, cs_;
    std::vector<float> att_scratch_;
    std::size_t att_stride_ = 0;
    ActivationPack pack_;
};

CpuSession::CpuSession(const Model& model, const SessionOptions& options)
    : model_(model),
      options_(options),
      cfg_(model.config()),
      threads_(resolve_threads(options.threads)),
      embd_(cfg_.n_embd),
      qd_(model.q_dim()),
      kvd_(model.kv_dim()),
      ff_(cfg_.n_ff),
      hd_(cfg_.head_dim),
      shape_{cfg_.n_head, cfg_.n_head_kv, cfg_.head_dim, 1.0f / std::sqrt(static_cast<float>(cfg_.head_dim))},
      kv_(options.kv_type, cfg_.n_layers,
          options.max_context > 0 ? options.max_context : (cfg_.n_ctx > 0 ? cfg_.n_ctx : 4096), model.kv_dim()) {
    options_.threads = threads_;
    const MatmulPolicy p = options.matmul;
    for (const LayerWeights& L : model.layers()) {
        layers_.push_back({prepare_matrix(L.wq, p, dequant_store_), prepare_matrix(L.wk, p, dequant_store_),
                           prepare_matrix(L.wv, p, dequant_store_), prepare_matrix(L.wo, p, dequant_store_),
                           prepare_matrix(L.ffn_gate, p, dequant_store_), prepare_matrix(L.ffn_up, p, dequant_store_),
                           prepare_matrix(L.ffn_down, p, dequant_store_)});
    }
    output_ = prepare_matrix(model.output(), p, dequant_store_);
    att_stride_ = attention_scratch_floats(kv_.capacity(), cfg_.head_dim);
    att_scratch_.resize(att_stride_ * static_cast<std::size_t>(threads_));
    ensure_batch(1);
}

void CpuSession::ensure_batch(std::int64_t n) {
    if (n <= batch_cap_) return;
    auto grow = [n](std::vector<float>& v, std::int64_t width) { v.resize(static_cast<std::size_t>(n * width)); };
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
    grow(cs_, hd_);
    pack_.reserve(n, std::max({embd_, qd_, ff_}));
    batch_cap_ = n;
}

void CpuSession::norm_rows(const float* x, const std::vector<float>& w, float* y, std::int64_t row0,
                           std::int64_t row1) {
    for (std::int64_t t = row0; t < row1; ++t) rms_norm(x + t * embd_, w.data(), y + t * embd_, embd_, cfg_.rms_eps);
}

void CpuSession::attention(int il, std::int64_t n) {
    const std::int64_t n_items = n * shape_.n_head;
    const int chunks = static_cast<int>(std::min<std::int64_t>(threads_, n_items));
    run_chunks(chunks, [&](int c) {
        float* scratch = att_scratch_.data() + static_cast<std::size_t>(c) * att_stride_;
        const std::int64_t i1 = chunk_begin(n_items, chunks, c + 1);
        for (std::int64_t i = chunk_begin(n_items, chunks, c); i < i1;) {
            const std::int64_t t = i / shape_.n_head;
            const int h0 = static_cast<int>(i % shape_.n_head);
            const int h1 = static_cast<int>(std::min<std::int64_t>(shape_.n_head, h0 + (i1 - i)));
            attend(kv_, il, shape_, q_.data() + t * qd_, n_past_ + static_cast<int>(t), h0, h1, scratch,
                   attn_.data() + t * qd_);
            i += h1 - h0;
        }
    });
}

void CpuSession::layer(int il, std::int64_t n, TraceRecorder* trace) {
    const LayerWeights& L = model_.layers()[static_cast<std::size_t>(il)];
    const PreparedLayer& P = layers_[static_cast<std::size_t>(il)];
    // Injected faults change the activation before anything reads it (see FaultInjection).
    auto inject = [&](TraceSlot slot, std::vector<float>& buf, std::int64_t width) {
        for (const FaultInjection& f : options_.faults) {
            if (f.layer != il || f.slot != slot) continue;
            for (std::int64_t i = 0; i < n * width; ++i) buf[static_cast<std::size_t>(i)] *= f.scale;
        }
    };
    auto record = [&](TraceSlot slot, std::vector<float>& buf, std::int64_t width) {
        inject(slot, buf, width);
        if (trace != nullptr) trace->add(il, slot, buf.data(), n, width, width);
    };
    auto add_bias = [&](std::vector<float>& y, const std::vector<float>& b, std::int64_t width) {
        if (b.empty()) return;
        for (std::int64_t t = 0; t < n; ++t) add_inplace(y.data() + t * width, b.data(), width);
    };

    // Attention block.
    norm_rows(x_.data(), L.attn_norm, cur_.data(), 0, n);
    record(TraceSlot::AttnNorm, cur_, embd_);
    pack_.set(cur_.data(), n, embd_);
    matmul(P.wq, pack_, q_.data(), threads_);
    matmul(P.wk, pack_, k_.data(), threads_);
    matmul(P.wv, pack_, v_.data(), threads_);
    add_bias(q_, L.bq, qd_);
    add_bias(k_, L.bk, kvd_);
    add_bias(v_, L.bv, kvd_);
    inject(TraceSlot::Qkv, q_, qd_);
    inject(TraceSlot::Qkv, k_, kvd_);
    inject(TraceSlot::Qkv, v_, kvd_);
    if (trace != nullptr) {
        trace->add(il, TraceSlot::Qkv, q_.data(), n, qd_, qd_);
        trace->add(il, TraceSlot::Qkv, k_.data(), n, kvd_, kvd_);
        trace->add(il, TraceSlot::Qkv, v_.data(), n, kvd_, kvd_);
    }
    for (std::int64_t t = 0; t < n; ++t) {
        const float* cs = cs_.data() + t * hd_;
        rope(q_.data() + t * qd_, cfg_.n_head, cfg_.head_dim, cfg_.head_dim, cs, cfg_.rope);
        rope(k_.data() + t * kvd_, cfg_.n_head_kv, cfg_.head_dim, cfg_.head_dim, cs, cfg_.rope);
        kv_.store(il, n_past_ + static_cast<int>(t), k_.data() + t * kvd_, v_.data() + t * kvd_);
    }
    attention(il, n);
    pack_.set(attn_.data(), n, qd_);
    matmul(P.wo, pack_, o_.data(), threads_);
    record(TraceSlot::AttnOut, o_, embd_);
    add_inplace(x_.data(), o_.data(), n * embd_);

    // Feed-forward block.
    norm_rows(x_.data(), L.ffn_norm, cur_.data(), 0, n);
    record(TraceSlot::FfnNorm, cur_, embd_);
    pack_.set(cur_.data(), n, embd_);
    matmul(P.gate, pack_, gate_.data(), threads_);
    matmul(P.up, pack_, up_.data(), threads_);
    record(TraceSlot::FfnGate, gate_, ff_);
    record(TraceSlot::FfnUp, up_, ff_);
    const std::int64_t n_ff = n * ff_;
    const int chunks = static_cast<int>(std::min<std::int64_t>(threads_, std::max<std::int64_t>(1, n_ff / 4096)));
    run_chunks(chunks, [&](int c) {
        const std::int64_t b = chunk_begin(n_ff, chunks, c);
        const std::int64_t e = chunk_begin(n_ff, chunks, c + 1);
        silu(gate_.data() + b, gate_.data() + b, e - b);
    });
    record(TraceSlot::FfnSiluGate, gate_, ff_);
    mul_inplace(up_.data(), gate_.data(), n_ff);
    record(TraceSlot::FfnSwigluInner, up_, ff_);
    pack_.set(up_.data(), n, ff_);
    matmul(P.down, pack_, down_.data(), threads_);
    record(TraceSlot::FfnOut, down_, embd_);
    add_inplace(x_.data(), down_.data(), n * embd_);
    record(TraceSlot::Output, x_, embd_);
}

void CpuSession::evaluate(std::span<const std::int32_t> tokens, LogitsWanted which, std::span<float> logits,
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
    if (n_past_ + n > kv_.capacity()) {
        throw UsageError("KV cache full: " + std::to_string(n_past_) + " cached + " + std::to_string(n) +
                         " new tokens exceed the capacity of " + std::to_string(kv_.capacity()) +
                         " (SessionOptions::max_context)");
    }
    if (trace != nullptr && trace->n_layers() != cfg_.n_layers) {
        throw UsageError("evaluate: trace recorder has " + std::to_string(trace->n_layers()) + " layers, model has " +
                         std::to_string(cfg_.n_layers));
    }
    ensure_batch(n);

    const WeightMatrix& te = model_.token_embd();
    for (std::int64_t t = 0; t < n; ++t) {
        dequantize_row(te.type, te.row(tokens[static_cast<std::size_t>(t)]),
                       {x_.data() + t * embd_, static_cast<std::size_t>(embd_)});
        rope_cache(cs_.data() + t * hd_, n_past_ + t, cfg_.head_dim, cfg_.rope_base, model_.rope_freqs());
    }
    if (trace != nullptr) trace->add_embed(x_.data(), n, embd_);

    for (int il = 0; il < cfg_.n_layers; ++il) layer(il, n, trace);

    // Final norm: every row when they are all needed (all logits, or a trace of the whole
    // sample), else the last row only.
    const bool all_rows = which == LogitsWanted::All || trace != nullptr;
    if (all_rows) {
        norm_rows(x_.data(), model_.output_norm(), cur_.data(), 0, n);
        if (trace != nullptr) trace->add_final_norm(cur_.data(), n, embd_);
    } else if (which == LogitsWanted::Last) {
        norm_rows(x_.data(), model_.output_norm(), cur_.data(), n - 1, n);
    }
    if (which == LogitsWanted::All) {
        pack_.set(cur_.data(), n, embd_);
        matmul(output_, pack_, logits.data(), threads_);
    } else if (which == LogitsWanted::Last) {
        pack_.set(cur_.data() + (n - 1) * embd_, 1, embd_);
        matmul(output_, pack_, logits.data(), threads_);
    }
    n_past_ += static_cast<int>(n);
}

}  // namespace

int resolve_threads(int requested) noexcept {
    if (requested > 0) return requested;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

std::unique_ptr<Session> make_cpu_session(const Model& model, const SessionOptions& options) {
    return std::make_unique<CpuSession>(model, options);
}

}  // namespace parity::cpu
