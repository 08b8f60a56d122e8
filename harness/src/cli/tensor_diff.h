#pragma once
// Element-wise comparison of two equally long f32 tensors (a = first, b = second), for `pv diff`.
//
// Element i is equal when a_i and b_i have the same bits or compare equal (+0 == -0); a NaN on
// either side with other bits on the other is a NaN mismatch (|d| has no value); otherwise
// |d_i| = |a_i - b_i| in double. It is within tolerance when equal, or when neither side is NaN
// or infinite and |d_i| <= atol + rtol * |b_i|.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parity::cli {

struct Tolerance {
    double atol = 0.0;  ///< absolute, >= 0
    double rtol = 0.0;  ///< relative to |b|, >= 0
};

/// One differing element.
struct ElementDiff {
    std::uint64_t index = 0;
    float a = 0.0f;
    float b = 0.0f;
    double abs_diff = 0.0;  ///< |a - b|; NaN for a NaN mismatch
};

struct TensorDiff {
    std::uint64_t count = 0;            ///< elements on each side
    std::uint64_t differing = 0;        ///< elements not equal (as above)
    std::uint64_t outside = 0;          ///< elements outside tolerance (NaN mismatches included)
    std::uint64_t nan_mismatches = 0;   ///< elements with a NaN on one side only, or other NaN bits
    double max_abs_diff = 0.0;          ///< max |d| over the elements that have one (0 when none)
    std::uint64_t max_abs_diff_index = 0;
    double rms_diff = 0.0;              ///< sqrt(mean d^2) over the same elements (0 when none)
    /// a.b / (|a| |b|) over the elements finite on both sides, in double: 1 when both are all
    /// zero there, 0 when exactly one is.
    double cosine = 1.0;
    /// The `top` differing elements (not equal as above), worst first: NaN mismatches first (by
    /// index), then |d| descending, equal |d| by index.
    std::vector<ElementDiff> top;

    bool within_tolerance() const noexcept { return outside == 0; }
};

/// Compares a and b (equal lengths, else std::invalid_argument), keeping the `top` worst elements.
TensorDiff diff_tensors(std::span<const float> a, std::span<const float> b, const Tolerance& tol, std::size_t top);

}  // namespace parity::cli
