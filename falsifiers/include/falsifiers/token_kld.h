#pragma once
// The token-distribution statistics of llama.cpp's `llama-perplexity --kl-divergence`, computed
// in double from two paths' logits: the reference's (llama.cpp's base model) and the
// candidate's, at positions whose next token is known.
//
// Per scored position (one row of logits per side, n_vocab floats each):
//   KLD       sum_i p_ref(i) * (log p_ref(i) - log p_cand(i)), from log-softmax in double, in
//             nats. llama.cpp stores the reference's log-probabilities in 16 bits and skips
//             terms with log p_ref <= -16; we keep them all, unrounded.
//   Δp        p_cand(next) - p_ref(next): the change in the probability of the token that
//             actually follows in the text (llama.cpp's Δp).
//   same top  argmax of both rows is the same token (ties: the lowest index, as llama.cpp's
//             strict > scan; NaN is never a maximum).
//
// Over all positions (TokenKldAccumulator::summary), with llama.cpp's formulas:
//   mean KLD ± sqrt((E[k²] - E[k]²) / (n-1))   (uncertainty 0 for n <= 10, as llama.cpp)
//   median KLD (mean of the two middle values for even n), p99 KLD (linear interpolation
//   at 0.99·(n-1) of the sorted values), max KLD;
//   RMS Δp = sqrt(E[Δp²]) ± 0.5/RMS · sqrt((E[Δp⁴] - E[Δp²]²) / (n-1));
//   same top fraction f ± sqrt(f(1-f)/(n-1)).
// A NaN KLD (a NaN logit) makes every KLD statistic NaN; an infinite KLD (the candidate gives
// probability 0 to a token the reference does not) makes the mean, p99 and max infinite as far
// as the order statistics reach it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parity::falsifiers {

/// One scored position.
struct TokenComparison {
    double kld = 0.0;        ///< KL(p_ref || p_cand), nats
    double p_ref = 0.0;      ///< p_ref(next)
    double p_cand = 0.0;     ///< p_cand(next)
    bool same_top = false;   ///< argmax(ref) == argmax(cand)
    std::int64_t top_ref = -1;   ///< argmax of the reference row
    std::int64_t top_cand = -1;  ///< argmax of the candidate row
};

/// Compares one position's logits. `next` is the token that follows (an index into both rows).
/// Throws std::invalid_argument when the rows differ in length, are empty, or `next` is out of
/// range.
TokenComparison compare_token_distributions(std::span<const float> reference, std::span<const float> candidate,
                                            std::int32_t next);

/// Linear-interpolation percentile of sorted values (llama.cpp's): fraction f in [0, 1] reads
/// position f·(n-1). Throws std::invalid_argument for an empty list.
double sorted_percentile(std::span<const double> sorted, double fraction);

/// The median of sorted values (mean of the two middle ones for an even count). Throws
/// std::invalid_argument for an empty list.
double sorted_median(std::span<const double> sorted);

struct TokenKldSummary {
    std::size_t count = 0;          ///< scored positions
    double mean_kld = 0.0;
    double mean_kld_uncertainty = 0.0;
    double median_kld = 0.0;
    double p99_kld = 0.0;
    double max_kld = 0.0;
    std::size_t max_kld_index = 0;  ///< which added position (0-based, in add order) has max_kld
    double rms_dp = 0.0;            ///< a probability (0..1), not percent
    double rms_dp_uncertainty = 0.0;
    double same_top = 0.0;          ///< fraction (0..1)
    double same_top_uncertainty = 0.0;
};

/// Collects TokenComparisons; summary() gives the statistics above.
class TokenKldAccumulator {
public:
    void add(const TokenComparison& c);
    std::size_t count() const noexcept { return kld_.size(); }
    /// Throws std::logic_error when nothing was added.
    TokenKldSummary summary() const;

private:
    std::vector<double> kld_;
    double sum_kld_ = 0.0, sum_kld2_ = 0.0;
    double sum_dp2_ = 0.0, sum_dp4_ = 0.0;
    std::size_t same_top_ = 0;
};

}  // namespace parity::falsifiers
