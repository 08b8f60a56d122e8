#include "understood.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_set>

#include "engine/error.h"

namespace parity::model_detail {

namespace {

/// `<arch>.` keys that only describe the model or feed the hyper-parameters the graph reads
/// (attention.value_length is checked on its own).
constexpr std::array<std::string_view, 12> kUnderstoodKeys = {
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "vocab_size",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.layer_norm_rms_epsilon",
    "attention.key_length",
    "rope.freq_base",
    "rope.dimension_count",
    "rope.scaling.original_context_length",  // read by YaRN only, which is refused below
};

[[noreturn]] void refuse(const ModelFile& f, const std::string& what) {
    throw UsageError(f.path() + ": " + what + "; refusing to run a graph that would ignore it");
}

void check_gguf_keys(const ModelFile& f, const gguf::File& g, const ModelConfig& c, const Family& fam) {
    const std::string prefix = c.arch + ".";
    for (const auto& e : g.metadata()) {
        if (e.key.rfind(prefix, 0) != 0) continue;
        const std::string_view rest = std::string_view(e.key).substr(prefix.size());
        const std::string who = "metadata key '" + e.key + "'";
        if (rest == "attention.value_length") {
            const auto v = e.value.as_int();
            if (!v || *v != c.head_dim) {
                refuse(f, who + " differs from the key length " + std::to_string(c.head_dim) +
                              " (different q/k and v head sizes are not implemented)");
            }
            continue;
        }
        if (std::find(kUnderstoodKeys.begin(), kUnderstoodKeys.end(), rest) != kUnderstoodKeys.end()) continue;
        if (std::find(fam.extra_keys.begin(), fam.extra_keys.end(), rest) != fam.extra_keys.end()) continue;
        if (rest == "rope.scaling.type") {
            const std::string* s = e.value.as_string();
            if (s != nullptr && (*s == "none" || *s == "linear")) continue;
            refuse(f, who + " = '" + (s ? *s : std::string("?")) +
                          "': only unscaled, linear and Llama 3 (rope_freqs) rope are implemented");
        }
        if (rest == "rope.scaling.factor" || rest == "rope.scale_linear") {
            // Linear scaling (ModelConfig::rope_freq_scale) unless the type above is refused.
            if (e.value.as_number()) continue;
            refuse(f, who + " is not a number");
        }
        if (rest == "expert_count" || rest == "expert_used_count") {
            const auto v = e.value.as_int();
            if (v && *v == 0) continue;
            refuse(f, who + ": mixture-of-experts layers are not implemented for " + c.arch);
        }
        refuse(f, who + " is not understood by the " + c.arch + " graph this engine runs");
    }
}

bool is_set(const apr::Json& meta, const char* key) {
    const auto it = meta.find(key);
    return it != meta.end() && !it->is_null() && !(it->is_number() && *it == 0);
}

// The APR fields that change the math beyond the common hyper-parameters: each is accepted
// only by a family whose graph implements it (engine/model/family.h).
void check_apr_fields(const ModelFile& f, const apr::File& a, const ModelConfig& c, const Family& fam) {
    const auto& meta = a.metadata();
    if (!meta.is_object()) return;
    auto refuse_field = [&](const std::string& key, const std::string& why) {
        refuse(f, "metadata field '" + key + "' is set, and " + why);
    };
    for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"}) {
        if (is_set(meta, key)) refuse_field(key, "the graph does not implement it");
    }
    const std::string not_for = "the " + c.arch + " graph does not implement it";
    if (is_set(meta, "sliding_window") && !fam.local_layers && !fam.window_not_applied) {
        refuse_field("sliding_window", not_for);
    }
    for (const char* key : {"sliding_window_pattern", "rope_local_base_freq"}) {
        if (is_set(meta, key) && !fam.local_layers) refuse_field(key, not_for);
    }
    for (const char* key : {"num_experts", "num_experts_per_tok", "moe_intermediate_size"}) {
        if (is_set(meta, key) && fam.ffn != FfnKind::MoeSwiGlu) refuse_field(key, not_for);
    }
    if (is_set(meta, "rope_scaling")) {
        const auto& rs = meta.at("rope_scaling");
        const auto type = rs.is_object() ? rs.value("rope_type", rs.value("type", std::string("?"))) : std::string("?");
        if (type != "linear" || c.rope_freq_scale == 1.0f) {
            refuse_field("rope_scaling", "only linear rope scaling with a positive factor is implemented (rope_type '" +
                                             type + "')");
        }
    }
}

}  // namespace

void refuse_what_is_not_understood(const ModelFile& file, const ModelConfig& config, const Family& family,
                                   const std::vector<std::string>& read) {
    if (const gguf::File* g = file.gguf()) check_gguf_keys(file, *g, config, family);
    if (const apr::File* a = file.apr()) check_apr_fields(file, *a, config, family);
    const std::unordered_set<std::string> known(read.begin(), read.end());
    for (const auto& t : file.tensors()) {
        if (known.count(t.name) == 0) {
            refuse(file, "tensor '" + t.name + "' is not part of the " + config.arch + " graph this engine runs");
        }
    }
}

}  // namespace parity::model_detail
