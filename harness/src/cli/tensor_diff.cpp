#include "tensor_diff.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace parity::cli {

namespace {

/// x ranks before y in the top list.
bool worse(const ElementDiff& x, const ElementDiff& y) noexcept {
    const bool xn = std::isnan(x.abs_diff), yn = std::isnan(y.abs_diff);
    if (xn != yn) return xn;
    if (!xn && x.abs_diff != y.abs_diff) return x.abs_diff > y.abs_diff;
    return x.index < y.index;
}

/// Keeps the k worst elements seen: a heap whose front is the best-ranked kept one.
class TopK {
public:
    explicit TopK(std::size_t k) : k_(k) {}

    void offer(const ElementDiff& e) {
        if (k_ == 0) return;
        if (heap_.size() < k_) {
            heap_.push_back(e);
            std::push_heap(heap_.begin(), heap_.end(), worse);
        } else if (worse(e, heap_.front())) {
            std::pop_heap(heap_.begin(), heap_.end(), worse);
            heap_.back() = e;
            std::push_heap(heap_.begin(), heap_.end(), worse);
        }
    }

    std::vector<ElementDiff> take() && {
        std::sort_heap(heap_.begin(), heap_.end(), worse);
        return std::move(heap_);
    }

private:
    std::size_t k_;
    std::vector<ElementDiff> heap_;
};

}  // namespace

TensorDiff diff_tensors(std::span<const float> a, std::span<const float> b, const Tolerance& tol, std::size_t top) {
    if (a.size() != b.size()) throw std::invalid_argument("diff_tensors: the two tensors differ in length");
    TensorDiff r;
    r.count = a.size();
    TopK worst(top);
    double sum_sq = 0.0, dot = 0.0, na = 0.0, nb = 0.0;
    std::uint64_t with_diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float x = a[i], y = b[i];
        const double xd = x, yd = y;
        if (std::isfinite(x) && std::isfinite(y)) {
            dot += xd * yd;
            na += xd * xd;
            nb += yd * yd;
        }
        if (std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y) || x == y) {
            ++with_diff;  // |d| = 0
            continue;
        }
        ++r.differing;
        ElementDiff e{i, x, y, 0.0};
        if (std::isnan(x) || std::isnan(y)) {
            e.abs_diff = std::nan("");
            ++r.nan_mismatches;
            ++r.outside;
        } else {
            e.abs_diff = std::fabs(xd - yd);
            ++with_diff;
            sum_sq += e.abs_diff * e.abs_diff;
            if (e.abs_diff > r.max_abs_diff) {
                r.max_abs_diff = e.abs_diff;
                r.max_abs_diff_index = i;
            }
            const bool finite = std::isfinite(x) && std::isfinite(y);
            if (!finite || !(e.abs_diff <= tol.atol + tol.rtol * std::fabs(yd))) ++r.outside;
        }
        worst.offer(e);
    }
    r.rms_diff = with_diff == 0 ? 0.0 : std::sqrt(sum_sq / static_cast<double>(with_diff));
    if (na == 0.0 && nb == 0.0) {
        r.cosine = 1.0;
    } else if (na == 0.0 || nb == 0.0) {
        r.cosine = 0.0;
    } else {
        r.cosine = dot / std::sqrt(na * nb);  // identical vectors give exactly 1
    }
    r.top = std::move(worst).take();
    return r;
}

}  // namespace parity::cli
