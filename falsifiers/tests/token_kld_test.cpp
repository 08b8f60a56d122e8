// llama.cpp's KL-divergence statistics (falsifiers/token_kld.h) against values worked out by hand.

#include "falsifiers/token_kld.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace parity::falsifiers {
namespace {

TEST(TokenKld, OnePositionAgainstTheClosedForm) {
    // Reference logits [0, 1]: p = [1/(1+e), e/(1+e)]. Candidate [0, 0]: p = [1/2, 1/2].
    const std::vector<float> ref = {0.0f, 1.0f};
    const std::vector<float> cand = {0.0f, 0.0f};
    const double e = std::exp(1.0);
    const double p0 = 1.0 / (1.0 + e), p1 = e / (1.0 + e);
    const TokenComparison c = compare_token_distributions(ref, cand, /*next=*/1);
    EXPECT_NEAR(c.kld, p0 * std::log(p0 / 0.5) + p1 * std::log(p1 / 0.5), 1e-15);
    EXPECT_NEAR(c.p_ref, p1, 1e-15);
    EXPECT_NEAR(c.p_cand, 0.5, 1e-15);
    EXPECT_EQ(c.top_ref, 1);
    EXPECT_EQ(c.top_cand, 0);  // a tie goes to the lower index, as llama.cpp's strict > scan
    EXPECT_FALSE(c.same_top);
    // The other direction is a different number: KL is not symmetric.
    const TokenComparison r = compare_token_distributions(cand, ref, 0);
    EXPECT_NEAR(r.kld, 0.5 * std::log(0.5 / p0) + 0.5 * std::log(0.5 / p1), 1e-15);
    EXPECT_GT(std::fabs(r.kld - c.kld), 1e-3);
}

TEST(TokenKld, LargeLogitsAreStableAndShiftInvariant) {
    // A naive exp(1001) overflows; softmax only sees differences.
    const std::vector<float> ref = {1000.0f, 1001.0f, 998.0f};
    const std::vector<float> cand = {0.0f, 1.0f, -2.0f};
    const TokenComparison c = compare_token_distributions(ref, cand, 2);
    EXPECT_NEAR(c.kld, 0.0, 1e-12);
    EXPECT_TRUE(c.same_top);
    EXPECT_NEAR(c.p_ref, c.p_cand, 1e-12);
    EXPECT_NEAR(c.p_ref, std::exp(-3.0) / (std::exp(-1.0) + 1.0 + std::exp(-3.0)), 1e-12);
}

TEST(TokenKld, ZeroProbabilityAndNaN) {
    const float inf = std::numeric_limits<float>::infinity();
    // The candidate rules out a token the reference gives mass: KL is infinite.
    EXPECT_TRUE(std::isinf(compare_token_distributions(std::vector<float>{0, 0}, std::vector<float>{-inf, 0}, 1).kld));
    // The reference rules it out: that term is 0 * log(0/q) = 0; KL = 1 * log(1 / 0.5).
    EXPECT_NEAR(compare_token_distributions(std::vector<float>{-inf, 0}, std::vector<float>{0, 0}, 1).kld, std::log(2.0),
                1e-15);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(compare_token_distributions(std::vector<float>{0, nan}, std::vector<float>{0, 0}, 0).kld));
}

TEST(TokenKld, BadRowsThrow) {
    EXPECT_THROW(compare_token_distributions(std::vector<float>{0, 0}, std::vector<float>{0}, 0), std::invalid_argument);
    EXPECT_THROW(compare_token_distributions(std::vector<float>{}, std::vector<float>{}, 0), std::invalid_argument);
    EXPECT_THROW(compare_token_distributions(std::vector<float>{0, 0}, std::vector<float>{0, 0}, 2), std::invalid_argument);
    EXPECT_THROW(compare_token_distributions(std::vector<float>{0, 0}, std::vector<float>{0, 0}, -1), std::invalid_argument);
}

TEST(TokenKld, PercentileAndMedianAsLlamaCpp) {
    const std::vector<double> four = {1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(sorted_percentile(four, 0.5), 2.5);  // position 1.5
    EXPECT_DOUBLE_EQ(sorted_percentile(four, 0.0), 1.0);
    EXPECT_DOUBLE_EQ(sorted_percentile(four, 1.0), 4.0);
    EXPECT_NEAR(sorted_percentile(four, 0.99), 3.97, 1e-12);  // position 2.97
    EXPECT_DOUBLE_EQ(sorted_median(four), 2.5);
    EXPECT_DOUBLE_EQ(sorted_median(std::vector<double>{1, 2, 7}), 2.0);
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_DOUBLE_EQ(sorted_percentile(std::vector<double>{1, 2, inf}, 0.5), 2.0);  // never 0 * inf
    EXPECT_THROW(sorted_percentile(std::vector<double>{}, 0.5), std::invalid_argument);
    EXPECT_THROW(sorted_median(std::vector<double>{}), std::invalid_argument);
}

TEST(TokenKld, SummaryOfTwelvePositions) {
    // KLD 1..12 (added out of order), Δp 0.1 for six positions and 0.3 for six, same top 9 of 12.
    const std::vector<double> klds = {3, 12, 1, 7, 5, 9, 2, 11, 4, 6, 10, 8};
    TokenKldAccumulator acc;
    for (std::size_t i = 0; i < klds.size(); ++i) {
        TokenComparison c;
        c.kld = klds[i];
        c.p_ref = 0.5;
        c.p_cand = 0.5 + (i % 2 == 0 ? 0.1 : -0.3);
        c.same_top = i >= 3;
        acc.add(c);
    }
    const TokenKldSummary s = acc.summary();
    EXPECT_EQ(s.count, 12u);
    EXPECT_DOUBLE_EQ(s.mean_kld, 6.5);
    // Population variance of 1..12 is (12² - 1)/12; the standard error divides by n - 1.
    EXPECT_NEAR(s.mean_kld_uncertainty, std::sqrt(143.0 / 12.0 / 11.0), 1e-12);
    EXPECT_DOUBLE_EQ(s.median_kld, 6.5);
    EXPECT_NEAR(s.p99_kld, 11.0 + 0.89, 1e-12);  // position 0.99 * 11 = 10.89
    EXPECT_DOUBLE_EQ(s.max_kld, 12.0);
    EXPECT_EQ(s.max_kld_index, 1u);
    // E[Δp²] = (0.01 + 0.09)/2 = 0.05; E[Δp⁴] = (1e-4 + 8.1e-3)/2 = 0.0041.
    EXPECT_NEAR(s.rms_dp, std::sqrt(0.05), 1e-12);
    EXPECT_NEAR(s.rms_dp_uncertainty, 0.5 / std::sqrt(0.05) * std::sqrt((0.0041 - 0.0025) / 11.0), 1e-9);
    EXPECT_DOUBLE_EQ(s.same_top, 0.75);
    EXPECT_NEAR(s.same_top_uncertainty, std::sqrt(0.75 * 0.25 / 11.0), 1e-12);
}

TEST(TokenKld, FewPositionsHaveNoUncertaintyAndNaNSpoilsTheKld) {
    TokenKldAccumulator acc;
    EXPECT_THROW((void)acc.summary(), std::logic_error);
    TokenComparison c;
    c.kld = 1.0;
    acc.add(c);
    c.kld = 3.0;
    acc.add(c);
    auto s = acc.summary();
    EXPECT_DOUBLE_EQ(s.mean_kld, 2.0);
    EXPECT_DOUBLE_EQ(s.mean_kld_uncertainty, 0.0);  // llama.cpp: none for 10 values or fewer
    EXPECT_DOUBLE_EQ(s.rms_dp, 0.0);
    EXPECT_DOUBLE_EQ(s.rms_dp_uncertainty, 0.0);
    c.kld = std::numeric_limits<double>::quiet_NaN();
    acc.add(c);
    s = acc.summary();
    EXPECT_TRUE(std::isnan(s.mean_kld));
    EXPECT_TRUE(std::isnan(s.median_kld));
    EXPECT_TRUE(std::isnan(s.p99_kld));
    EXPECT_TRUE(std::isnan(s.max_kld));
    EXPECT_EQ(s.max_kld_index, 2u);
}

}  // namespace
}  // namespace parity::falsifiers
