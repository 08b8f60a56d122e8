// The activation type of each weight type's dot product (ggml's type_traits_cpu[].vec_dot_type).

#include "engine/quant/dot_type.h"

namespace parity {

std::optional<GgmlType> dot_type(GgmlType weight) noexcept {
    switch (weight) {
        case GgmlType::F32: return GgmlType::F32;
        case GgmlType::F16: return GgmlType::F16;
        case GgmlType::BF16: return GgmlType::BF16;
        case GgmlType::Q4_0:
        case GgmlType::Q5_0:
        case GgmlType::Q8_0:
        case GgmlType::IQ4_NL: return GgmlType::Q8_0;
        case GgmlType::Q4_1:
        case GgmlType::Q5_1: return GgmlType::Q8_1;
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K:
        case GgmlType::Q6_K:
        case GgmlType::IQ4_XS: return GgmlType::Q8_K;
        default: return std::nullopt;
    }
}

}  // namespace parity
