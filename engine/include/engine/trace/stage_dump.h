#pragma once
// Stage tensors of a forward pass: the values at upstream's 19 stage points (engine/trace/aprt.h,
// kStageNames), per position, in memory, and as APRT dump trees (engine/trace/aprt_tree.h).
//
// A forward pass hands stage tensors to a StageSink (Session::set_stage_sink); StageDump is the
// sink that keeps them: for every (stage, layer), one vector of f32 values per prompt position.
// StageDump also holds an external engine's dump tree read from disk, so both sides of a per-op
// comparison have the same shape. docs/dumps.md maps each stage to our trace slots and to
// llama.cpp's graph node names.
//
// Widths per position (f32 elements; q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim):
//   qkv_matmul, qkv_bias   q | k | v of the position, concatenated   [q_dim + 2 kv_dim]
//   q_post_rope            head-major, head h at [h * head_dim, ...)  [q_dim]
//   k_post_rope            head-major                                 [kv_dim]
//   attention              merged heads, before the o-projection     [q_dim]
//   lm_head                logits                                     [n_vocab]
//   every other stage      [n_embd] or, for the FFN interior, [n_ff]

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/trace/aprt.h"
#include "engine/trace/aprt_tree.h"

namespace parity {

/// Upstream's stages in forward order (aprt::kStageNames), then ours (aprt::kExtraStageNames).
enum class Stage : int {
    Embedding = 0,
    AttnNorm,
    QkvMatmul,
    QkvBias,
    QPostRope,
    KPostRope,
    Attention,
    AttnOut,
    PostAttnResidual,
    FfnNorm,
    FfnGate,
    FfnUp,
    FfnSilu,
    FfnSwigl,
    FfnOut,
    PostFfnResidual,
    LayerOutput,
    FinalNorm,
    LmHead,
    FfnRouter,  ///< ours (aprt::kExtraStageNames): MoE router logits, after ffn_norm
};
inline constexpr int kStageCount = 20;

/// "embedding", "attn_norm", ... (aprt::kKnownStageNames).
std::string_view stage_name(Stage stage) noexcept;
/// The stage named `name`, or nullopt.
std::optional<Stage> parse_stage(std::string_view name) noexcept;

/// Receives stage tensors while a backend runs a pass.
class StageSink {
public:
    virtual ~StageSink() = default;
    /// Whether the sink keeps `stage` at all (the graph reads nothing for a stage it does not want).
    virtual bool wants(Stage stage) const noexcept = 0;
    /// `values` holds values.size() / width consecutive positions, the first at `position`, each
    /// `width` floats. layer: -1 for the whole-model stages (embedding, final_norm, lm_head).
    virtual void add(Stage stage, int layer, int position, std::span<const float> values, std::int64_t width) = 0;
};

/// One stage tensor series: a stage of one layer (or the whole model).
struct StageKey {
    std::string stage;
    std::uint32_t layer = aprt::kWholeModelLayer;  ///< kWholeModelLayer for whole-model stages
    bool operator<(const StageKey& o) const;       ///< forward order (aprt::forward_order_less)
    bool operator==(const StageKey& o) const = default;
};

/// Stage tensors by (stage, layer), one vector per position (empty for a position never given).
class StageDump final : public StageSink {
public:
    /// Keeps every stage.
    StageDump() = default;
    /// Keeps only `stages`.
    explicit StageDump(std::set<Stage> stages) : only_(std::move(stages)) {}

    bool wants(Stage stage) const noexcept override;
    void add(Stage stage, int layer, int position, std::span<const float> values, std::int64_t width) override;
    /// Sets one position's values of a series (replacing them).
    void set(const StageKey& key, std::uint32_t position, std::vector<float> values);

    using Series = std::vector<std::vector<float>>;  ///< indexed by position
    const std::map<StageKey, Series>& series() const noexcept { return series_; }
    /// The series of `key`, or nullptr.
    const Series* find(const StageKey& key) const;
    /// One past the highest position any series holds.
    std::uint32_t positions() const noexcept { return positions_; }

    /// Writes the dump as APRT files under `dir` (created; existing files of the same names
    /// replaced). Per-position: DIR/pos-NNNN/layer-N/<stage>.bin and DIR/pos-NNNN/<stage>.bin;
    /// concatenated: DIR/layer-N/<stage>.bin and DIR/<stage>.bin, the positions a series holds
    /// concatenated in order. Returns the number of files written. Throws IoError.
    std::size_t write_tree(const std::filesystem::path& dir, aprt::Layout layout) const;

    /// Reads the tree under `dir` (layout detected, every header checked). A concatenated file is
    /// split into `n_positions` equal rows; with n_positions given, a per-position tree must hold
    /// exactly positions 0..n_positions-1. Throws UsageError naming the file for a dump that does
    /// not match n_positions, and what scan_tree / read_dump_file throw.
    static StageDump read_tree(const std::filesystem::path& dir, std::optional<std::uint32_t> n_positions);

private:
    std::optional<std::set<Stage>> only_;
    std::map<StageKey, Series> series_;
    std::uint32_t positions_ = 0;
};

}  // namespace parity
