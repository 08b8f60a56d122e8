#pragma once
// The type an activation row is converted to before it is multiplied with a weight row of a given
// type, as ggml's CPU backend does for mul_mat. Both backends' `ggml` matmul policy use it.

#include <optional>

#include "engine/quant/ggml_type.h"

namespace parity {

/// The activation type ggml's CPU converts to for `weight` (type_traits_cpu[].vec_dot_type):
/// F32 -> F32, F16 -> F16, BF16 -> BF16, Q4_0/Q5_0/Q8_0/IQ4_NL -> Q8_0, Q4_1/Q5_1 -> Q8_1,
/// Q2_K..Q6_K/IQ4_XS -> Q8_K; nullopt when there is no dot product for `weight`.
std::optional<GgmlType> dot_type(GgmlType weight) noexcept;

}  // namespace parity
