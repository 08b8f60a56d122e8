#pragma once
// Greedy generation through the KV cache.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/runtime/forward.h"

namespace parity {

struct GenerationResult {
    std::vector<std::int32_t> tokens;  ///< the generated ids (not the prompt)
    bool stopped = false;              ///< ended early on a stop token (included in tokens)
    double prefill_seconds = 0.0;      ///< the batched prompt pass
    double decode_seconds = 0.0;       ///< all single-token passes
};

/// Index of the largest value (the lowest index among equal maxima; NaN never wins).
std::int32_t argmax(std::span<const float> logits) noexcept;

/// Empties the cache, evaluates `prompt` in one batched pass, then picks argmax tokens one at a
/// time, feeding each back, until n_new tokens or `stop(id)` returns true for a picked id.
/// on_token (optional) is called with each id as it is picked.
GenerationResult generate_greedy(Session& session, std::span<const std::int32_t> prompt, int n_new,
                                 const std::function<bool(std::int32_t)>& stop = {},
                                 const std::function<void(std::int32_t)>& on_token = {});

}  // namespace parity
