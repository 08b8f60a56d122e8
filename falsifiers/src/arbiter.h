#pragma once
// The arbiter of a two-path comparison (private to the library): an optional third suite path
// (`arbiter:`, typically `backend: f64`) that every reported row consults, so that when the two
// paths disagree the report says which of them is closer to it, and by how much.
//
// Closeness is max |x - arbiter| over the row's values. Each row gains the details
// `arbiter_max_abs_a` and `arbiter_max_abs_b` (a = paths[0], b = paths[1]); the test gains the
// metrics `rows_closer_a` and `rows_closer_b`, and the first failing row's message says which
// side the arbiter sides with.

#include <optional>
#include <span>
#include <string>

#include "common.h"

namespace parity::falsifiers::detail {

/// max |a - arbiter| and max |b - arbiter|; inf where a length differs from the arbiter's.
struct Closeness {
    double a = 0.0;
    double b = 0.0;
    /// Folds another position of the same row in (the larger distance of each side).
    void merge(const Closeness& other) noexcept;
};

Closeness closeness(std::span<const float> a, std::span<const float> b, std::span<const float> arbiter);

/// The `arbiter` parameter of a binding, or nullopt.
std::optional<std::string> arbiter_path(const BoundParams& params);

/// Adds the row's two distances to its details.
void add_arbiter_details(reports::LayerMetric& row, const Closeness& c);

/// "arbiter f64 sides with gguf: max |delta| 3.1e-07 vs 0.12 for apr" (one clause, no period).
std::string arbiter_verdict(const Closeness& c, const PathPair& pp, const std::string& arbiter);

/// Counts the rows closer to each side into the metrics and, when the test failed, appends the
/// verdict of its first failing row (`first`) to the message.
void summarize_arbiter(reports::TestResult& r, const PathPair& pp, const std::string& arbiter,
                       const std::optional<Closeness>& first);

}  // namespace parity::falsifiers::detail
