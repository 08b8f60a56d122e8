// The arbiter of a two-path comparison (arbiter.h).

#include "arbiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "falsifiers/metrics.h"

namespace parity::falsifiers::detail {

namespace {

double distance(std::span<const float> x, std::span<const float> arbiter) {
    if (x.size() != arbiter.size()) return std::numeric_limits<double>::infinity();
    return max_abs_diff(x, arbiter);
}

/// The larger of two distances; NaN (a NaN value) is the largest and sticks.
double worse(double x, double y) noexcept { return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); }

}  // namespace

void Closeness::merge(const Closeness& other) noexcept {
    a = worse(a, other.a);
    b = worse(b, other.b);
}

Closeness closeness(std::span<const float> a, std::span<const float> b, std::span<const float> arbiter) {
    return {distance(a, arbiter), distance(b, arbiter)};
}

std::optional<std::string> arbiter_path(const BoundParams& params) {
    if (const ParamValue* p = params.find("arbiter")) return p->text;
    return std::nullopt;
}

void add_arbiter_details(reports::LayerMetric& row, const Closeness& c) {
    row.details.emplace_back("arbiter_max_abs_a", c.a);
    row.details.emplace_back("arbiter_max_abs_b", c.b);
}

std::string arbiter_verdict(const Closeness& c, const PathPair& pp, const std::string& arbiter) {
    // NaN compares false both ways: neither side is called closer.
    if (!(c.a < c.b) && !(c.b < c.a)) {
        return "arbiter " + arbiter + " sides with neither: max |delta| " + num(c.a) + " for " + pp.a + ", " +
               num(c.b) + " for " + pp.b;
    }
    const bool a_closer = c.a < c.b;
    return "arbiter " + arbiter + " sides with " + (a_closer ? pp.a : pp.b) + ": max |delta| " +
           num(a_closer ? c.a : c.b) + " vs " + num(a_closer ? c.b : c.a) + " for " + (a_closer ? pp.b : pp.a);
}

void summarize_arbiter(reports::TestResult& r, const PathPair& pp, const std::string& arbiter,
                       const std::optional<Closeness>& first) {
    double closer_a = 0, closer_b = 0;
    for (const reports::LayerMetric& m : r.per_layer) {
        double da = NAN, db = NAN;
        for (const auto& [name, value] : m.details) {
            if (name == "arbiter_max_abs_a") da = value;
            if (name == "arbiter_max_abs_b") db = value;
        }
        closer_a += da < db ? 1 : 0;
        closer_b += db < da ? 1 : 0;
    }
    r.metrics.emplace_back("rows_closer_a", closer_a);
    r.metrics.emplace_back("rows_closer_b", closer_b);
    if (r.status == reports::Status::Fail && first) r.message += "; " + arbiter_verdict(*first, pp, arbiter);
}

}  // namespace parity::falsifiers::detail
