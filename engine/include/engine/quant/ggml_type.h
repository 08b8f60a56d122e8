#pragma once
// ggml's tensor types: the numbering GGUF stores on disk, and each type's block geometry.
//
// A row of n values of type T occupies n / block_size(T) blocks of type_size(T) bytes each;
// n must be a multiple of block_size(T). Ids 4, 5 and 31..33 were retired by ggml and are
// rejected like any unknown id.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parity {

enum class GgmlType : std::uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
};

struct GgmlTypeTraits {
    GgmlType type;
    std::string_view name;    ///< upper-case, as ggml spells it: "F32", "Q4_K", "IQ4_NL"
    std::int64_t block_size;  ///< values per block
    std::size_t type_size;    ///< bytes per block
};

/// Traits of a known type id, or nullopt for an id ggml does not define.
std::optional<GgmlTypeTraits> ggml_type_traits(std::uint32_t id) noexcept;

/// Traits of a type (always known).
const GgmlTypeTraits& traits(GgmlType type) noexcept;

/// The type named `name` (case-insensitive: "q4_k" and "Q4_K" both work), or nullopt.
std::optional<GgmlType> ggml_type_from_name(std::string_view name) noexcept;

inline std::string_view type_name(GgmlType type) noexcept { return traits(type).name; }

/// Bytes of a row of `n` values. Precondition: n % block_size == 0 and n >= 0.
inline std::size_t row_size(GgmlType type, std::int64_t n) noexcept {
    const auto& t = traits(type);
    return static_cast<std::size_t>(n / t.block_size) * t.type_size;
}

}  // namespace parity
