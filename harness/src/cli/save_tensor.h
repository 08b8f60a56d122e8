#pragma once
// `pv trace --save-tensor`: the stage tensors of one forward pass written as an APRT dump tree
// (docs/dumps.md).

#include <filesystem>
#include <ostream>
#include <set>
#include <span>
#include <string>

#include "engine/runtime/forward.h"
#include "engine/trace/aprt_tree.h"
#include "engine/trace/stage_dump.h"

namespace parity::cli {

/// "all", or stage names separated by commas ("attn_norm,ffn_gate"). Throws UsageError naming
/// an unknown stage and listing the 19 names.
std::set<Stage> parse_stage_list(const std::string& text);

/// "per-position" | "concatenated"; UsageError otherwise.
aprt::Layout parse_layout(const std::string& text);

/// Runs the prompt on `session` in `mode` (dump_stages), writes the stages in `stages` under
/// `dir` in `layout`, and prints one summary line to `out`. Returns the number of files written.
std::size_t save_stage_tensors(Session& session, std::span<const std::int32_t> tokens, ForwardMode mode,
                               const std::set<Stage>& stages, const std::filesystem::path& dir,
                               aprt::Layout layout, std::ostream& out);

}  // namespace parity::cli
