// ActivationStats: one pass over the data, sums in double, chunks merged pairwise.

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/activation_stats.h"

namespace parity {

namespace {

constexpr int kLanes = 4;

bool is_finite_bits(std::uint32_t bits) noexcept { return (bits & 0x7F800000u) != 0x7F800000u; }

}  // namespace

void StatsAccumulator::add(std::span<const float> values) noexcept {
    const std::size_t n = values.size();
    if (n == 0) return;
    const float* x = values.data();

    // The shift: the first finite value (so deviations are small and no precision is lost).
    std::size_t first = 0;
    while (first < n && !is_finite_bits(std::bit_cast<std::uint32_t>(x[first]))) ++first;

    std::uint64_t nan = 0;
    std::uint64_t inf = 0;
    std::uint64_t zero = 0;
    if (first == n) {
        for (std::size_t i = 0; i < n; ++i) {
            if (std::isnan(x[i])) ++nan; else ++inf;
        }
        count_ += n;
        nan_ += nan;
        inf_ += inf;
        return;
    }

    const float shift = x[first];
    const double dshift = shift;
    double s1[kLanes] = {};
    double s2[kLanes] = {};
    float lo[kLanes] = {shift, shift, shift, shift};
    float hi[kLanes] = {shift, shift, shift, shift};
    std::uint64_t bad[kLanes] = {};    // non-finite
    std::uint64_t nans[kLanes] = {};
    std::uint64_t zeros[kLanes] = {};

    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) {
            const float v = x[i + l];
            const bool finite = is_finite_bits(std::bit_cast<std::uint32_t>(v));
            const float f = finite ? v : shift;
            const double d = static_cast<double>(f) - dshift;
            s1[l] += d;
            s2[l] += d * d;
            lo[l] = f < lo[l] ? f : lo[l];
            hi[l] = f > hi[l] ? f : hi[l];
            bad[l] += finite ? 0u : 1u;
            nans[l] += v != v ? 1u : 0u;
            zeros[l] += v == 0.0f ? 1u : 0u;
        }
    }
    for (; i < n; ++i) {
        const float v = x[i];
        const bool finite = is_finite_bits(std::bit_cast<std::uint32_t>(v));
        const float f = finite ? v : shift;
        const double d = static_cast<double>(f) - dshift;
        s1[0] += d;
        s2[0] += d * d;
        lo[0] = f < lo[0] ? f : lo[0];
        hi[0] = f > hi[0] ? f : hi[0];
        bad[0] += finite ? 0u : 1u;
        nans[0] += v != v ? 1u : 0u;
        zeros[0] += v == 0.0f ? 1u : 0u;
    }

    double S1 = 0.0;
    double S2 = 0.0;
    float mn = shift;
    float mx = shift;
    std::uint64_t nonfinite = 0;
    for (int l = 0; l < kLanes; ++l) {
        S1 += s1[l];
        S2 += s2[l];
        mn = lo[l] < mn ? lo[l] : mn;
        mx = hi[l] > mx ? hi[l] : mx;
        nonfinite += bad[l];
        nan += nans[l];
        zero += zeros[l];
    }
    inf = nonfinite - nan;

    StatsAccumulator chunk;
    chunk.count_ = n;
    chunk.nan_ = nan;
    chunk.inf_ = inf;
    chunk.zero_ = zero;
    chunk.finite_ = n - nonfinite;
    chunk.min_ = mn;
    chunk.max_ = mx;
    const double nf = static_cast<double>(chunk.finite_);
    chunk.mean_ = dshift + S1 / nf;
    chunk.m2_ = std::max(0.0, S2 - S1 * S1 / nf);
    merge(chunk);
}

void StatsAccumulator::merge(const StatsAccumulator& o) noexcept {
    if (o.finite_ > 0) {
        if (finite_ == 0) {
            min_ = o.min_;
            max_ = o.max_;
            mean_ = o.mean_;
            m2_ = o.m2_;
        } else {
            const double na = static_cast<double>(finite_);
            const double nb = static_cast<double>(o.finite_);
            const double n = na + nb;
            const double delta = o.mean_ - mean_;
            mean_ += delta * (nb / n);
            m2_ += o.m2_ + delta * delta * (na * nb / n);
            min_ = o.min_ < min_ ? o.min_ : min_;
            max_ = o.max_ > max_ ? o.max_ : max_;
        }
    }
    count_ += o.count_;
    nan_ += o.nan_;
    inf_ += o.inf_;
    zero_ += o.zero_;
    finite_ += o.finite_;
}

ActivationStats StatsAccumulator::finish() const noexcept {
    ActivationStats s;
    s.count = count_;
    s.nan_count = nan_;
    s.inf_count = inf_;
    s.zero_count = zero_;
    if (finite_ == 0) {
        s.min = std::numeric_limits<float>::infinity();
        s.max = -std::numeric_limits<float>::infinity();
        return s;
    }
    s.min = min_;
    s.max = max_;
    s.mean = static_cast<float>(mean_);
    s.std_dev = finite_ < 2 ? 0.0f : static_cast<float>(std::sqrt(m2_ / static_cast<double>(finite_ - 1)));
    return s;
}

ActivationStats compute_stats(std::span<const float> values) noexcept {
    StatsAccumulator acc;
    acc.add(values);
    return acc.finish();
}

}  // namespace parity
