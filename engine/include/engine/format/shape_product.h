#pragma once
// The element count of a tensor shape, built one dimension at a time, with the overflow rule
// both formats' readers and writers apply: the product of the non-zero dimensions must fit int64.
// Then every partial product, the element count and the row count fit too, also when a zero
// dimension makes the tensor empty (an empty [0, 2^40, 2^40] still has 2^80 rows of nothing).

#include <cstdint>
#include <limits>

namespace parity {

class ShapeProduct {
public:
    /// Multiplies in one dimension (at most 2^63-1); false, leaving the product unchanged, when
    /// the product of the non-zero dimensions would exceed 2^63-1.
    bool times(std::uint64_t dim) noexcept {
        if (dim == 0) {
            empty_ = true;
            return true;
        }
        if (nonzero_ > kMax / dim) return false;
        nonzero_ *= dim;
        return true;
    }
    /// The element count: 0 when a dimension was 0.
    std::int64_t elements() const noexcept { return empty_ ? 0 : static_cast<std::int64_t>(nonzero_); }

private:
    static constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t nonzero_ = 1;
    bool empty_ = false;
};

}  // namespace parity
