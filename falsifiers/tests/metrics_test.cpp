#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "falsifiers/metrics.h"

namespace parity::falsifiers {
namespace {

TEST(Metrics, MaxAbsDiffPicksTheLargestGap) {
    const std::vector<float> a{1.0f, -2.0f, 3.5f};
    const std::vector<float> b{1.5f, -2.0f, 1.0f};
    EXPECT_DOUBLE_EQ(max_abs_diff(a, b), 2.5);
}

TEST(Metrics, MaxAbsDiffIsNanWhenAnyValueIsNan) {
    const std::vector<float> a{1.0f, std::numeric_limits<float>::quiet_NaN()};
    const std::vector<float> b{1.0f, 1.0f};
    EXPECT_TRUE(std::isnan(max_abs_diff(a, b)));
}

TEST(Metrics, CosineOfOrthogonalAndOppositeVectors) {
    EXPECT_DOUBLE_EQ(cosine_similarity(std::vector<float>{1, 0}, std::vector<float>{0, 3}), 0.0);
    EXPECT_DOUBLE_EQ(cosine_similarity(std::vector<float>{1, 2}, std::vector<float>{-2, -4}), -1.0);
    // (3,4)·(4,3) = 24, |a||b| = 25
    EXPECT_DOUBLE_EQ(cosine_similarity(std::vector<float>{3, 4}, std::vector<float>{4, 3}), 24.0 / 25.0);
    EXPECT_DOUBLE_EQ(cosine_similarity(std::vector<float>{0, 0}, std::vector<float>{0, 0}), 1.0);
}

TEST(Metrics, NmseRelativeToReferenceEnergy) {
    // error energy (1^2 + 1^2) = 2 over reference energy (1 + 9) = 10
    EXPECT_DOUBLE_EQ(nmse(std::vector<float>{2, 2}, std::vector<float>{1, 3}), 0.2);
    EXPECT_TRUE(std::isinf(nmse(std::vector<float>{1}, std::vector<float>{0})));
}

TEST(Metrics, LengthMismatchThrows) {
    EXPECT_THROW(max_abs_diff(std::vector<float>{1}, std::vector<float>{1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace parity::falsifiers
