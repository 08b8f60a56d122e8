#pragma once
// The rotary position embedding's cos/sin table, shared by every backend so that all of them
// rotate by identical values.

#include <cstdint>
#include <span>

namespace parity {

/// cos/sin table of one position: cs[2i] = cos(theta_i), cs[2i+1] = sin(theta_i) for
/// i < n_dims/2, theta_i = freq_scale * (pos * base^(-2i/n_dims) / freq_factors[i]), computed
/// as ggml does (float theta, multiplied by powf(base, -2/n_dims) step by step, divided by the
/// factor, then multiplied by freq_scale). `freq_factors` holds n_dims/2 per-pair divisors
/// (Llama 3's rope_freqs.weight) or is empty (all 1). freq_scale: 1 / the linear scaling factor
/// (1: no linear scaling).
void rope_cache(float* cs, std::int64_t pos, int n_dims, float base, std::span<const float> freq_factors = {},
                float freq_scale = 1.0f) noexcept;

}  // namespace parity
