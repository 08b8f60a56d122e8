#pragma once
// One-line descriptions every writer uses the same way: where a row is (layer and slot), what
// bounds it was held to, where a test first diverged, and which build ran.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "reports/result.h"

namespace parity::reports {

/// "layer 3, slot ffn_swiglu_inner"; model-level rows (layer -1): "model level, slot logits".
/// Without a slot, only the first part.
std::string describe_location(int layer, std::string_view slot);

/// The bounds of a row: "[0.5, 2]", ">= 0.999" (only lo), "<= 0.001" (only hi), or "" (none).
std::string describe_bounds(const LayerMetric& row);

/// Where the test first diverged: its `first_failure` when set; otherwise, for a FAIL, the
/// first per-layer row that failed (detail: "<metric> <value> outside <bounds>"); otherwise
/// nullopt.
std::optional<Divergence> first_divergence(const TestResult& result);

/// "layer 3, slot ffn_swiglu_inner: std ratio 2.31 outside [0.5, 2]" (no ": " part when the
/// detail is empty).
std::string describe_divergence(const Divergence& divergence);

/// The build that ran, on one line: "pv 0.1.0, commit a800b23, Release, GNU 12.2.0, CPU AVX2 FMA,
/// CUDA not built" (or "CUDA: <device>; <device>", "CUDA module not found", "CUDA module not
/// loaded: <why>", "CUDA module not loaded (no cuda path ran)", "CUDA module loaded, no
/// device"). Empty when the
/// report names no build (no version).
std::string describe_build(const BuildInfo& build);

/// How many per-layer rows failed.
std::size_t count_failing_rows(const TestResult& result);

}  // namespace parity::reports
