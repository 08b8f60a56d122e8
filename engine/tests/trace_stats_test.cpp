// ActivationStats against hand-computed values.

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "engine/trace/activation_stats.h"

namespace parity {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ActivationStats, EmptyInput) {
    const ActivationStats s = compute_stats({});
    EXPECT_EQ(s.count, 0u);
    EXPECT_EQ(s.nan_count, 0u);
    EXPECT_EQ(s.inf_count, 0u);
    EXPECT_EQ(s.zero_count, 0u);
    EXPECT_EQ(s.min, kInf);  // no finite value: min +inf, max -inf (upstream)
    EXPECT_EQ(s.max, -kInf);
    EXPECT_EQ(s.mean, 0.0f);
    EXPECT_EQ(s.std_dev, 0.0f);
}

TEST(ActivationStats, OneToFour) {
    const std::vector<float> v = {1, 2, 3, 4};
    const ActivationStats s = compute_stats(v);
    EXPECT_EQ(s.count, 4u);
    EXPECT_EQ(s.min, 1.0f);
    EXPECT_EQ(s.max, 4.0f);
    EXPECT_FLOAT_EQ(s.mean, 2.5f);
    // sample variance: (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3
    EXPECT_FLOAT_EQ(s.std_dev, static_cast<float>(std::sqrt(5.0 / 3.0)));
    EXPECT_EQ(s.zero_count, 0u);
}

TEST(ActivationStats, SingleValueHasZeroStd) {
    const std::vector<float> v = {-7.5f};
    const ActivationStats s = compute_stats(v);
    EXPECT_EQ(s.count, 1u);
    EXPECT_EQ(s.min, -7.5f);
    EXPECT_EQ(s.max, -7.5f);
    EXPECT_EQ(s.mean, -7.5f);
    EXPECT_EQ(s.std_dev, 0.0f);
}

TEST(ActivationStats, ZerosCountedBothSigns) {
    const std::vector<float> v = {0.0f, -0.0f, 2.0f, 0.0f, -2.0f};
    const ActivationStats s = compute_stats(v);
    EXPECT_EQ(s.count, 5u);
    EXPECT_EQ(s.zero_count, 3u);
    EXPECT_EQ(s.mean, 0.0f);
    // sum of squares 8, n - 1 = 4
    EXPECT_FLOAT_EQ(s.std_dev, std::sqrt(2.0f));
}

TEST(ActivationStats, NanAndInfAreCountedButExcluded) {
    const std::vector<float> v = {kNaN, 1.0f, kInf, 3.0f, -kInf, kNaN, 5.0f};
    const ActivationStats s = compute_stats(v);
    EXPECT_EQ(s.count, 7u);  // count includes NaN and Inf
    EXPECT_EQ(s.nan_count, 2u);
    EXPECT_EQ(s.inf_count, 2u);
    EXPECT_EQ(s.finite_count(), 3u);
    EXPECT_EQ(s.min, 1.0f);
    EXPECT_EQ(s.max, 5.0f);
    EXPECT_FLOAT_EQ(s.mean, 3.0f);
    EXPECT_FLOAT_EQ(s.std_dev, 2.0f);  // (4 + 0 + 4) / 2 = 4
    EXPECT_TRUE(s.has_anomaly());
}

TEST(ActivationStats, OnlyNonFinite) {
    const std::vector<float> v = {kNaN, kInf, -kInf};
    const ActivationStats s = compute_stats(v);
    EXPECT_EQ(s.count, 3u);
    EXPECT_EQ(s.nan_count, 1u);
    EXPECT_EQ(s.inf_count, 2u);
    EXPECT_EQ(s.min, kInf);
    EXPECT_EQ(s.max, -kInf);
    EXPECT_EQ(s.mean, 0.0f);
    EXPECT_EQ(s.std_dev, 0.0f);
}

TEST(ActivationStats, LargeOffsetKeepsPrecision) {
    // 1e6 + {1,2,3,4}: a naive float sum-of-squares would lose the variance entirely.
    const std::vector<float> v = {1000001.0f, 1000002.0f, 1000003.0f, 1000004.0f};
    const ActivationStats s = compute_stats(v);
    EXPECT_FLOAT_EQ(s.mean, 1000002.5f);
    EXPECT_FLOAT_EQ(s.std_dev, static_cast<float>(std::sqrt(5.0 / 3.0)));
}

TEST(ActivationStats, ChunksMergeToTheWholeSample) {
    std::vector<float> v;
    for (int i = 0; i < 1000; ++i) v.push_back(std::sin(static_cast<float>(i)) * 3.0f + 0.5f);
    v[17] = kNaN;
    v[400] = kInf;
    v[401] = 0.0f;
    const ActivationStats whole = compute_stats(v);
    StatsAccumulator acc;
    acc.add(std::span<const float>(v).subspan(0, 1));
    acc.add(std::span<const float>(v).subspan(1, 399));
    StatsAccumulator other;
    other.add(std::span<const float>(v).subspan(400, 600));
    acc.merge(other);
    const ActivationStats merged = acc.finish();
    EXPECT_EQ(merged.count, whole.count);
    EXPECT_EQ(merged.nan_count, 1u);
    EXPECT_EQ(merged.inf_count, 1u);
    EXPECT_EQ(merged.zero_count, whole.zero_count);
    EXPECT_EQ(merged.min, whole.min);
    EXPECT_EQ(merged.max, whole.max);
    EXPECT_FLOAT_EQ(merged.mean, whole.mean);
    EXPECT_FLOAT_EQ(merged.std_dev, whole.std_dev);

    // Against a two-pass double computation (upstream's formula).
    double sum = 0;
    int n = 0;
    for (float x : v) {
        if (std::isfinite(x)) {
            sum += x;
            ++n;
        }
    }
    const double mean = sum / n;
    double ss = 0;
    for (float x : v) {
        if (std::isfinite(x)) ss += (x - mean) * (x - mean);
    }
    EXPECT_FLOAT_EQ(whole.mean, static_cast<float>(mean));
    EXPECT_FLOAT_EQ(whole.std_dev, static_cast<float>(std::sqrt(ss / (n - 1))));
}

TEST(ActivationStats, MergeWithEmptyAndNonFiniteChunks) {
    StatsAccumulator acc;
    const std::vector<float> bad = {kNaN, kNaN};
    const std::vector<float> good = {2.0f, 4.0f};
    acc.add(bad);
    acc.add({});
    acc.add(good);
    const ActivationStats s = acc.finish();
    EXPECT_EQ(s.count, 4u);
    EXPECT_EQ(s.nan_count, 2u);
    EXPECT_EQ(s.min, 2.0f);
    EXPECT_EQ(s.max, 4.0f);
    EXPECT_FLOAT_EQ(s.mean, 3.0f);
    EXPECT_FLOAT_EQ(s.std_dev, std::sqrt(2.0f));
}

}  // namespace
}  // namespace parity
