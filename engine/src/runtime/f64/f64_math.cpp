// The f64 backend's element-wise math (f64_math.h).

#include "f64_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace parity::f64 {

void rms_norm(const double* x, const float* w, double* y, std::int64_t n, double eps) noexcept {
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
    const double scale = 1.0 / std::sqrt(sum / static_cast<double>(n) + eps);
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * static_cast<double>(w[i]);
}

void rope_table(double* cs, std::int64_t pos, int head_dim, double base, std::span<const float> freq_factors,
                double freq_scale) noexcept {
    for (int i = 0; i < head_dim / 2; ++i) {
        const double ff = freq_factors.empty() ? 1.0 : static_cast<double>(freq_factors[static_cast<std::size_t>(i)]);
        const double theta = static_cast<double>(pos) * std::pow(base, -2.0 * i / head_dim);
        const double t = freq_scale * (theta / ff);
        cs[2 * i] = std::cos(t);
        cs[2 * i + 1] = std::sin(t);
    }
}

void rope(double* x, int n_heads, int head_dim, const double* cs, RopeType type) noexcept {
    const int half = head_dim / 2;
    for (int h = 0; h < n_heads; ++h) {
        double* v = x + static_cast<std::int64_t>(h) * head_dim;
        for (int i = 0; i < half; ++i) {
            const double c = cs[2 * i];
            const double s = cs[2 * i + 1];
            double& a = type == RopeType::Neox ? v[i] : v[2 * i];
            double& b = type == RopeType::Neox ? v[i + half] : v[2 * i + 1];
            const double x0 = a;
            const double x1 = b;
            a = x0 * c - x1 * s;
            b = x0 * s + x1 * c;
        }
    }
}

void softmax(double* s, std::int64_t n) noexcept {
    double max = -std::numeric_limits<double>::infinity();
    for (std::int64_t i = 0; i < n; ++i) max = std::max(max, s[i]);
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        s[i] = std::exp(s[i] - max);
        sum += s[i];
    }
    for (std::int64_t i = 0; i < n; ++i) s[i] /= sum;
}

double silu(double x) noexcept { return x / (1.0 + std::exp(-x)); }

double gelu(double x) noexcept {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

}  // namespace parity::f64
