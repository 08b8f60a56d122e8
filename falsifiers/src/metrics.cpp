#include "falsifiers/metrics.h"

#include <cmath>
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

}  // namespace parity::falsifiers
