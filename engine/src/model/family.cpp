// The family table: one row per architecture, its flags as llama.cpp's graph builders use them.

#include "engine/model/family.h"

#include <array>

namespace parity {

namespace {

constexpr std::array<std::string_view, 3> kMoeKeys = {"expert_count", "expert_used_count",
                                                      "expert_feed_forward_length"};
constexpr std::array<std::string_view, 3> kGemma3Keys = {"attention.sliding_window",
                                                         "attention.sliding_window_pattern", "rope.freq_base_swa"};
constexpr std::array<std::string_view, 1> kPhi3Keys = {"attention.sliding_window"};

constexpr std::array<Family, 6> kFamilies = {{
    {.arch = "qwen2", .rope = RopeType::Neox, .qkv_bias = true, .extra_keys = {}},
    {.arch = "llama", .rope = RopeType::Norm, .rope_freqs = true, .extra_keys = {}},
    {.arch = "qwen3", .rope = RopeType::Neox, .qk_norm = true, .extra_keys = {}},
    {.arch = "qwen3moe", .rope = RopeType::Neox, .qk_norm = true, .ffn = FfnKind::MoeSwiGlu, .extra_keys = kMoeKeys},
    {.arch = "gemma3",
     .rope = RopeType::Neox,
     .qk_norm = true,
     .post_norms = true,
     .embed_scale = true,
     .q_prescale = true,
     .local_layers = true,
     .ffn = FfnKind::GeGlu,
     .extra_keys = kGemma3Keys},
    {.arch = "phi3",
     .rope = RopeType::Neox,
     .fused_qkv = true,
     .fused_gate_up = true,
     .q_prescale = true,
     .window_not_applied = true,
     .extra_keys = kPhi3Keys},
}};

}  // namespace

const Family* find_family(std::string_view arch) noexcept {
    for (const Family& f : kFamilies) {
        if (f.arch == arch) return &f;
    }
    return nullptr;
}

std::span<const Family> families() noexcept { return kFamilies; }

std::string family_names() {
    std::string s;
    for (const Family& f : kFamilies) s += (s.empty() ? "" : ", ") + std::string(f.arch);
    return s;
}

}  // namespace parity
