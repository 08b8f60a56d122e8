#pragma once
// Summary statistics of an activation tensor, as upstream realizar's `ActivationStats` defines
// them (docs: DESIGN.md "Traces", UPSTREAM.md "Activation statistics").
//
//   count       every element, NaN and Inf included
//   nan_count   NaN elements;  inf_count  +-Inf elements;  zero_count  elements == 0 (+0 and -0)
//   min, max    over the finite elements only; with no finite element min = +inf, max = -inf
//   mean        mean of the finite elements (0 with none)
//   std_dev     sample standard deviation (divides by n - 1) of the finite elements;
//               0 with fewer than two finite elements
//
// Sums are kept in double; the results are rounded to float once at the end, as upstream stores
// them. Statistics are computed in one pass over the data and can be merged (StatsAccumulator),
// so a trace can feed rows in any grouping and still get the statistics of the whole sample.

#include <cstdint>
#include <span>

namespace parity {

struct ActivationStats {
    std::uint64_t count = 0;
    float min = 0.0f;
    float max = 0.0f;
    float mean = 0.0f;
    float std_dev = 0.0f;
    std::uint64_t nan_count = 0;
    std::uint64_t inf_count = 0;
    std::uint64_t zero_count = 0;

    /// Finite elements: count - nan_count - inf_count.
    std::uint64_t finite_count() const noexcept { return count - nan_count - inf_count; }
    bool has_anomaly() const noexcept { return nan_count != 0 || inf_count != 0; }
};

/// Streaming form: add() any number of spans (or merge() accumulators) and finish() once.
/// Numerically: each add() computes the chunk's sums shifted by its first finite value and the
/// chunks are combined with Chan et al.'s pairwise formula, so no precision is lost to large
/// means.
class StatsAccumulator {
public:
    void add(std::span<const float> values) noexcept;
    void merge(const StatsAccumulator& other) noexcept;
    void clear() noexcept { *this = StatsAccumulator{}; }
    ActivationStats finish() const noexcept;

    std::uint64_t count() const noexcept { return count_; }

    /// The accumulator of a chunk that was summarized elsewhere (the CUDA backend reduces on
    /// the GPU and hands over only these numbers): `count` elements, of which `nan` NaN, `inf`
    /// +-Inf and `zero` equal to 0; min, max, sum and sum of squares (in double) over the
    /// finite ones. The variance comes from the plain sums (sum_sq - sum^2 / n), which loses
    /// precision only when a chunk's mean is ~1e6 times its spread or more.
    static StatsAccumulator from_sums(std::uint64_t count, std::uint64_t nan, std::uint64_t inf, std::uint64_t zero,
                                      float min, float max, double sum, double sum_sq) noexcept;

private:
    std::uint64_t count_ = 0;
    std::uint64_t nan_ = 0;
    std::uint64_t inf_ = 0;
    std::uint64_t zero_ = 0;
    std::uint64_t finite_ = 0;
    float min_ = 0.0f;  // valid when finite_ > 0
    float max_ = 0.0f;
    double mean_ = 0.0;  // of the finite elements
    double m2_ = 0.0;    // sum of squared deviations from mean_
};

/// Statistics of one span (StatsAccumulator over it).
ActivationStats compute_stats(std::span<const float> values) noexcept;

}  // namespace parity
