#pragma once
// Dump trees of APRT stage files (engine/trace/aprt.h), in the two layouts upstream aprender
// writes:
//
//   per-position   DIR/pos-NNNN/layer-N/<stage>.bin    per-layer stages, one position each
//                  DIR/pos-NNNN/<stage>.bin            whole-model stages (embedding,
//                                                      final_norm, lm_head)
//                  (contract apr-parity-per-op-v1: `apr parity --per-op`, one tree per side)
//   concatenated   DIR/layer-N/<stage>.bin             per-layer stages, every position
//                                                      concatenated in one file
//                  DIR/<stage>.bin or                  whole-model stages: at the root, or in
//                  DIR/layer-0/<stage>.bin             layer-0/ (upstream's trace writer puts
//                                                      embedding there)
//                  (contract apr-cli-trace-save-tensor-v1: `apr trace --save-tensor`)
//
// N and NNNN are decimal (NNNN zero-padded to 4 digits by the writer; any digits are read).
// A file's stage is its name without ".bin". Names outside kStageNames are accepted in layer-N/
// as per-layer stages (upstream has added sub-stages such as attn_scores); elsewhere they are
// errors. Files not ending in ".bin" are ignored; any other directory is an error.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/trace/aprt.h"

namespace parity::aprt {

enum class Layout { PerPosition, Concatenated };

/// "per-position" or "concatenated".
std::string_view layout_name(Layout layout) noexcept;

/// One stage file of a tree.
struct DumpFile {
    std::optional<std::uint32_t> position;  ///< pos-NNNN (per-position layout only)
    std::uint32_t layer = kWholeModelLayer; ///< layer-N, or kWholeModelLayer for whole-model stages
    std::string stage;                      ///< the file name without ".bin"
    std::filesystem::path path;             ///< where the file is

    /// The file's place in the tree, the same on both sides of a comparison: "pos-0003/
    /// layer-2/ffn_gate.bin", "pos-0003/lm_head.bin", "layer-2/ffn_gate.bin", "embedding.bin"
    /// (a whole-model stage found in layer-0/ is keyed as at the root).
    std::string key() const;
};

/// Forward order: by position, then embedding, layers in order (stages in stage_rank order,
/// other names after them by name), final_norm, lm_head.
bool forward_order_less(const DumpFile& a, const DumpFile& b);

struct DumpTree {
    Layout layout = Layout::Concatenated;
    std::vector<DumpFile> files;  ///< in forward order, keys unique
};

/// The layout of `dir`: per-position when it holds pos-NNNN/ directories, concatenated when it
/// holds layer-N/ directories or .bin files. Throws UsageError naming `dir` when it holds
/// neither or both, IoError when it cannot be listed.
Layout detect_layout(const std::filesystem::path& dir);

/// Every stage file under `dir` (layout as detect_layout). Reads no file. Throws UsageError
/// naming the offending path for an unexpected directory, a per-layer stage outside a layer-N/
/// directory, an unknown stage outside one, or two files with the same key (a whole-model stage
/// both at the root and in layer-0/), and when the tree has no stage file.
DumpTree scan_tree(const std::filesystem::path& dir);

/// Reads `file` and checks its header's layer against its place: a per-layer stage in layer-N/
/// must say N, a whole-model stage kWholeModelLayer (in layer-0/ also 0, as upstream's trace
/// writer does). Throws IoError / FormatError as read_file(), and FormatError at byte 4 for a
/// layer that disagrees with the place. The returned tensor's layer is the header's.
Tensor read_dump_file(const DumpFile& file);

}  // namespace parity::aprt
