#include "falsifiers/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <limits>
#include <stdexcept>
#include <string>

namespace parity::falsifiers {

namespace {
void require_same_length(std::span<const float> a, std::span<const float> b, const char* what) {
    if (a.size() != b.size()) {
        throw std::invalid_argument(std::string(what) + ": lengths differ (" + std::to_string(a.size()) + " vs " +
                                    std::to_string(b.size()) + ")");
    }
}
}  // namespace

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
    require_same_length(a, b, "max_abs_diff");
    double m = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (std::isnan(d)) return std::numeric_limits<double>::quiet_NaN();
        m = std::max(m, d);
    }
    return m;
}

double cosine_similarity(std::span<const float> a, std::span<const float> b) {
    require_same_length(a, b, "cosine_similarity");
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    if (na == 0.0 && nb == 0.0) return 1.0;
    if (na == 0.0 || nb == 0.0) return 0.0;
    return dot / (std::sqrt(na) * std::sqrt(nb));
}

double nmse(std::span<const float> a, std::span<const float> b) {
    require_same_length(a, b, "nmse");
    double err = 0.0, ref = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        err += d * d;
        ref += static_cast<double>(b[i]) * b[i];
    }
    if (ref == 0.0) return err == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    return err / ref;
}

std::vector<double> log_softmax(std::span<const float> v) {
    double mx = -std::numeric_limits<double>::infinity();
    for (const float x : v) {
        if (std::isnan(x)) return std::vector<double>(v.size(), std::numeric_limits<double>::quiet_NaN());
        mx = std::max(mx, static_cast<double>(x));
    }
    std::vector<double> out(v.size());
    if (v.empty()) return out;
    if (std::isinf(mx)) {
        // +inf logits take all the mass (shared equally); everything else is -inf.
        const double n = static_cast<double>(std::count_if(v.begin(), v.end(), [](float x) { return std::isinf(x) && x > 0; }));
        for (std::size_t i = 0; i < v.size(); ++i) {
            out[i] = (std::isinf(v[i]) && v[i] > 0) ? -std::log(n) : -std::numeric_limits<double>::infinity();
        }
        return out;
    }
    double sum = 0.0;
    for (const float x : v) sum += std::exp(static_cast<double>(x) - mx);
    const double lse = mx + std::log(sum);
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<double>(v[i]) - lse;
    return out;
}

double kl_divergence_log(std::span<const double> log_p, std::span<const double> log_q) {
    if (log_p.size() != log_q.size()) {
        throw std::invalid_argument("kl_divergence_log: lengths differ (" + std::to_string(log_p.size()) + " vs " +
                                    std::to_string(log_q.size()) + ")");
    }
    double kl = 0.0;
    for (std::size_t i = 0; i < log_p.size(); ++i) {
        if (std::isnan(log_p[i]) || std::isnan(log_q[i])) return std::numeric_limits<double>::quiet_NaN();
        const double p = std::exp(log_p[i]);
        if (p == 0.0) continue;  // 0 * log(0 / q) = 0
        if (std::isinf(log_q[i])) return std::numeric_limits<double>::infinity();
        kl += p * (log_p[i] - log_q[i]);
    }
    return std::max(kl, 0.0);  // rounding can make an exact 0 slightly negative
}

double kl_divergence(std::span<const float> a, std::span<const float> b) {
    require_same_length(a, b, "kl_divergence");
    return kl_divergence_log(log_softmax(b), log_softmax(a));
}

std::vector<std::int64_t> top_k(std::span<const float> values, std::size_t k) {
    std::vector<std::int64_t> idx(values.size());
    std::iota(idx.begin(), idx.end(), std::int64_t{0});
    k = std::min(k, values.size());
    const auto greater = [&](std::int64_t x, std::int64_t y) {
        const float vx = values[static_cast<std::size_t>(x)];
        const float vy = values[static_cast<std::size_t>(y)];
        const bool nx = std::isnan(vx), ny = std::isnan(vy);
        if (nx != ny) return ny;  // a number beats NaN
        if (!nx && vx != vy) return vx > vy;
        return x < y;
    };
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), greater);
    idx.resize(k);
    return idx;
}

std::size_t top_k_overlap(std::span<const float> a, std::span<const float> b, std::size_t k) {
    require_same_length(a, b, "top_k_overlap");
    const auto ta = top_k(a, k);
    auto tb = top_k(b, k);
    std::sort(tb.begin(), tb.end());
    std::size_t n = 0;
    for (const auto i : ta) n += std::binary_search(tb.begin(), tb.end(), i) ? 1 : 0;
    return n;
}

}  // namespace parity::falsifiers
