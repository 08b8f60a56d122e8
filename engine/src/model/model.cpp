// Model: architecture check and weight views of a GGUF or APR file.

#include "engine/model/model.h"

#include <algorithm>

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
    static const std::vector<std::string> archs = {"qwen2", "llama"};
    return archs;
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
    converted_.push_back(file_->dequantize(*t));
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
    const auto& archs = supported_architectures();
    auto check_arch = [&](const std::string& arch) {
        if (std::find(archs.begin(), archs.end(), arch) == archs.end()) {
            throw UsageError(path + ": architecture '" + arch + "' is not supported (supported: qwen2, llama)");
        }
    };
    // The architecture first, so an unsupported model is named as such rather than by the
    // first hyper-parameter key it lacks.
    if (const gguf::File* g = m.file_->gguf()) check_arch(g->get_string("general.architecture"));
    m.config_ = m.file_->config();
    ModelConfig& c = m.config_;
    check_arch(c.arch);
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
        L.wq = m.matrix(p + "attn_q.weight", embd, qd);
        L.wk = m.matrix(p + "attn_k.weight", embd, kvd);
        L.wv = m.matrix(p + "attn_v.weight", embd, kvd);
        L.bq = m.vector(p + "attn_q.bias", qd, false);
        L.bk = m.vector(p + "attn_k.bias", kvd, false);
        L.bv = m.vector(p + "attn_v.bias", kvd, false);
        L.wo = m.matrix(p + "attn_output.weight", qd, embd);
        L.ffn_norm = m.vector(p + "ffn_norm.weight", embd, true);
        L.ffn_gate = m.matrix(p + "ffn_gate.weight", embd, ff);
        L.ffn_up = m.matrix(p + "ffn_up.weight", embd, ff);
        L.ffn_down = m.matrix(p + "ffn_down.weight", ff, embd);
    }
    // Llama 3.1's rope scaling: per-pair frequency divisors (llama.cpp reads them for llama only).
    if (c.arch == "llama") m.rope_freqs_ = m.vector("rope_freqs.weight", c.head_dim / 2, false);
    model_detail::refuse_what_is_not_understood(*m.file_, c, m.read_);
    return m;
}

}  // namespace parity
