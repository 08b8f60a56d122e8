// ModelFile: GGUF and APR behind one interface.

#include "engine/model/model_file.h"

#include <array>
#include <cstring>
#include <fstream>

#include "engine/error.h"
#include "engine/model/family.h"

namespace parity {

namespace {

RopeType rope_for_arch(const std::string& arch) {
    // The family table's rope type; NORM (llama.cpp's default) for an architecture it lacks,
    // which Model::load refuses anyway.
    const Family* f = find_family(arch);
    return f != nullptr ? f->rope : RopeType::Norm;
}

std::vector<ModelTensor> describe(const gguf::File& f) {
    std::vector<ModelTensor> out;
    for (const auto& t : f.tensors()) {
        out.push_back({t.name, t.type, std::string(type_name(t.type)), t.ne, t.offset, t.n_bytes});
    }
    return out;
}

std::vector<ModelTensor> describe(const apr::File& f) {
    std::vector<ModelTensor> out;
    for (const auto& t : f.tensors()) {
        out.push_back({t.name, t.ggml_type(), std::string(apr::dtype_name(t.dtype)), t.ne, t.offset, t.size});
    }
    return out;
}

std::vector<std::string> string_array(const gguf::File& f, const std::string& key, bool required) {
    std::vector<std::string> out;
    const gguf::Value* v = f.find(key);
    if (v == nullptr) {
        if (required) throw FormatError(f.path(), 0, "metadata key '" + key + "' is missing");
        return out;
    }
    const gguf::Array* a = v->as_array();
    if (a == nullptr || a->type != gguf::ValueType::STRING) {
        throw FormatError(f.path(), 0, "metadata key '" + key + "' is not an array of strings");
    }
    out.reserve(a->items.size());
    for (const auto& item : a->items) out.push_back(*item.as_string());
    return out;
}

ModelConfig gguf_config(const gguf::File& f) {
    ModelConfig c;
    c.arch = f.get_string("general.architecture");
    const std::string k = c.arch + ".";
    auto opt_int = [&](const std::string& key, std::int64_t fallback) {
        return f.find(key) != nullptr ? f.get_int(key) : fallback;
    };
    auto opt_num = [&](const std::string& key, double fallback) {
        return f.find(key) != nullptr ? f.get_number(key) : fallback;
    };
    c.n_layers = static_cast<int>(f.get_int(k + "block_count"));
    c.n_embd = static_cast<int>(f.get_int(k + "embedding_length"));
    c.n_ff = static_cast<int>(f.get_int(k + "feed_forward_length"));
    c.n_head = static_cast<int>(f.get_int(k + "attention.head_count"));
    c.n_head_kv = static_cast<int>(opt_int(k + "attention.head_count_kv", c.n_head));
    if (c.n_head <= 0 || c.n_embd % c.n_head != 0) {
        throw FormatError(f.path(), 0, "attention.head_count " + std::to_string(c.n_head) + " does not divide " +
                                           "embedding_length " + std::to_string(c.n_embd));
    }
    c.head_dim = static_cast<int>(opt_int(k + "attention.key_length", c.n_embd / c.n_head));
    c.n_ctx = static_cast<int>(opt_int(k + "context_length", 0));
    c.rope_base = static_cast<float>(opt_num(k + "rope.freq_base", 10000.0));
    c.rms_eps = static_cast<float>(opt_num(k + "attention.layer_norm_rms_epsilon", 1e-5));
    c.rope = rope_for_arch(c.arch);
    c.tied = f.find_tensor("output.weight") == nullptr;
    c.n_expert = static_cast<int>(opt_int(k + "expert_count", 0));
    c.n_expert_used = static_cast<int>(opt_int(k + "expert_used_count", 0));
    c.n_ff_expert = static_cast<int>(opt_int(k + "expert_feed_forward_length", 0));
    c.sliding_window = static_cast<int>(opt_int(k + "attention.sliding_window", 0));
    c.sliding_window_pattern = static_cast<int>(opt_int(k + "attention.sliding_window_pattern", 0));
    c.rope_base_local = static_cast<float>(opt_num(k + "rope.freq_base_swa", 0.0));
    // Rope scaling as llama.cpp reads it: the factor (under either key name) divides every
    // frequency, with no type or with type none or linear; other types are refused by
    // Model::load (understood.h).
    const gguf::Value* scaling = f.find(k + "rope.scaling.type");
    const std::string* type = scaling != nullptr ? scaling->as_string() : nullptr;
    if (type == nullptr || *type == "none" || *type == "linear") {
        const double factor = opt_num(k + "rope.scaling.factor", opt_num(k + "rope.scale_linear", 0.0));
        if (factor > 0.0) c.rope_freq_scale = static_cast<float>(1.0 / factor);
    }
    if (f.find(k + "vocab_size") != nullptr) {
        c.n_vocab = static_cast<int>(f.get_int(k + "vocab_size"));
    } else if (const auto* emb = f.find_tensor("token_embd.weight"); emb != nullptr && emb->ne.size() == 2) {
        c.n_vocab = static_cast<int>(emb->ne[1]);
    } else {
        c.n_vocab = static_cast<int>(string_array(f, "tokenizer.ggml.tokens", true).size());
    }
    return c;
}

ModelConfig apr_config(const apr::File& f) {
    const apr::Architecture a = f.architecture();
    auto need = [&](const std::optional<std::int64_t>& v, const char* key) {
        if (!v) throw FormatError(f.path(), f.metadata_offset(), "metadata key '" + std::string(key) + "' is missing");
        return static_cast<int>(*v);
    };
    ModelConfig c;
    c.arch = a.architecture.value_or(a.model_type.value_or(""));
    if (c.arch.empty()) throw FormatError(f.path(), f.metadata_offset(), "metadata has no 'architecture' or 'model_type'");
    c.n_layers = need(a.num_layers, "num_layers");
    c.n_embd = need(a.hidden_size, "hidden_size");
    c.n_ff = need(a.intermediate_size, "intermediate_size");
    c.n_head = need(a.num_heads, "num_heads");
    c.n_head_kv = a.num_kv_heads ? static_cast<int>(*a.num_kv_heads) : c.n_head;
    if (c.n_head <= 0 || c.n_embd % c.n_head != 0) {
        throw FormatError(f.path(), f.metadata_offset(), "num_heads does not divide hidden_size");
    }
    c.head_dim = a.head_dim ? static_cast<int>(*a.head_dim) : c.n_embd / c.n_head;
    c.n_vocab = need(a.vocab_size, "vocab_size");
    c.n_ctx = a.max_position_embeddings ? static_cast<int>(*a.max_position_embeddings) : 0;
    c.rope_base = static_cast<float>(a.rope_theta.value_or(10000.0));
    c.rms_eps = static_cast<float>(a.rms_norm_eps.value_or(1e-5));
    c.rope = a.rope_type ? (*a.rope_type == 2 ? RopeType::Neox : RopeType::Norm) : rope_for_arch(c.arch);
    c.tied = a.tied_embeddings.value_or(f.find_tensor("output.weight") == nullptr);
    auto opt = [](const std::optional<std::int64_t>& v) { return v ? static_cast<int>(*v) : 0; };
    c.n_expert = opt(a.num_experts);
    c.n_expert_used = opt(a.num_experts_per_tok);
    c.n_ff_expert = opt(a.moe_intermediate_size);
    c.sliding_window = opt(a.sliding_window);
    c.sliding_window_pattern = opt(a.sliding_window_pattern);
    c.rope_base_local = static_cast<float>(a.rope_local_base_freq.value_or(0.0));
    // Linear rope scaling as Hugging Face's config.json states it; Model::load refuses other
    // types (engine/src/model/understood.cpp).
    if (a.rope_scaling_type == "linear" && a.rope_scaling_factor && *a.rope_scaling_factor > 0.0) {
        c.rope_freq_scale = static_cast<float>(1.0 / *a.rope_scaling_factor);
    }
    return c;
}

std::optional<bool> optional_bool(const gguf::File& f, const std::string& key) {
    const gguf::Value* v = f.find(key);
    if (v == nullptr) return std::nullopt;
    const bool* b = std::get_if<bool>(&v->v);
    if (b == nullptr) throw FormatError(f.path(), 0, "metadata key '" + key + "' is not a bool");
    return *b;
}

TokenizerData gguf_tokenizer(const gguf::File& f) {
    TokenizerData t;
    t.model = f.get_string("tokenizer.ggml.model");
    if (f.find("tokenizer.ggml.pre") != nullptr) t.pre = f.get_string("tokenizer.ggml.pre");
    t.tokens = string_array(f, "tokenizer.ggml.tokens", true);
    t.merges = string_array(f, "tokenizer.ggml.merges", false);
    if (const gguf::Value* v = f.find("tokenizer.ggml.token_type")) {
        const gguf::Array* a = v->as_array();
        if (a == nullptr) throw FormatError(f.path(), 0, "metadata key 'tokenizer.ggml.token_type' is not an array");
        for (const auto& item : a->items) {
            const auto i = item.as_int();
            if (!i) throw FormatError(f.path(), 0, "tokenizer.ggml.token_type holds a non-integer");
            t.token_types.push_back(static_cast<std::int32_t>(*i));
        }
    }
    if (f.find("tokenizer.ggml.bos_token_id") != nullptr) t.bos = f.get_int("tokenizer.ggml.bos_token_id");
    if (f.find("tokenizer.ggml.eos_token_id") != nullptr) t.eos = f.get_int("tokenizer.ggml.eos_token_id");
    if (f.find("tokenizer.ggml.padding_token_id") != nullptr) t.padding = f.get_int("tokenizer.ggml.padding_token_id");
    if (const auto b = optional_bool(f, "tokenizer.ggml.add_bos_token")) t.add_bos = *b;
    if (const auto b = optional_bool(f, "tokenizer.ggml.add_eos_token")) t.add_eos = *b;
    t.add_space_prefix = optional_bool(f, "tokenizer.ggml.add_space_prefix");
    if (f.find("tokenizer.ggml.unknown_token_id") != nullptr) t.unk = f.get_int("tokenizer.ggml.unknown_token_id");
    if (const gguf::Value* v = f.find("tokenizer.ggml.scores")) {
        const gguf::Array* a = v->as_array();
        if (a == nullptr) throw FormatError(f.path(), 0, "metadata key 'tokenizer.ggml.scores' is not an array");
        t.scores.reserve(a->items.size());
        for (const auto& item : a->items) {
            const auto x = item.as_number();
            if (!x) throw FormatError(f.path(), 0, "tokenizer.ggml.scores holds a non-number");
            t.scores.push_back(static_cast<float>(*x));
        }
    }
    if (f.find("general.name") != nullptr) t.name = f.get_string("general.name");
    return t;
}

TokenizerData apr_tokenizer(const apr::File& f) {
    const apr::Tokenizer a = f.tokenizer();
    if (!a.present) throw FormatError(f.path(), f.metadata_offset(), "metadata has no tokenizer");
    TokenizerData t;
    t.model = a.model.value_or("gpt2");
    t.pre = a.pre.value_or("");
    t.tokens = a.tokens;
    t.merges = a.merges;
    t.token_types = a.token_type;
    t.bos = a.bos_token_id.value_or(-1);
    t.eos = a.eos_token_id.value_or(-1);
    if (const auto* tok = f.find("tokenizer"); tok != nullptr && tok->is_object()) {
        if (const auto it = tok->find("padding_token_id"); it != tok->end() && it->is_number_integer()) {
            t.padding = it->get<std::int64_t>();
        }
        if (const auto it = tok->find("add_bos_token"); it != tok->end() && !it->is_null()) {
            if (!it->is_boolean()) {
                throw FormatError(f.path(), f.metadata_offset(), "metadata key 'tokenizer.add_bos_token' is not a bool");
            }
            t.add_bos = it->get<bool>();
        }
        const auto flag = [&](const char* key) -> std::optional<bool> {
            const auto it = tok->find(key);
            if (it == tok->end() || it->is_null()) return std::nullopt;
            if (!it->is_boolean()) {
                throw FormatError(f.path(), f.metadata_offset(), std::string("metadata key 'tokenizer.") + key + "' is not a bool");
            }
            return it->get<bool>();
        };
        t.add_eos = flag("add_eos_token").value_or(false);
        t.add_space_prefix = flag("add_space_prefix");
        if (const auto it = tok->find("unknown_token_id"); it != tok->end() && it->is_number_integer()) {
            t.unk = it->get<std::int64_t>();
        }
        if (const auto it = tok->find("scores"); it != tok->end() && !it->is_null()) {
            if (!it->is_array()) {
                throw FormatError(f.path(), f.metadata_offset(), "metadata key 'tokenizer.scores' is not an array");
            }
            for (const auto& s : *it) {
                if (!s.is_number()) {
                    throw FormatError(f.path(), f.metadata_offset(), "metadata key 'tokenizer.scores' holds a non-number");
                }
                t.scores.push_back(s.get<float>());
            }
            if (t.scores.size() != t.tokens.size()) {
                throw FormatError(f.path(), f.metadata_offset(),
                                  "tokenizer.scores has " + std::to_string(t.scores.size()) + " entries for " +
                                      std::to_string(t.tokens.size()) + " tokens");
            }
        }
    }
    return t;
}

}  // namespace

std::string_view format_name(ModelFormat f) noexcept { return f == ModelFormat::Gguf ? "gguf" : "apr"; }

std::int64_t ModelTensor::n_elements() const noexcept {
    std::int64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
}

ModelFormat detect_format(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path, "cannot open");
    std::array<char, 4> magic{};
    in.read(magic.data(), magic.size());
    if (in.gcount() == 4 && std::memcmp(magic.data(), "GGUF", 4) == 0) return ModelFormat::Gguf;
    if (in.gcount() == 4 && std::memcmp(magic.data(), "APR\0", 4) == 0) return ModelFormat::Apr;
    throw FormatError(path, 0, "unknown model format: the file starts with neither \"GGUF\" nor \"APR\\0\"");
}

ModelFile::ModelFile(std::variant<gguf::File, apr::File> file) : file_(std::move(file)) {
    tensors_ = std::visit([](const auto& f) { return describe(f); }, file_);
}

ModelFile ModelFile::open(const std::string& path) {
    if (detect_format(path) == ModelFormat::Gguf) return ModelFile(gguf::File::open(path));
    return ModelFile(apr::File::open(path));
}

ModelFormat ModelFile::format() const noexcept { return gguf() != nullptr ? ModelFormat::Gguf : ModelFormat::Apr; }

const std::string& ModelFile::path() const noexcept {
    return std::visit([](const auto& f) -> const std::string& { return f.path(); }, file_);
}

const ModelTensor* ModelFile::find_tensor(std::string_view name) const noexcept {
    for (const auto& t : tensors_) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

const ModelTensor& ModelFile::tensor(std::string_view name) const {
    const ModelTensor* t = find_tensor(name);
    if (t == nullptr) throw UsageError(path() + ": no tensor named '" + std::string(name) + "'");
    return *t;
}

std::span<const std::byte> ModelFile::tensor_data(const ModelTensor& t) const {
    return std::visit([&](const auto& f) { return f.tensor_data(f.tensor(t.name)); }, file_);
}

std::vector<float> ModelFile::dequantize(const ModelTensor& t) const {
    return std::visit([&](const auto& f) { return f.dequantize(f.tensor(t.name)); }, file_);
}

ModelConfig ModelFile::config() const {
    if (const auto* g = gguf()) return gguf_config(*g);
    return apr_config(*apr());
}

TokenizerData ModelFile::tokenizer() const {
    if (const auto* g = gguf()) return gguf_tokenizer(*g);
    return apr_tokenizer(*apr());
}

}  // namespace parity
