// Value helpers and the small queries of gguf::File that do not parse.

#include <algorithm>
#include <limits>

#include "engine/error.h"
#include "engine/format/gguf.h"
#include "engine/quant/quant.h"

namespace parity::gguf {

std::string_view value_type_name(ValueType t) noexcept {
    switch (t) {
        case ValueType::U8: return "u8";
        case ValueType::I8: return "i8";
        case ValueType::U16: return "u16";
        case ValueType::I16: return "i16";
        case ValueType::U32: return "u32";
        case ValueType::I32: return "i32";
        case ValueType::F32: return "f32";
        case ValueType::BOOL: return "bool";
        case ValueType::STRING: return "str";
        case ValueType::ARRAY: return "arr";
        case ValueType::U64: return "u64";
        case ValueType::I64: return "i64";
        case ValueType::F64: return "f64";
    }
    return "?";
}

ValueType Value::type() const noexcept {
    // The variant's alternatives are declared in GGUF's type-id order up to ARRAY, then
    // U64, I64, F64 — exactly ids 0..12.
    return static_cast<ValueType>(v.index());
}

std::optional<std::int64_t> Value::as_int() const noexcept {
    return std::visit(
        [](const auto& x) -> std::optional<std::int64_t> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool> || !std::is_integral_v<T>) {
                return std::nullopt;
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
                if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
                return static_cast<std::int64_t>(x);
            } else {
                return static_cast<std::int64_t>(x);
            }
        },
        v);
}

std::optional<double> Value::as_number() const noexcept {
    return std::visit(
        [](const auto& x) -> std::optional<double> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool> || !std::is_arithmetic_v<T>) {
                return std::nullopt;
            } else {
                return static_cast<double>(x);
            }
        },
        v);
}

// A zero dimension gives 0 before any product is formed; the reader checks that the product of
// the non-zero dimensions fits int64, so the products below cannot overflow.
std::int64_t TensorInfo::n_elements() const noexcept {
    if (std::find(ne.begin(), ne.end(), 0) != ne.end()) return 0;
    std::int64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
}

std::int64_t TensorInfo::n_rows() const noexcept {
    if (ne.size() > 1 && std::find(ne.begin() + 1, ne.end(), 0) != ne.end()) return 0;
    std::int64_t n = 1;
    for (std::size_t i = 1; i < ne.size(); ++i) n *= ne[i];
    return n;
}

const Value* File::find(std::string_view key) const noexcept {
    auto it = key_index_.find(key);
    return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view name) const noexcept {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(std::string_view name) const {
    const TensorInfo* t = find_tensor(name);
    if (t == nullptr) throw UsageError(path_ + ": no tensor named '" + std::string(name) + "'");
    return *t;
}

namespace {

[[noreturn]] void missing_key(const std::string& path, std::string_view key, std::string_view expected) {
    throw FormatError(path, 0, "metadata key '" + std::string(key) + "' is missing or not " + std::string(expected));
}

}  // namespace

std::string File::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr || v->as_string() == nullptr) missing_key(path_, key, "a string");
    return *v->as_string();
}

std::int64_t File::get_int(std::string_view key) const {
    const Value* v = find(key);
    auto i = v ? v->as_int() : std::nullopt;
    if (!i) missing_key(path_, key, "an integer");
    return *i;
}

double File::get_number(std::string_view key) const {
    const Value* v = find(key);
    auto d = v ? v->as_number() : std::nullopt;
    if (!d) missing_key(path_, key, "a number");
    return *d;
}

std::span<const std::byte> File::tensor_data(const TensorInfo& t) const noexcept {
    return bytes_.subspan(data_offset_ + t.offset, t.n_bytes);
}

std::vector<float> File::dequantize(const TensorInfo& t) const {
    if (!can_dequantize(t.type)) {
        throw UsageError(path_ + ": tensor '" + t.name + "' has type " + std::string(type_name(t.type)) +
                         ", which cannot be dequantized");
    }
    // An empty tensor may still claim ~2^63 rows of nothing: never loop over them.
    if (t.n_elements() == 0) return {};
    std::vector<float> out(static_cast<std::size_t>(t.n_elements()));
    const auto data = tensor_data(t);
    const std::size_t row_bytes = row_size(t.type, t.ne[0]);
    const auto row_len = static_cast<std::size_t>(t.ne[0]);
    for (std::int64_t r = 0; r < t.n_rows(); ++r) {
        const auto ur = static_cast<std::size_t>(r);
        dequantize_row(t.type, data.subspan(ur * row_bytes, row_bytes),
                       std::span<float>(out).subspan(ur * row_len, row_len));
    }
    return out;
}

}  // namespace parity::gguf
