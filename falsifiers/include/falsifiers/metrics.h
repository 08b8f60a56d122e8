#pragma once
// Comparison metrics between two equally long vectors (a = candidate, b = reference).
// All sums are in double. Throws std::invalid_argument when the lengths differ.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parity::falsifiers {

/// max_i |a_i - b_i|; NaN when any element of either side is NaN.
double max_abs_diff(std::span<const float> a, std::span<const float> b);

/// a·b / (|a| |b|); 1 when both are all zero, 0 when exactly one is.
double cosine_similarity(std::span<const float> a, std::span<const float> b);

/// Normalized mean squared error sum (a_i - b_i)^2 / sum b_i^2; 0 when both are all zero,
/// +inf when only the reference is.
double nmse(std::span<const float> a, std::span<const float> b);

/// log(softmax(v)) in double, stable for large logits: v_i - max - log(sum exp(v_j - max)).
/// Every entry NaN when any value is NaN; +inf logits share all the mass (others -inf).
std::vector<double> log_softmax(std::span<const float> v);

/// KL(p || q) = sum p_i (log p_i - log q_i) from log-probabilities (log_softmax), in nats:
/// terms with p_i = 0 count 0; +inf when q_i = 0 where p_i > 0; NaN when any entry is NaN.
/// Throws std::invalid_argument when the lengths differ.
double kl_divergence_log(std::span<const double> log_p, std::span<const double> log_q);

/// KL(softmax(b) || softmax(a)): how far the candidate's distribution a is from the reference's
/// b, in nats, from log-softmax in double (no underflow for large logits). 0 for identical
/// logits; +inf when a logit is infinite on one side only; NaN when any logit is NaN.
double kl_divergence(std::span<const float> a, std::span<const float> b);

/// The indices of the k largest values, largest first (equal values: lower index first; NaN
/// never counts as large). k is clamped to the length.
std::vector<std::int64_t> top_k(std::span<const float> values, std::size_t k);

/// How many of a's top-k indices are among b's top-k indices (0..k).
std::size_t top_k_overlap(std::span<const float> a, std::span<const float> b, std::size_t k);

}  // namespace parity::falsifiers
