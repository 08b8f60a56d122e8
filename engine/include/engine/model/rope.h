#pragma once
// The rotary position embedding's cos/sin table, shared by every backend so that all of them
// rotate by identical values.

#include <cstdint>

namespace parity {

/// cos/sin table of one position: cs[2i] = cos(theta_i), cs[2i+1] = sin(theta_i) for
/// i < n_dims/2, theta_i = pos * base^(-2i/n_dims) computed as ggml does (float theta, multiplied
/// by powf(base, -2/n_dims) step by step).
void rope_cache(float* cs, std::int64_t pos, int n_dims, float base) noexcept;

}  // namespace parity
