#include "falsifiers/token_kld.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "falsifiers/metrics.h"

namespace parity::falsifiers {

TokenComparison compare_token_distributions(std::span<const float> reference, std::span<const float> candidate,
                                            std::int32_t next) {
    if (reference.size() != candidate.size()) {
        throw std::invalid_argument("token distributions: rows differ in length (" + std::to_string(reference.size()) +
                                    " vs " + std::to_string(candidate.size()) + ")");
    }
    if (reference.empty()) throw std::invalid_argument("token distributions: empty rows");
    if (next < 0 || static_cast<std::size_t>(next) >= reference.size()) {
        throw std::invalid_argument("token distributions: next token " + std::to_string(next) + " is outside the " +
                                    std::to_string(reference.size()) + "-token vocabulary");
    }
    const std::vector<double> log_ref = log_softmax(reference);
    const std::vector<double> log_cand = log_softmax(candidate);
    TokenComparison c;
    c.kld = kl_divergence_log(log_ref, log_cand);
    const auto n = static_cast<std::size_t>(next);
    c.p_ref = std::exp(log_ref[n]);
    c.p_cand = std::exp(log_cand[n]);
    c.top_ref = top_k(reference, 1).front();
    c.top_cand = top_k(candidate, 1).front();
    c.same_top = c.top_ref == c.top_cand;
    return c;
}

double sorted_percentile(std::span<const double> sorted, double fraction) {
    if (sorted.empty()) throw std::invalid_argument("percentile of no values");
    if (fraction <= 0.0) return sorted.front();
    if (fraction >= 1.0) return sorted.back();
    const double p = fraction * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<std::size_t>(p);
    const double w = p - static_cast<double>(i);
    const double hi = sorted[std::min(i + 1, sorted.size() - 1)];
    if (w == 0.0) return sorted[i];  // never 0 * inf
    return (1.0 - w) * sorted[i] + w * hi;
}

double sorted_median(std::span<const double> sorted) {
    if (sorted.empty()) throw std::invalid_argument("median of no values");
    const std::size_t n = sorted.size();
    return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

void TokenKldAccumulator::add(const TokenComparison& c) {
    kld_.push_back(c.kld);
    sum_kld_ += c.kld;
    sum_kld2_ += c.kld * c.kld;
    const double dp = c.p_cand - c.p_ref;
    sum_dp2_ += dp * dp;
    sum_dp4_ += dp * dp * dp * dp;
    if (c.same_top) ++same_top_;
}

namespace {
/// llama.cpp's mean_and_uncertainty: the mean of n values from their sum and sum of squares,
/// and the standard error sqrt(var / (n-1)) (0 for n <= 10 or a non-positive variance).
std::pair<double, double> mean_and_uncertainty(double sum, double sum2, std::size_t n) {
    const double f = sum / static_cast<double>(n);
    const double var = sum2 / static_cast<double>(n) - f * f;
    const double df = var > 0 && n > 10 ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0;
    return {f, df};
}
}  // namespace

TokenKldSummary TokenKldAccumulator::summary() const {
    if (kld_.empty()) throw std::logic_error("token KLD summary of no positions");
    TokenKldSummary s;
    s.count = kld_.size();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const bool any_nan = std::any_of(kld_.begin(), kld_.end(), [](double v) { return std::isnan(v); });
    if (any_nan) {
        s.mean_kld = s.mean_kld_uncertainty = s.median_kld = s.p99_kld = s.max_kld = nan;
        s.max_kld_index = static_cast<std::size_t>(
            std::find_if(kld_.begin(), kld_.end(), [](double v) { return std::isnan(v); }) - kld_.begin());
    } else {
        const auto [mean, unc] = mean_and_uncertainty(sum_kld_, sum_kld2_, s.count);
        s.mean_kld = mean;
        s.mean_kld_uncertainty = std::isfinite(unc) ? unc : nan;
        std::vector<double> sorted = kld_;
        std::sort(sorted.begin(), sorted.end());
        s.median_kld = sorted_median(sorted);
        s.p99_kld = sorted_percentile(sorted, 0.99);
        s.max_kld = sorted.back();
        s.max_kld_index = static_cast<std::size_t>(std::max_element(kld_.begin(), kld_.end()) - kld_.begin());
    }
    const auto [mse, mse_unc] = mean_and_uncertainty(sum_dp2_, sum_dp4_, s.count);
    s.rms_dp = std::sqrt(mse);
    s.rms_dp_uncertainty = s.rms_dp > 0.0 ? 0.5 / s.rms_dp * mse_unc : 0.0;
    const double n = static_cast<double>(s.count);
    s.same_top = static_cast<double>(same_top_) / n;
    s.same_top_uncertainty = s.count > 1 ? std::sqrt(s.same_top * (1.0 - s.same_top) / (n - 1.0)) : 0.0;
    return s;
}

}  // namespace parity::falsifiers
