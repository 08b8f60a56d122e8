#pragma once
// Comparison metrics between two equally long vectors (a = candidate, b = reference).
// All sums are in double. Throws std::invalid_argument when the lengths differ.

#include <span>

namespace parity::falsifiers {

/// max_i |a_i - b_i|; NaN when any element of either side is NaN.
double max_abs_diff(std::span<const float> a, std::span<const float> b);

/// a·b / (|a| |b|); 1 when both are all zero, 0 when exactly one is.
double cosine_similarity(std::span<const float> a, std::span<const float> b);

/// Normalized mean squared error sum (a_i - b_i)^2 / sum b_i^2; 0 when both are all zero,
/// +inf when only the reference is.
double nmse(std::span<const float> a, std::span<const float> b);

}  // namespace parity::falsifiers
