// APR v2 dtype bytes (aprender's TensorDType, GH-438 ids) and their byte sizes.

#include <algorithm>

#include "engine/format/apr.h"

namespace parity::apr {

namespace {

constexpr std::uint64_t kAprQ4Block = 32;       // values per AprQ4 block
constexpr std::uint64_t kAprQ4BlockBytes = 18;  // f16 scale + 16 nibble bytes
constexpr std::uint64_t kAprQ8ScaleBytes = 4;   // one f32 scale

bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
    return __builtin_mul_overflow(a, b, &out);
}

}  // namespace

std::optional<DType> dtype_from_byte(std::uint8_t byte) noexcept {
    switch (byte) {
        case 0: return DType::F32;
        case 1: return DType::F16;
        case 3: return DType::F64;
        case 4: return DType::I32;
        case 5: return DType::I64;
        case 6: return DType::I8;
        case 7: return DType::U8;
        case 8:  // legacy AprQ4 id (before GH-438), still read by aprender
        case 128: return DType::AprQ4;
        case 9:  // legacy AprQ8 id
        case 129: return DType::AprQ8;
        case 12: return DType::Q4_K;
        case 14: return DType::Q6_K;
        case 30: return DType::BF16;
        default: return std::nullopt;
    }
}

std::string_view dtype_name(DType t) noexcept {
    switch (t) {
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::F64: return "F64";
        case DType::I32: return "I32";
        case DType::I64: return "I64";
        case DType::I8: return "I8";
        case DType::U8: return "U8";
        case DType::Q4_K: return "Q4_K";
        case DType::Q6_K: return "Q6_K";
        case DType::BF16: return "BF16";
        case DType::AprQ4: return "AprQ4";
        case DType::AprQ8: return "AprQ8";
    }
    return "unknown";
}

std::optional<GgmlType> to_ggml(DType t) noexcept {
    switch (t) {
        case DType::F32: return GgmlType::F32;
        case DType::F16: return GgmlType::F16;
        case DType::BF16: return GgmlType::BF16;
        case DType::Q4_K: return GgmlType::Q4_K;
        case DType::Q6_K: return GgmlType::Q6_K;
        case DType::F64: return GgmlType::F64;
        case DType::I32: return GgmlType::I32;
        case DType::I64: return GgmlType::I64;
        case DType::I8: return GgmlType::I8;
        case DType::U8:
        case DType::AprQ4:
        case DType::AprQ8: return std::nullopt;
    }
    return std::nullopt;
}

std::optional<DType> from_ggml(GgmlType t) noexcept {
    switch (t) {
        case GgmlType::F32: return DType::F32;
        case GgmlType::F16: return DType::F16;
        case GgmlType::BF16: return DType::BF16;
        case GgmlType::Q4_K: return DType::Q4_K;
        case GgmlType::Q6_K: return DType::Q6_K;
        case GgmlType::F64: return DType::F64;
        case GgmlType::I32: return DType::I32;
        case GgmlType::I64: return DType::I64;
        case GgmlType::I8: return DType::I8;
        default: return std::nullopt;
    }
}

bool is_quantized(DType t) noexcept {
    return t == DType::Q4_K || t == DType::Q6_K || t == DType::AprQ4 || t == DType::AprQ8;
}

std::int64_t row_block_size(DType t) noexcept {
    if (t == DType::Q4_K || t == DType::Q6_K) return traits(*to_ggml(t)).block_size;
    return 1;
}

std::optional<std::uint64_t> byte_size(DType t, std::int64_t ne0, std::int64_t n_elements) noexcept {
    if (n_elements < 0 || ne0 < 0) return std::nullopt;
    const auto n = static_cast<std::uint64_t>(n_elements);
    std::uint64_t bytes = 0;
    switch (t) {
        case DType::AprQ4: {
            const std::uint64_t blocks = n / kAprQ4Block + (n % kAprQ4Block != 0 ? 1 : 0);
            if (mul_overflows(blocks, kAprQ4BlockBytes, bytes)) return std::nullopt;
            return bytes;
        }
        case DType::AprQ8:
            if (n == 0) return 0;  // aprender writes nothing for an empty tensor
            if (n > UINT64_MAX - kAprQ8ScaleBytes) return std::nullopt;
            return n + kAprQ8ScaleBytes;
        case DType::U8: return n;
        default: break;
    }
    const auto& tr = traits(*to_ggml(t));
    if (ne0 % tr.block_size != 0) return std::nullopt;
    if (mul_overflows(n / static_cast<std::uint64_t>(tr.block_size), tr.type_size, bytes)) return std::nullopt;
    return bytes;
}

std::int64_t TensorInfo::n_elements() const noexcept {
    // The reader and the writer check that the product of the non-zero dims fits int64.
    if (std::find(ne.begin(), ne.end(), 0) != ne.end()) return 0;
    std::int64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
}

std::int64_t TensorInfo::row_length() const noexcept { return ne.empty() ? 1 : ne[0]; }

}  // namespace parity::apr
