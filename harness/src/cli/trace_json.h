#pragma once
// `pv trace` output: a ForwardTrace as JSON (schema: docs/trace-json.md) and as upstream's
// `apr trace --payload` text.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/trace/activation_stats.h"
#include "engine/trace/trace.h"

namespace parity::cli {

/// What the trace was taken of (the header fields of the JSON object).
struct TraceInfo {
    std::string format;        ///< "gguf" | "apr"
    std::string architecture;  ///< "qwen2" | "llama"
    int num_layers = 0;
    int hidden_dim = 0;
    int vocab_size = 0;
    int num_heads = 0;
    int num_kv_heads = 0;
    std::optional<std::string> prompt;  ///< the --prompt text; nullopt with --tokens
    std::string mode;                   ///< "full_sequence" | "incremental"
    std::string matmul;                 ///< "dequant" | "ggml"
    std::string kv_type;                ///< "f32" | "f16"
    std::string backend;                ///< "cpu" | "cuda"
};

/// {count, min, max, mean, std_dev, nan_count, inf_count, zero_count}; a non-finite min or max
/// (no finite value in the sample) is written as null.
nlohmann::ordered_json stats_json(const ActivationStats& s);

/// The top k logits, largest first (the lower id first among equal values; NaN never listed).
std::vector<std::pair<std::int32_t, float>> top_k(const std::vector<float>& logits, std::size_t k);

/// The whole JSON object. full_logits: add logits.values (every logit of the last position);
/// values: add each layer's last_token_values (when the trace kept them).
nlohmann::ordered_json trace_json(const TraceInfo& info, const ForwardTrace& trace, bool full_logits, bool values);

/// Upstream's text: per layer `Layer %2d/N [OK|HIGH-VAR|ANOMALY]`, then per slot
/// `    <slot>: mean=%8.4f std=%8.4f` (+ ` NaN:n Inf:n` when non-zero). ANOMALY: a NaN or Inf in
/// any slot of the layer; HIGH-VAR: the layer output's std above 100.
void write_trace_text(std::ostream& os, const TraceInfo& info, const ForwardTrace& trace);

}  // namespace parity::cli
