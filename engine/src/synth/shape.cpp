// Presets, validation, the tensor list and the hyper-parameters of synthetic models.

#include <algorithm>

#include "engine/error.h"
#include "engine/model/family.h"
#include "engine/synth/synth.h"

namespace parity::synth {

namespace {

// The real shapes, each of one family.
struct RealShape {
    std::string_view name;
    std::string_view arch;
};
constexpr RealShape kRealShapes[] = {
    {"llama3-8b", "llama"}, {"qwen3-8b", "qwen3"}, {"qwen3-30b-a3b", "qwen3moe"},
    {"gemma3-4b", "gemma3"}, {"phi3-mini", "phi3"},
};

struct Dims {
    int layers, embd, ff, heads, kv, vocab, ctx;
};

void set_dims(ModelShape& s, const Dims& d) {
    s.n_layers = d.layers;
    s.n_embd = d.embd;
    s.n_ff = d.ff;
    s.n_head = d.heads;
    s.n_head_kv = d.kv;
    s.n_vocab = d.vocab;
    s.n_ctx = d.ctx;
}

// The shapes of the llama.cpp fixtures tiny-<arch>-ref (vocabulary 1024 here).
void tiny(ModelShape& s) {
    const std::string& a = s.arch;
    if (a == "qwen2") {
        set_dims(s, {4, 256, 768, 4, 2, 1024, 256});
    } else if (a == "llama") {
        set_dims(s, {2, 256, 512, 4, 1, 1024, 256});
        s.tied = true;
    } else if (a == "qwen3") {
        set_dims(s, {2, 256, 512, 4, 2, 1024, 4096});
        s.n_head_dim = 128;
        s.tied = true;
    } else if (a == "qwen3moe") {
        set_dims(s, {1, 256, 1024, 4, 2, 1024, 4096});
        s.n_expert = 8;
        s.n_expert_used = 2;
        s.n_ff_expert = 256;
        s.tied = true;
    } else if (a == "gemma3") {
        set_dims(s, {3, 256, 256, 4, 1, 1024, 32768});
        s.n_head_dim = 128;
        s.sliding_window = 8;
        s.sliding_window_pattern = 3;
        s.rope_base_local = 1e4f;
        s.tied = true;
    } else {  // phi3
        set_dims(s, {2, 256, 512, 4, 4, 1024, 4096});
    }
}

// The published configurations (config.json) of each real model.
void real(ModelShape& s, std::string_view name) {
    if (name == "llama3-8b") {
        // Llama-3-8B: rope base 500000, separate output.
        set_dims(s, {32, 4096, 14336, 32, 8, 128256, 8192});
        s.rope_base = 5e5f;
    } else if (name == "qwen3-8b") {
        set_dims(s, {36, 4096, 12288, 32, 8, 151936, 40960});
        s.n_head_dim = 128;
    } else if (name == "qwen3-30b-a3b") {
        // Qwen3-30B-A3B: 128 experts of width 768, 8 per token; feed_forward_length is the
        // dense size the checkpoint states, unused by the MoE layers.
        set_dims(s, {48, 2048, 6144, 32, 4, 151936, 40960});
        s.n_head_dim = 128;
        s.n_expert = 128;
        s.n_expert_used = 8;
        s.n_ff_expert = 768;
    } else if (name == "gemma3-4b") {
        // Gemma-3-4B: 5 local layers (window 1024, rope base 1e4) per global one (rope base
        // 1e6, linear scaling by 8), tied output.
        set_dims(s, {34, 2560, 10240, 8, 4, 262144, 131072});
        s.n_head_dim = 256;
        s.sliding_window = 1024;
        s.sliding_window_pattern = 6;
        s.rope_base_local = 1e4f;
        s.rope_scale = 8.0f;
        s.tied = true;
    } else {  // phi3-mini: Phi-3-mini-4k
        set_dims(s, {32, 3072, 8192, 32, 32, 32064, 4096});
    }
}

}  // namespace

const std::vector<std::string>& preset_names() {
    static const std::vector<std::string> names = {"tiny",     "bench-1024",    "bench-0.5b", "bench-7b",
                                                   "llama3-8b", "qwen3-8b", "qwen3-30b-a3b", "gemma3-4b",
                                                   "phi3-mini"};
    return names;
}

std::string_view preset_arch(std::string_view name) {
    for (const RealShape& r : kRealShapes) {
        if (r.name == name) return r.arch;
    }
    if (std::find(preset_names().begin(), preset_names().end(), name) == preset_names().end()) {
        throw UsageError("unknown preset '" + std::string(name) +
                         "' (expected tiny, bench-1024, bench-0.5b, bench-7b, llama3-8b, qwen3-8b, qwen3-30b-a3b, "
                         "gemma3-4b or phi3-mini)");
    }
    return {};
}

ModelShape preset(std::string_view arch, std::string_view name) {
    if (find_family(arch) == nullptr) {
        throw UsageError("unknown architecture '" + std::string(arch) + "' (expected " + family_names() + ")");
    }
    const std::string_view own = preset_arch(name);
    ModelShape s;
    s.arch = std::string(arch);
    const bool eps6 = arch == "qwen2" || arch == "qwen3" || arch == "qwen3moe" || arch == "gemma3";
    s.rope_base = arch == "llama" || arch == "phi3" ? 1e4f : 1e6f;
    s.rms_eps = eps6 ? 1e-6f : 1e-5f;
    if (!own.empty()) {
        if (own != arch) {
            throw UsageError("preset '" + std::string(name) + "' is a " + std::string(own) + " shape: use --arch " +
                             std::string(own));
        }
        real(s, name);
    } else if (name == "tiny") {
        tiny(s);
    } else {
        if (arch != "qwen2" && arch != "llama") {
            throw UsageError("preset '" + std::string(name) + "' is for qwen2 or llama; " + std::string(arch) +
                             " has tiny and its real shape");
        }
        if (name == "bench-1024") {
            set_dims(s, {24, 1024, 2816, 16, 2, 32000, 4096});
        } else if (name == "bench-0.5b") {
            // Qwen2.5-0.5B's tensor shapes, vocabulary and tied output included.
            set_dims(s, {24, 896, 4864, 14, 2, 151936, 4096});
            s.tied = true;
        } else {  // bench-7b: Qwen2.5-7B's tensor shapes, vocabulary included.
            set_dims(s, {28, 3584, 18944, 28, 4, 152064, 4096});
        }
    }
    s.name = "synth-" + s.arch + "-" + std::string(name);
    return s;
}

void validate(const ModelShape& s) {
    auto fail = [](const std::string& what) { throw UsageError("invalid model shape: " + what); };
    const Family* fam = find_family(s.arch);
    if (fam == nullptr) fail("architecture '" + s.arch + "' (expected " + family_names() + ")");
    if (s.n_layers < 1) fail("layers must be >= 1");
    if (s.n_embd < 1 || s.n_ff < 1) fail("embd and ff must be >= 1");
    if (s.n_head < 1 || s.n_embd % s.n_head != 0) fail("heads must divide embd (" + std::to_string(s.n_embd) + ")");
    if (s.n_head_dim < 0 || s.head_dim() % 2 != 0) fail("head dimension must be even for rope");
    if (s.n_head_kv < 1 || s.n_head % s.n_head_kv != 0) fail("kv-heads must divide heads");
    if (s.n_vocab < 256 + 3) fail("vocab must hold the 256 byte tokens and 3 control tokens (>= 259)");
    if (s.n_ctx < 1) fail("context length must be >= 1");
    if (!(s.rope_scale > 0.0f)) fail("rope scaling factor must be > 0");
    const bool moe = fam->ffn == FfnKind::MoeSwiGlu;
    if (moe && (s.n_expert < 1 || s.n_expert_used < 1 || s.n_expert_used > s.n_expert || s.n_ff_expert < 1)) {
        fail("experts must be >= 1, experts-used in 1..experts, expert-ff >= 1");
    }
    if (!moe && (s.n_expert != 0 || s.n_expert_used != 0 || s.n_ff_expert != 0)) fail(s.arch + " has no experts");
    if (fam->local_layers && s.sliding_window < 1) fail("window must be >= 1 for " + s.arch);
    if (!fam->local_layers && !fam->window_not_applied && s.sliding_window != 0) {
        fail(s.arch + " has no sliding window");
    }
    if (!fam->local_layers && (s.sliding_window_pattern != 0 || s.rope_base_local != 0.0f)) {
        fail(s.arch + " has no local layers");
    }
}

std::vector<TensorSpec> tensor_plan(const ModelShape& s) {
    const Family& fam = *find_family(s.arch);
    const std::int64_t e = s.n_embd;
    const std::int64_t hd = s.head_dim();
    const std::int64_t q = static_cast<std::int64_t>(s.n_head) * hd;
    const std::int64_t kv = static_cast<std::int64_t>(s.n_head_kv) * hd;
    std::vector<TensorSpec> plan = {
        {"token_embd.weight", {e, s.n_vocab}},
        {"output_norm.weight", {e}},
    };
    if (!s.tied) plan.push_back({"output.weight", {e, s.n_vocab}});
    for (int i = 0; i < s.n_layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        plan.push_back({b + "attn_norm.weight", {e}});
        if (fam.fused_qkv) {
            plan.push_back({b + "attn_qkv.weight", {e, q + 2 * kv}});
        } else {
            plan.push_back({b + "attn_q.weight", {e, q}});
            plan.push_back({b + "attn_k.weight", {e, kv}});
            plan.push_back({b + "attn_v.weight", {e, kv}});
        }
        if (s.has_qkv_bias()) {
            plan.push_back({b + "attn_q.bias", {q}});
            plan.push_back({b + "attn_k.bias", {kv}});
            plan.push_back({b + "attn_v.bias", {kv}});
        }
        if (fam.qk_norm) {
            plan.push_back({b + "attn_q_norm.weight", {hd}});
            plan.push_back({b + "attn_k_norm.weight", {hd}});
        }
        plan.push_back({b + "attn_output.weight", {q, e}});
        if (fam.post_norms) plan.push_back({b + "post_attention_norm.weight", {e}});
        plan.push_back({b + "ffn_norm.weight", {e}});
        if (fam.ffn == FfnKind::MoeSwiGlu) {
            plan.push_back({b + "ffn_gate_inp.weight", {e, s.n_expert}});
            plan.push_back({b + "ffn_gate_exps.weight", {e, s.n_ff_expert, s.n_expert}});
            plan.push_back({b + "ffn_up_exps.weight", {e, s.n_ff_expert, s.n_expert}});
            plan.push_back({b + "ffn_down_exps.weight", {s.n_ff_expert, e, s.n_expert}});
        } else if (fam.fused_gate_up) {
            plan.push_back({b + "ffn_up.weight", {e, 2 * static_cast<std::int64_t>(s.n_ff)}});
            plan.push_back({b + "ffn_down.weight", {s.n_ff, e}});
        } else {
            plan.push_back({b + "ffn_gate.weight", {e, s.n_ff}});
            plan.push_back({b + "ffn_up.weight", {e, s.n_ff}});
            plan.push_back({b + "ffn_down.weight", {s.n_ff, e}});
        }
        if (fam.post_norms) plan.push_back({b + "post_ffw_norm.weight", {e}});
    }
    std::stable_sort(plan.begin(), plan.end(),
                     [](const TensorSpec& a, const TensorSpec& b) { return llama_tensor_order(a.name, b.name); });
    return plan;
}

ModelConfig to_config(const ModelShape& s) {
    const Family* fam = find_family(s.arch);
    ModelConfig c;
    c.arch = s.arch;
    c.n_layers = s.n_layers;
    c.n_embd = s.n_embd;
    c.n_ff = s.n_ff;
    c.n_head = s.n_head;
    c.n_head_kv = s.n_head_kv;
    c.head_dim = s.head_dim();
    c.n_vocab = s.n_vocab;
    c.n_ctx = s.n_ctx;
    c.rope_base = s.rope_base;
    c.rms_eps = s.rms_eps;
    c.rope = fam != nullptr ? fam->rope : RopeType::Norm;
    c.tied = s.tied;
    c.n_expert = s.n_expert;
    c.n_expert_used = s.n_expert_used;
    c.n_ff_expert = s.n_ff_expert;
    c.sliding_window = s.sliding_window;
    c.sliding_window_pattern = s.sliding_window_pattern;
    c.rope_base_local = s.rope_base_local;
    c.rope_freq_scale = 1.0f / s.rope_scale;
    return c;
}

}  // namespace parity::synth
