#pragma once
// GGUF (llama.cpp's model format), versions 2 and 3, little-endian.
//
// On-disk layout (all integers little-endian; "str" = u64 length + that many UTF-8 bytes,
// no terminator):
//
//   1. header
//        u32  magic            "GGUF" (0x46554747)
//        u32  version          2 or 3 (1 used u32 counts and is not supported)
//        u64  n_tensors
//        u64  n_kv
//   2. n_kv metadata pairs
//        str  key              unique within the file
//        u32  value_type       0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (1 byte,
//                              0 or 1), 8 str, 9 array, 10 u64, 11 i64, 12 f64
//        ...  value            an array is: u32 element_type, u64 count, count values
//                              (arrays of arrays nest the same way)
//   3. n_tensors tensor infos
//        str  name             unique within the file, at most 63 bytes in ggml
//        u32  n_dims           1..4
//        u64  ne[n_dims]       ne[0] is the fastest-varying (row length); ne[0] is a
//                              multiple of the type's block size
//        u32  type             a GgmlType id
//        u64  offset           from the start of the data section; a multiple of alignment
//   4. zero padding to a multiple of `alignment` (metadata `general.alignment`, u32, a power
//      of two; 32 when absent)
//   5. the data section: each tensor's bytes at its offset (ggml writes them packed in
//      info order, each padded to the alignment)
//
// The reader memory-maps the file and validates every count, length, shape, offset and
// alignment before use; anything malformed throws FormatError naming the file and the
// byte offset of the offending field.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/quant/ggml_type.h"
#include "engine/mapped_file.h"

namespace parity::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr std::uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

enum class ValueType : std::uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

/// Lower-case name as ggml prints it: "u8", "str", "arr", ...
std::string_view value_type_name(ValueType t) noexcept;

struct Value;

/// A typed array; `type` is kept so empty arrays round-trip with their element type.
struct Array {
    ValueType type = ValueType::U8;
    std::vector<Value> items;
};

/// One metadata value. The variant alternative fixes the GGUF value type.
struct Value {
    using Storage = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t,
                                 std::int32_t, float, bool, std::string, Array, std::uint64_t, std::int64_t,
                                 double>;
    Storage v;

    Value() = default;
    template <typename T>
        requires std::is_constructible_v<Storage, T&&>
    Value(T&& x) : v(std::forward<T>(x)) {}  // NOLINT: implicit by design
    Value(const char* s) : v(std::string(s)) {}

    ValueType type() const noexcept;
    /// The value as a signed integer when it is any integer type (and fits), else nullopt.
    std::optional<std::int64_t> as_int() const noexcept;
    /// The value as a double when it is numeric (integer or float), else nullopt.
    std::optional<double> as_number() const noexcept;
    const std::string* as_string() const noexcept { return std::get_if<std::string>(&v); }
    const Array* as_array() const noexcept { return std::get_if<Array>(&v); }

    friend bool operator==(const Value&, const Value&) = default;
};

inline bool operator==(const Array& a, const Array& b) { return a.type == b.type && a.items == b.items; }

/// Metadata in file order (GGUF keys are ordered; writers keep the order).
struct MetadataEntry {
    std::string key;
    Value value;
};

/// A tensor's description. ne[0] is the fastest-varying dimension (ggml order).
struct TensorInfo {
    std::string name;
    GgmlType type = GgmlType::F32;
    std::vector<std::int64_t> ne;
    std::uint64_t offset = 0;  ///< from the start of the data section
    std::uint64_t n_bytes = 0; ///< row_size(type, ne[0]) * ne[1] * ne[2] * ne[3]

    std::int64_t n_elements() const noexcept;
    /// Rows of ne[0] values: ne[1] * ne[2] * ne[3].
    std::int64_t n_rows() const noexcept;
};

/// A validated, memory-mapped GGUF file. Tensor data are views into the mapping and live
/// as long as this object.
class File {
public:
    /// Opens and validates `path`. Throws IoError or FormatError.
    static File open(const std::string& path);

    /// Parses an in-memory image (used by tests and fuzzers); `name` appears in errors.
    /// The bytes must outlive the returned object.
    static File parse(std::span<const std::byte> bytes, const std::string& name);

    const std::string& path() const noexcept { return path_; }
    std::uint32_t version() const noexcept { return version_; }
    std::uint32_t alignment() const noexcept { return alignment_; }
    std::uint64_t data_offset() const noexcept { return data_offset_; }
    std::uint64_t file_size() const noexcept { return bytes_.size(); }

    const std::vector<MetadataEntry>& metadata() const noexcept { return metadata_; }
    const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }

    /// The value of `key`, or nullptr.
    const Value* find(std::string_view key) const noexcept;
    /// The tensor named `name`, or nullptr.
    const TensorInfo* find_tensor(std::string_view name) const noexcept;
    /// The tensor named `name`; throws UsageError naming the file when absent.
    const TensorInfo& tensor(std::string_view name) const;

    /// Typed metadata access; throws FormatError when the key is missing or of another type.
    std::string get_string(std::string_view key) const;
    std::int64_t get_int(std::string_view key) const;
    double get_number(std::string_view key) const;

    /// The raw bytes of a tensor (n_bytes long).
    std::span<const std::byte> tensor_data(const TensorInfo& t) const noexcept;

    /// A tensor dequantized to f32, ne[0] fastest. Throws UsageError for unsupported types.
    std::vector<float> dequantize(const TensorInfo& t) const;

private:
    File() = default;

    std::optional<MappedFile> mapping_;
    std::span<const std::byte> bytes_;
    std::string path_;
    std::uint32_t version_ = 0;
    std::uint32_t alignment_ = kDefaultAlignment;
    std::uint64_t data_offset_ = 0;
    std::vector<MetadataEntry> metadata_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, std::size_t, std::less<>> key_index_;
    std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace parity::gguf
