// Model: architecture check and weight views of a GGUF or APR file.

#include "engine/model/model.h"

#include <algorithm>
#include <cmath>

#include "engine/quant/dot_type.h"
#include "engine/error.h"
#include "engine/quant/quant.h"
#include "understood.h"

namespace parity {

namespace {

std::string shape_text(const std::vector<std::int64_t>& ne) {
    std::string s = "[";
    for (std::size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

}  // namespace

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

const std::vector<std::string>& Model::supported_architectures() {
    static const std::vector<std::string> archs = [] {
        std::vector<std::string> v;
        for (const Family& f : families()) v.emplace_back(f.arch);
        return v;
    }();
    return archs;
}

WeightMatrix Model::rows_of(const WeightMatrix& w, std::int64_t row0, std::int64_t n_out, const std::string& name) {
    WeightMatrix v = w;
    v.name = name;
    v.n_out = n_out;
    v.data = w.data.subspan(static_cast<std::size_t>(row0) * w.row_bytes(), static_cast<std::size_t>(n_out) * w.row_bytes());
    return v;
}

std::vector<WeightMatrix> Model::experts(const std::string& name, std::int64_t n_in, std::int64_t n_out, int n_expert) {
    const ModelTensor* t = file_->find_tensor(name);
    if (t == nullptr) {
        throw UsageError(path() + ": tensor '" + name + "' is missing (required by the " + config_.arch + " graph)");
    }
    if (t->ne.size() != 3 || t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != n_expert) {
        throw UsageError(path() + ": tensor '" + name + "' has shape " + shape_text(t->ne) + ", expected [" +
                         std::to_string(n_in) + ", " + std::to_string(n_out) + ", " + std::to_string(n_expert) + "]");
    }
    // The stack as one [n_in, n_out * n_expert] matrix, then each expert's rows as a view.
    ModelTensor flat = *t;
    flat.ne = {n_in, n_out * n_expert};
    const WeightMatrix all = matrix_of(flat, n_in, n_out * n_expert);
    std::vector<WeightMatrix> out;
    for (int e = 0; e < n_expert; ++e) out.push_back(rows_of(all, e * n_out, n_out, name + "[" + std::to_string(e) + "]"));
    return out;
}

WeightMatrix Model::matrix(const std::string& name, std::int64_t n_in, std::int64_t n_out) {
    const ModelTensor* t = file_->find_tensor(name);
    if (t == nullptr) {
        throw UsageError(path() + ": tensor '" + name + "' is missing (required by the " + config_.arch + " graph)");
    }
    if (t->ne.size() != 2 || t->ne[0] != n_in || t->ne[1] != n_out) {
        throw UsageError(path() + ": tensor '" + name + "' has shape " + shape_text(t->ne) + ", expected [" +
                         std::to_string(n_in) + ", " + std::to_string(n_out) + "]");
    }
    return matrix_of(*t, n_in, n_out);
}

WeightMatrix Model::matrix_of(const ModelTensor& t0, std::int64_t n_in, std::int64_t n_out) {
    const ModelTensor* t = &t0;
    const std::string& name = t->name;
    read_.push_back(name);
    WeightMatrix w;
    w.name = name;
    w.n_in = n_in;
    w.n_out = n_out;
    if (t->type && dot_type(*t->type)) {
        w.type = *t->type;
        w.data = file_->tensor_data(*t);
        if (w.data.size() != w.row_bytes() * static_cast<std::size_t>(n_out)) {
            throw UsageError(path() + ": tensor '" + name + "' holds " + std::to_string(w.data.size()) +
                             " bytes, expected " + std::to_string(w.row_bytes() * static_cast<std::size_t>(n_out)));
        }
        return w;
    }
    // An encoding without a dot product (APR AprQ4/AprQ8, IQ2.. types): f32 at load.
    if (t->type && !can_dequantize(*t->type)) {
        throw UsageError(path() + ": tensor '" + name + "' has type " + t->type_name +
                         ", which the engine can neither multiply nor dequantize");
    }
    converted_.push_back(file_->dequantize(*file_->find_tensor(name)));
    const auto& values = converted_.back();
    w.type = GgmlType::F32;
    w.data = std::as_bytes(std::span<const float>(values));
    return w;
}

std::vector<float> Model::vector(const std::string& name, std::int64_t n, bool required) {
    const ModelTensor* t = file_->find_tensor(name);
    if (t == nullptr) {
        if (!required) return {};
        throw UsageError(path() + ": tensor '" + name + "' is missing (required by the " + config_.arch + " graph)");
    }
    if (t->n_elements() != n || t->ne.empty() || t->ne[0] != n) {
        throw UsageError(path() + ": tensor '" + name + "' has shape " + shape_text(t->ne) + ", expected [" +
                         std::to_string(n) + "]");
    }
    read_.push_back(name);
    return file_->dequantize(*t);
}

Model Model::load(const std::string& path) {
    Model m;
    m.file_ = std::make_unique<ModelFile>(ModelFile::open(path));
    auto check_arch = [&](const std::string& arch) {
        m.family_ = find_family(arch);
        if (m.family_ == nullptr) {
            throw UsageError(path + ": architecture '" + arch + "' is not supported (supported: " + family_names() + ")");
        }
    };
    // The architecture first, so an unsupported model is named as such rather than by the
    // first hyper-parameter key it lacks.
    if (const gguf::File* g = m.file_->gguf()) check_arch(g->get_string("general.architecture"));
    m.config_ = m.file_->config();
    ModelConfig& c = m.config_;
    check_arch(c.arch);
    const Family& fam = *m.family_;
    auto bad = [&](const std::string& what) { throw UsageError(path + ": " + what); };
    if (c.n_layers < 1) bad("block_count must be >= 1");
    if (c.n_embd < 1 || c.n_ff < 1) bad("embedding_length and feed_forward_length must be >= 1");
    // No weight may be empty: an empty token_embd / output would make every logit row empty.
    if (c.n_vocab < 1) bad("vocabulary size " + std::to_string(c.n_vocab) + " must be >= 1");
    if (c.n_head < 1 || c.n_head_kv < 1 || c.n_head % c.n_head_kv != 0) {
        bad("head_count_kv (" + std::to_string(c.n_head_kv) + ") must divide head_count (" + std::to_string(c.n_head) +
            ")");
    }
    if (c.head_dim < 2 || c.head_dim % 2 != 0) bad("head dimension " + std::to_string(c.head_dim) + " must be even");
    if (const gguf::File* g = m.file_->gguf()) {
        const std::string key = c.arch + ".rope.dimension_count";
        if (g->find(key) != nullptr && g->get_int(key) != c.head_dim) {
            bad(key + " = " + std::to_string(g->get_int(key)) + " differs from the head dimension " +
                std::to_string(c.head_dim) + " (partial rotary embeddings are not supported)");
        }
    }
    const bool moe = fam.ffn == FfnKind::MoeSwiGlu;
    if (moe && (c.n_expert < 1 || c.n_expert_used < 1 || c.n_expert_used > c.n_expert || c.n_ff_expert < 1)) {
        bad("expert_count " + std::to_string(c.n_expert) + ", expert_used_count " + std::to_string(c.n_expert_used) +
            " and expert_feed_forward_length " + std::to_string(c.n_ff_expert) +
            " must satisfy 1 <= used <= count and a positive length");
    }

    const std::int64_t embd = c.n_embd;
    const std::int64_t qd = m.q_dim();
    const std::int64_t kvd = m.kv_dim();
    const std::int64_t ff = c.n_ff;

    m.token_embd_ = m.matrix("token_embd.weight", embd, c.n_vocab);
    m.output_norm_ = m.vector("output_norm.weight", embd, true);
    if (!c.tied) m.output_ = m.matrix("output.weight", embd, c.n_vocab);

    m.layers_.resize(static_cast<std::size_t>(c.n_layers));
    for (int i = 0; i < c.n_layers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerWeights& L = m.layers_[static_cast<std::size_t>(i)];
        L.attn_norm = m.vector(p + "attn_norm.weight", embd, true);
        if (fam.fused_qkv) {
            const WeightMatrix qkv = m.matrix(p + "attn_qkv.weight", embd, qd + 2 * kvd);
            L.wq = rows_of(qkv, 0, qd, qkv.name + "[q]");
            L.wk = rows_of(qkv, qd, kvd, qkv.name + "[k]");
            L.wv = rows_of(qkv, qd + kvd, kvd, qkv.name + "[v]");
        } else {
            L.wq = m.matrix(p + "attn_q.weight", embd, qd);
            L.wk = m.matrix(p + "attn_k.weight", embd, kvd);
            L.wv = m.matrix(p + "attn_v.weight", embd, kvd);
        }
        if (fam.qkv_bias) {
            L.bq = m.vector(p + "attn_q.bias", qd, false);
            L.bk = m.vector(p + "attn_k.bias", kvd, false);
            L.bv = m.vector(p + "attn_v.bias", kvd, false);
        }
        if (fam.qk_norm) {
            L.q_norm = m.vector(p + "attn_q_norm.weight", c.head_dim, true);
            L.k_norm = m.vector(p + "attn_k_norm.weight", c.head_dim, true);
        }
        L.wo = m.matrix(p + "attn_output.weight", qd, embd);
        L.ffn_norm = m.vector(p + "ffn_norm.weight", embd, true);
        if (fam.post_norms) {
            L.post_attn_norm = m.vector(p + "post_attention_norm.weight", embd, true);
            L.post_ffn_norm = m.vector(p + "post_ffw_norm.weight", embd, true);
        }
        if (moe) {
            L.router = m.matrix(p + "ffn_gate_inp.weight", embd, c.n_expert);
            L.exp_gate = m.experts(p + "ffn_gate_exps.weight", embd, c.n_ff_expert, c.n_expert);
            L.exp_up = m.experts(p + "ffn_up_exps.weight", embd, c.n_ff_expert, c.n_expert);
            L.exp_down = m.experts(p + "ffn_down_exps.weight", c.n_ff_expert, embd, c.n_expert);
        } else if (fam.fused_gate_up) {
            const WeightMatrix gu = m.matrix(p + "ffn_up.weight", embd, 2 * ff);
            L.ffn_gate = rows_of(gu, 0, ff, gu.name + "[gate]");
            L.ffn_up = rows_of(gu, ff, ff, gu.name + "[up]");
            L.ffn_down = m.matrix(p + "ffn_down.weight", ff, embd);
        } else {
            L.ffn_gate = m.matrix(p + "ffn_gate.weight", embd, ff);
            L.ffn_up = m.matrix(p + "ffn_up.weight", embd, ff);
            L.ffn_down = m.matrix(p + "ffn_down.weight", ff, embd);
        }
    }
    // Llama 3.1's rope scaling: per-pair frequency divisors (llama.cpp reads them for llama only).
    if (fam.rope_freqs) m.rope_freqs_ = m.vector("rope_freqs.weight", c.head_dim / 2, false);
    m.plan_layers();
    model_detail::refuse_what_is_not_understood(*m.file_, c, fam, m.read_);
    return m;
}

void Model::plan_layers() {
    const ModelConfig& c = config_;
    rope_tables_ = {RopeSpec{c.rope_base, c.rope_freq_scale}};
    plans_.assign(static_cast<std::size_t>(c.n_layers), LayerPlan{});
    attention_scale_ = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    if (family_->local_layers) {
        // gemma3 (llama.cpp): every pattern-th layer is global (default pattern 6); the others
        // attend to the last sliding_window positions with rope base freq_base_swa (default 1e4)
        // and no linear scaling. Gemma 3 27B (62 layers) scales by n_embd / n_head instead.
        if (c.sliding_window < 1) {
            throw UsageError(path() + ": " + c.arch + ".attention.sliding_window is missing or < 1");
        }
        const int pattern = c.sliding_window_pattern > 0 ? c.sliding_window_pattern : 6;
        rope_tables_.push_back(RopeSpec{c.rope_base_local > 0.0f ? c.rope_base_local : 10000.0f, 1.0f});
        for (int il = 0; il < c.n_layers; ++il) {
            if (il % pattern < pattern - 1) plans_[static_cast<std::size_t>(il)] = LayerPlan{c.sliding_window, 1};
        }
        if (c.n_layers == 62) attention_scale_ = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
    }
}

}  // namespace parity
