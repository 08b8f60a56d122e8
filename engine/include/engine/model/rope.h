#pragma once
// The rotary position embedding's cos/sin table, shared by every backend so that all of them
// rotate by identical values.

#include <cstdint>
#include <span>

namespace parity {

/// cos/sin table of one position: cs[2i] = cos(theta_i), cs[2i+1] = sin(theta_i) for
/// i < n_dims/2, theta_i = pos * base^(-2i/n_dims) / freq_factors[i], computed as ggml does
/// (float theta, multiplied by powf(base, -2/n_dims) step by step, then divided by the factor).
/// `freq_factors` holds n_dims/2 per-pair divisors (Llama 3's rope_freqs.weight) or is empty
/// (all 1: no scaling).
void rope_cache(float* cs, std::int64_t pos, int n_dims, float base,
                std::span<const float> freq_factors = {}) noexcept;

}  // namespace parity
