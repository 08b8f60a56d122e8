#pragma once
// The activation trace a stage dump implies, so that the statistic falsifiers (stat ratios,
// sample counts, finiteness, slot tolerances) judge an external engine's APRT dump tree as they
// judge our engine's trace.
//
// Slot <- stage (docs/dumps.md): embed <- embedding; attn_norm; qkv <- qkv_bias, else
// qkv_matmul (q | k | v); attn_out; ffn_norm; ffn_gate; ffn_up; ffn_silu_gate <- ffn_silu;
// ffn_swiglu_inner <- ffn_swigl; ffn_out; output <- layer_output, else post_ffn_residual;
// final_norm; the logits <- lm_head's last position.
//
// The sample is every position of the dump (as a full_sequence trace): a slot's count is
// positions x width; last_token and the kept values are the last position's. A slot whose stage
// the dump lacks stays empty (count 0), and the caller decides what an absent slot means.

#include <cstdint>
#include <span>

#include "engine/trace/stage_dump.h"
#include "engine/trace/trace.h"

namespace parity {

/// The trace of `dump` for input `tokens` (one position per token). n_layers: the layers of the
/// model the dump came from (a dump may lack whole layers). Throws UsageError when a series
/// lacks a position of the input or its positions differ in width, naming the stage and layer.
ForwardTrace trace_from_stages(const StageDump& dump, std::span<const std::int32_t> tokens, int n_layers);

/// One past the highest layer any per-layer series of `dump` holds (0 for none).
int dump_layer_count(const StageDump& dump) noexcept;

}  // namespace parity
