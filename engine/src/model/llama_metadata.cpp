#include "engine/model/llama_metadata.h"

#include <charconv>
#include <cstdlib>

namespace parity {

namespace {

// The shortest decimal that reads back as this f32, as a double (1e-06, not
// 9.999999974752427e-07): JSON then holds the number a person would write.
double f32_as_written(float x) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, x);
    return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
}

// Architectures whose Hugging Face config states head_dim: llama.cpp's converter then writes
// attention.key_length and value_length even when they equal n_embd / n_head.
bool states_head_dim(const std::string& arch) {
    return arch == "qwen3" || arch == "qwen3moe" || arch == "gemma3";
}

gguf::Array string_array(const std::vector<std::string>& items) {
    gguf::Array a{gguf::ValueType::STRING, {}};
    a.items.reserve(items.size());
    for (const auto& s : items) a.items.emplace_back(s);
    return a;
}

}  // namespace

std::vector<gguf::MetadataEntry> llama_gguf_metadata(const ModelConfig& c, const TokenizerData& t,
                                                     const std::string& name, FileType file_type) {
    using gguf::Value;
    const std::string a = c.arch + ".";
    auto u32 = [](std::int64_t x) { return Value(static_cast<std::uint32_t>(x)); };
    std::vector<gguf::MetadataEntry> m = {
        {"general.architecture", Value(c.arch)},
        {"general.name", Value(name)},
        {a + "block_count", u32(c.n_layers)},
        {a + "context_length", u32(c.n_ctx)},
        {a + "embedding_length", u32(c.n_embd)},
        {a + "feed_forward_length", u32(c.n_ff)},
        {a + "attention.head_count", u32(c.n_head)},
        {a + "attention.head_count_kv", u32(c.n_head_kv)},
        {a + "rope.freq_base", Value(c.rope_base)},
        {a + "attention.layer_norm_rms_epsilon", Value(c.rms_eps)},
    };
    if (c.arch == "llama" || c.arch == "phi3") m.push_back({a + "rope.dimension_count", u32(c.head_dim)});
    if (c.arch == "llama") m.push_back({a + "vocab_size", u32(c.n_vocab)});
    if (c.head_dim != c.n_embd / c.n_head || states_head_dim(c.arch)) {
        m.push_back({a + "attention.key_length", u32(c.head_dim)});
        m.push_back({a + "attention.value_length", u32(c.head_dim)});
    }
    if (c.n_expert > 0) {
        m.push_back({a + "expert_count", u32(c.n_expert)});
        m.push_back({a + "expert_used_count", u32(c.n_expert_used)});
        m.push_back({a + "expert_feed_forward_length", u32(c.n_ff_expert)});
    }
    if (c.sliding_window > 0) m.push_back({a + "attention.sliding_window", u32(c.sliding_window)});
    if (c.sliding_window_pattern > 0) {
        m.push_back({a + "attention.sliding_window_pattern", u32(c.sliding_window_pattern)});
    }
    if (c.rope_base_local > 0.0f) m.push_back({a + "rope.freq_base_swa", Value(c.rope_base_local)});
    if (c.rope_freq_scale != 1.0f) {
        m.push_back({a + "rope.scaling.type", Value(std::string("linear"))});
        m.push_back({a + "rope.scaling.factor", Value(1.0f / c.rope_freq_scale)});
    }
    m.push_back({"general.file_type", Value(static_cast<std::uint32_t>(file_type))});
    if (traits(default_weight_type(file_type)).block_size > 1) {
        m.push_back({"general.quantization_version", Value(std::uint32_t{2})});
    }

    gguf::Array types{gguf::ValueType::I32, {}};
    types.items.reserve(t.token_types.size());
    for (auto x : t.token_types) types.items.emplace_back(x);
    m.push_back({"tokenizer.ggml.model", Value(t.model)});
    if (!t.pre.empty()) m.push_back({"tokenizer.ggml.pre", Value(t.pre)});
    m.push_back({"tokenizer.ggml.tokens", Value(string_array(t.tokens))});
    if (!t.token_types.empty()) m.push_back({"tokenizer.ggml.token_type", Value(std::move(types))});
    if (!t.merges.empty()) m.push_back({"tokenizer.ggml.merges", Value(string_array(t.merges))});
    if (!t.scores.empty()) {
        gguf::Array scores{gguf::ValueType::F32, {}};
        scores.items.reserve(t.scores.size());
        for (const float s : t.scores) scores.items.emplace_back(s);
        m.push_back({"tokenizer.ggml.scores", Value(std::move(scores))});
    }
    if (t.unk >= 0) m.push_back({"tokenizer.ggml.unknown_token_id", u32(t.unk)});
    if (t.bos >= 0) m.push_back({"tokenizer.ggml.bos_token_id", u32(t.bos)});
    if (t.eos >= 0) m.push_back({"tokenizer.ggml.eos_token_id", u32(t.eos)});
    if (t.padding >= 0) m.push_back({"tokenizer.ggml.padding_token_id", u32(t.padding)});
    m.push_back({"tokenizer.ggml.add_bos_token", Value(t.add_bos)});
    if (t.add_eos) m.push_back({"tokenizer.ggml.add_eos_token", Value(true)});
    if (t.add_space_prefix) m.push_back({"tokenizer.ggml.add_space_prefix", Value(*t.add_space_prefix)});
    return m;
}

apr::Json llama_apr_metadata(const ModelConfig& c, const TokenizerData& t, const AprProvenance& p) {
    apr::Json j = apr::Json::object();
    j["model_type"] = c.arch;
    j["name"] = p.name;
    j["architecture"] = c.arch;
    j["hidden_size"] = c.n_embd;
    j["num_layers"] = c.n_layers;
    j["num_heads"] = c.n_head;
    j["num_kv_heads"] = c.n_head_kv;
    j["vocab_size"] = c.n_vocab;
    j["intermediate_size"] = c.n_ff;
    j["max_position_embeddings"] = c.n_ctx;
    if (c.head_dim != c.n_embd / c.n_head || states_head_dim(c.arch)) j["head_dim"] = c.head_dim;
    j["rope_theta"] = f32_as_written(c.rope_base);
    j["rope_type"] = static_cast<int>(c.rope);
    j["rms_norm_eps"] = f32_as_written(c.rms_eps);
    if (c.tied) j["tied_embeddings"] = true;
    // Family hyper-parameters, each only where the family has it: aprender's names for the
    // experts, Hugging Face config.json's for the sliding window and rope scaling.
    if (c.n_expert > 0) {
        j["num_experts"] = c.n_expert;
        j["num_experts_per_tok"] = c.n_expert_used;
        j["moe_intermediate_size"] = c.n_ff_expert;
    }
    if (c.sliding_window > 0) j["sliding_window"] = c.sliding_window;
    if (c.sliding_window_pattern > 0) j["sliding_window_pattern"] = c.sliding_window_pattern;
    if (c.rope_base_local > 0.0f) j["rope_local_base_freq"] = f32_as_written(c.rope_base_local);
    if (c.rope_freq_scale != 1.0f) {
        j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", f32_as_written(1.0f / c.rope_freq_scale)}};
    }
    j["original_format"] = p.original_format;
    if (!p.source.empty()) j["source"] = p.source;
    j["quantization"] = p.quantization ? apr::Json(*p.quantization) : apr::Json(nullptr);
    j["param_count"] = p.param_count;

    apr::Json tok = apr::Json::object();
    tok["model"] = t.model;
    tok["pre"] = t.pre;
    tok["tokens"] = t.tokens;
    tok["merges"] = t.merges;
    tok["token_type"] = t.token_types;
    tok["bos_token_id"] = t.bos >= 0 ? apr::Json(t.bos) : apr::Json(nullptr);
    tok["eos_token_id"] = t.eos >= 0 ? apr::Json(t.eos) : apr::Json(nullptr);
    if (t.padding >= 0) tok["padding_token_id"] = t.padding;
    tok["add_bos_token"] = t.add_bos;
    // SentencePiece vocabularies (tokenizer model "llama"): what the tokenizer needs besides
    // the tokens, as the GGUF keys of the same names carry it.
    if (!t.scores.empty()) {
        apr::Json scores = apr::Json::array();
        for (const float s : t.scores) scores.push_back(f32_as_written(s));
        tok["scores"] = std::move(scores);
    }
    if (t.unk >= 0) tok["unknown_token_id"] = t.unk;
    if (t.add_eos) tok["add_eos_token"] = true;
    if (t.add_space_prefix) tok["add_space_prefix"] = *t.add_space_prefix;
    j["tokenizer"] = std::move(tok);
    // Upstream's flat keys (realizar reads these).
    j["tokenizer.vocabulary"] = t.tokens;
    j["tokenizer.vocab_size"] = t.tokens.size();
    j["tokenizer.model"] = t.model;
    j["tokenizer.merges"] = t.merges;
    if (t.bos >= 0) j["tokenizer.bos_token_id"] = t.bos;
    if (t.eos >= 0) j["tokenizer.eos_token_id"] = t.eos;
    return j;
}

}  // namespace parity
