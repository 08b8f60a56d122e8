// Presets, validation, the tensor list and the GGUF metadata of synthetic models.

#include <algorithm>

#include "engine/error.h"
#include "engine/synth/synth.h"

namespace parity::synth {

const std::vector<std::string>& preset_names() {
    static const std::vector<std::string> names = {"tiny", "bench-1024", "bench-0.5b", "bench-7b", "llama3-8b"};
    return names;
}

ModelShape preset(std::string_view arch, std::string_view name) {
    if (arch != "qwen2" && arch != "llama") {
        throw UsageError("unknown architecture '" + std::string(arch) + "' (expected qwen2 or llama)");
    }
    ModelShape s;
    s.arch = std::string(arch);
    const bool qwen = arch == "qwen2";
    s.rope_base = qwen ? 1e6f : 1e4f;
    s.rms_eps = qwen ? 1e-6f : 1e-5f;
    auto dims = [&](int layers, int embd, int ff, int heads, int kv, int vocab, int ctx) {
        s.n_layers = layers;
        s.n_embd = embd;
        s.n_ff = ff;
        s.n_head = heads;
        s.n_head_kv = kv;
        s.n_vocab = vocab;
        s.n_ctx = ctx;
    };
    if (name == "tiny") {
        // The shapes of the llama.cpp fixtures tiny-qwen2-ref and tiny-llama-ref.
        if (qwen) {
            dims(4, 256, 768, 4, 2, 1024, 256);
        } else {
            dims(2, 256, 512, 4, 1, 1024, 256);
            s.tied = true;
        }
    } else if (name == "bench-1024") {
        dims(24, 1024, 2816, 16, 2, 32000, 4096);
    } else if (name == "bench-0.5b") {
        // Qwen2.5-0.5B's tensor shapes, vocabulary and tied output included.
        dims(24, 896, 4864, 14, 2, 151936, 4096);
        s.tied = true;
    } else if (name == "bench-7b") {
        // Qwen2.5-7B's tensor shapes, vocabulary included.
        dims(28, 3584, 18944, 28, 4, 152064, 4096);
    } else if (name == "llama3-8b") {
        // Llama-3-8B's tensor shapes and vocabulary (rope base 500000, separate output).
        if (qwen) throw UsageError("preset 'llama3-8b' is a llama shape: use --arch llama");
        dims(32, 4096, 14336, 32, 8, 128256, 8192);
        s.rope_base = 5e5f;
    } else {
        throw UsageError("unknown preset '" + std::string(name) +
                         "' (expected tiny, bench-1024, bench-0.5b, bench-7b or llama3-8b)");
    }
    s.name = "synth-" + s.arch + "-" + std::string(name);
    return s;
}

void validate(const ModelShape& s) {
    auto fail = [](const std::string& what) { throw UsageError("invalid model shape: " + what); };
    if (s.arch != "qwen2" && s.arch != "llama") fail("architecture '" + s.arch + "' (expected qwen2 or llama)");
    if (s.n_layers < 1) fail("layers must be >= 1");
    if (s.n_embd < 1 || s.n_ff < 1) fail("embd and ff must be >= 1");
    if (s.n_head < 1 || s.n_embd % s.n_head != 0) fail("heads must divide embd (" + std::to_string(s.n_embd) + ")");
    if (s.head_dim() % 2 != 0) fail("head dimension must be even for rope");
    if (s.n_head_kv < 1 || s.n_head % s.n_head_kv != 0) fail("kv-heads must divide heads");
    if (s.n_vocab < 256 + 3) fail("vocab must hold the 256 byte tokens and 3 control tokens (>= 259)");
    if (s.n_ctx < 1) fail("context length must be >= 1");
}

std::vector<TensorSpec> tensor_plan(const ModelShape& s) {
    const std::int64_t e = s.n_embd;
    const std::int64_t kv = static_cast<std::int64_t>(s.n_head_kv) * s.head_dim();
    std::vector<TensorSpec> plan = {
        {"token_embd.weight", {e, s.n_vocab}},
        {"output_norm.weight", {e}},
    };
    if (!s.tied) plan.push_back({"output.weight", {e, s.n_vocab}});
    for (int i = 0; i < s.n_layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        plan.push_back({b + "attn_norm.weight", {e}});
        plan.push_back({b + "attn_q.weight", {e, e}});
        plan.push_back({b + "attn_k.weight", {e, kv}});
        plan.push_back({b + "attn_v.weight", {e, kv}});
        if (s.has_qkv_bias()) {
            plan.push_back({b + "attn_q.bias", {e}});
            plan.push_back({b + "attn_k.bias", {kv}});
            plan.push_back({b + "attn_v.bias", {kv}});
        }
        plan.push_back({b + "attn_output.weight", {e, e}});
        plan.push_back({b + "ffn_norm.weight", {e}});
        plan.push_back({b + "ffn_gate.weight", {e, s.n_ff}});
        plan.push_back({b + "ffn_up.weight", {e, s.n_ff}});
        plan.push_back({b + "ffn_down.weight", {s.n_ff, e}});
    }
    std::stable_sort(plan.begin(), plan.end(),
                     [](const TensorSpec& a, const TensorSpec& b) { return llama_tensor_order(a.name, b.name); });
    return plan;
}

ModelConfig to_config(const ModelShape& s) {
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
    c.rope = s.arch == "qwen2" ? RopeType::Neox : RopeType::Norm;
    c.tied = s.tied;
    return c;
}

}  // namespace parity::synth
