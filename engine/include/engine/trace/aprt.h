#pragma once
// APRT stage tensor files: one activation tensor of a forward pass, dumped at a named stage, in
// the format of upstream aprender's `apr trace --save-tensor` (contract
// apr-cli-trace-save-tensor-v1, equation byte_format):
//
//   offset 0-3    "APRT"
//   offset 4-7    u32 LE  layer index, or kWholeModelLayer (0xFFFFFFFF) for whole-model stages
//   offset 8-11   u32 LE  element count n (the product of the tensor's dimensions)
//   offset 12     n x f32 LE values, in the producer's row-major order (for a stage dumped over
//                 several positions, position-major: n = positions x width)
//
// The file is exactly 12 + 4n bytes; anything else is malformed. Values are kept bit for bit
// (NaN payloads and signs included): reading never normalizes a float.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parity::aprt {

inline constexpr std::array<char, 4> kMagic = {'A', 'P', 'R', 'T'};
inline constexpr std::size_t kHeaderSize = 12;
/// The header's layer for whole-model stages (embedding, final_norm, lm_head).
inline constexpr std::uint32_t kWholeModelLayer = 0xFFFFFFFFu;

/// Upstream's 19 stage names, in forward order. The widths are per position, as the stage
/// definitions imply (the producer decides how q, k and v are concatenated); n_embd = hidden size,
/// q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim, n_ff = FFN width, all in f32 elements.
///
///   embedding           token embedding lookup                      [n_embd]   whole-model
///   attn_norm           RMSNorm(x) * attn_norm.weight, before QKV   [n_embd]
///   qkv_matmul          q | k | v after the matmul, before the bias [q_dim + 2 kv_dim]
///   qkv_bias            q | k | v after the bias, before RoPE       [q_dim + 2 kv_dim]
///   q_post_rope         Q after RoPE                                [q_dim]
///   k_post_rope         K after RoPE                                [kv_dim]
///   attention           softmax(Q K^T) V, before the o-projection   [q_dim]
///   attn_out            after the o-projection                      [n_embd]
///   post_attn_residual  x + attn_out                                [n_embd]
///   ffn_norm            RMSNorm(post_attn_residual) * ffn_norm.w    [n_embd]
///   ffn_gate            gate projection                             [n_ff]
///   ffn_up              up projection                               [n_ff]
///   ffn_silu            silu(gate)                                  [n_ff]
///   ffn_swigl           silu(gate) * up                             [n_ff]
///   ffn_out             down projection                             [n_embd]
///   post_ffn_residual   post_attn_residual + ffn_out                [n_embd]
///   layer_output        upstream's alias of post_ffn_residual       [n_embd]
///   final_norm          RMSNorm(last layer output) * output_norm.w  [n_embd]   whole-model
///   lm_head             logits                                      [n_vocab]  whole-model
inline constexpr std::array<std::string_view, 19> kStageNames = {
    "embedding",  "attn_norm", "qkv_matmul", "qkv_bias",  "q_post_rope",       "k_post_rope",  "attention",
    "attn_out",   "post_attn_residual",      "ffn_norm",  "ffn_gate",          "ffn_up",       "ffn_silu",
    "ffn_swigl",  "ffn_out",   "post_ffn_residual",       "layer_output",      "final_norm",   "lm_head"};

/// Stages of ours where upstream's list has no place, for the families it does not cover:
///   ffn_router          MoE router logits, after ffn_norm           [n_expert]
inline constexpr std::array<std::string_view, 1> kExtraStageNames = {"ffn_router"};

/// Every stage name this project writes and reads: kStageNames, then kExtraStageNames.
inline constexpr auto kKnownStageNames = [] {
    std::array<std::string_view, kStageNames.size() + kExtraStageNames.size()> all{};
    std::copy(kExtraStageNames.begin(), kExtraStageNames.end(),
              std::copy(kStageNames.begin(), kStageNames.end(), all.begin()));
    return all;
}();

/// True for embedding, final_norm and lm_head: one tensor for the whole model, not per layer.
bool is_whole_model_stage(std::string_view stage) noexcept;
/// The stage's index in kStageNames, or -1 for a name not in the list.
int stage_index(std::string_view stage) noexcept;
/// Where a stage runs within a layer, for sorting: 2 * stage_index for upstream's stages,
/// ffn_router just after ffn_norm; -1 for a name in neither list.
int stage_rank(std::string_view stage) noexcept;

/// One decoded file: the header's layer and the values.
struct Tensor {
    std::uint32_t layer = 0;
    std::vector<float> values;
};

/// The file's bytes for `values` under `layer`. Throws UsageError when there are more than
/// 2^32 - 1 values (the count does not fit the header).
std::vector<std::byte> encode(std::uint32_t layer, std::span<const float> values);

/// Decodes a whole file's bytes; `name` is the file name used in errors. Throws FormatError
/// (name, byte offset, cause) for a bad magic, a header shorter than 12 bytes, fewer values than
/// the count, or bytes after the last value.
Tensor decode(std::span<const std::byte> bytes, const std::string& name);

/// Reads and decodes `path`. Throws IoError when it cannot be read, FormatError as decode().
Tensor read_file(const std::filesystem::path& path);

/// Writes `values` under `layer` to `path` (replacing it). Throws IoError when the file cannot
/// be written, UsageError as encode().
void write_file(const std::filesystem::path& path, std::uint32_t layer, std::span<const float> values);

}  // namespace parity::aprt
