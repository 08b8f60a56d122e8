// GGUF parsing and validation (layout in engine/format/gguf.h). Checks follow ggml's gguf.cpp
// (counts against the bytes left, duplicate keys and names, power-of-two alignment, shape
// overflow) and add two of our own: tensor data must lie inside the file and must not overlap.

#include <algorithm>
#include <bit>
#include <limits>

#include "byte_cursor.h"
#include "engine/error.h"
#include "engine/format/shape_product.h"
#include "engine/format/gguf.h"

namespace parity::gguf {

namespace {

// Arrays of arrays nest; real files use one level. A bound keeps a hostile file from
// exhausting the stack.
constexpr int kMaxArrayDepth = 8;

// The fewest bytes one value of a type can occupy on disk; used to reject counts that the
// rest of the file cannot possibly hold before anything is allocated.
std::uint64_t min_encoded_size(ValueType t) {
    switch (t) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::BOOL: return 1;
        case ValueType::U16:
        case ValueType::I16: return 2;
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::F32: return 4;
        case ValueType::U64:
        case ValueType::I64:
        case ValueType::F64:
        case ValueType::STRING: return 8;
        case ValueType::ARRAY: return 12;
    }
    return 1;
}

std::string hex32(std::uint32_t v) {
    static const char* digits = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xF];
    return s;
}

class Parser {
public:
    Parser(std::span<const std::byte> bytes, const std::string& file) : cur_(bytes, file) {}

    void parse_header(std::uint32_t& version, std::uint64_t& n_tensors, std::uint64_t& n_kv) {
        const auto magic = cur_.read<std::uint32_t>("magic");
        if (magic != kMagic) cur_.fail(0, "bad magic " + hex32(magic) + ", expected \"GGUF\" (0x46554747)");
        version = cur_.read<std::uint32_t>("version");
        if (version != 2 && version != 3) {
            if (version != 0 && (version & 0xFFFF) == 0) {
                cur_.fail(4, "big-endian GGUF (version field " + hex32(version) + ") is not supported");
            }
            cur_.fail(4, "unsupported GGUF version " + std::to_string(version) + " (supported: 2, 3)");
        }
        const std::uint64_t at_tensors = cur_.pos();
        n_tensors = cur_.read<std::uint64_t>("n_tensors");
        const std::uint64_t at_kv = cur_.pos();
        n_kv = cur_.read<std::uint64_t>("n_kv");
        // A tensor info takes at least 32 bytes, a key/value pair at least 13.
        if (n_kv > cur_.remaining() / 13) {
            cur_.fail(at_kv, "n_kv " + std::to_string(n_kv) + " cannot fit in the " +
                                 std::to_string(cur_.remaining()) + " byte(s) left in the file");
        }
        if (n_tensors > cur_.remaining() / 32) {
            cur_.fail(at_tensors, "n_tensors " + std::to_string(n_tensors) + " cannot fit in the " +
                                      std::to_string(cur_.remaining()) + " byte(s) left in the file");
        }
    }

    MetadataEntry parse_kv() {
        MetadataEntry e;
        e.key = cur_.read_string("metadata key");
        e.value = parse_value(read_value_type("value type of '" + e.key + "'"), 0, e.key);
        return e;
    }

    TensorInfo parse_tensor_info(std::uint64_t& offset_field_pos) {
        TensorInfo t;
        t.name = cur_.read_string("tensor name");
        const std::string who = "tensor '" + t.name + "'";
        const std::uint64_t at_dims = cur_.pos();
        const auto n_dims = cur_.read<std::uint32_t>(who + " n_dims");
        if (n_dims < 1 || n_dims > static_cast<std::uint32_t>(kMaxDims)) {
            cur_.fail(at_dims, who + " has n_dims " + std::to_string(n_dims) + ", expected 1.." +
                                   std::to_string(kMaxDims));
        }
        ShapeProduct shape;
        for (std::uint32_t d = 0; d < n_dims; ++d) {
            const std::uint64_t at = cur_.pos();
            const auto ne = cur_.read<std::uint64_t>(who + " ne[" + std::to_string(d) + "]");
            if (ne > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                cur_.fail(at, who + " ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " is negative as int64");
            }
            if (!shape.times(ne)) {
                cur_.fail(at, who + " shape overflows: the product of its non-zero dimensions exceeds 2^63-1");
            }
            t.ne.push_back(static_cast<std::int64_t>(ne));
        }
        const std::int64_t product = shape.elements();
        const std::uint64_t at_type = cur_.pos();
        const auto type_id = cur_.read<std::uint32_t>(who + " type");
        const auto tr = ggml_type_traits(type_id);
        if (!tr) cur_.fail(at_type, who + " has unknown ggml type id " + std::to_string(type_id));
        t.type = tr->type;
        if (t.ne[0] % tr->block_size != 0) {
            cur_.fail(at_dims, who + " row length ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of " +
                                   std::string(tr->name) + "'s block size " + std::to_string(tr->block_size));
        }
        // bytes = (elements / block_size) * type_size, checked for overflow.
        const auto blocks = static_cast<std::uint64_t>(product / tr->block_size);
        if (blocks > std::numeric_limits<std::uint64_t>::max() / tr->type_size) {
            cur_.fail(at_dims, who + " byte size overflows 64 bits");
        }
        t.n_bytes = blocks * tr->type_size;
        offset_field_pos = cur_.pos();
        t.offset = cur_.read<std::uint64_t>(who + " offset");
        return t;
    }

    ByteCursor& cursor() noexcept { return cur_; }

private:
    ValueType read_value_type(const std::string& what) {
        const std::uint64_t at = cur_.pos();
        const auto id = cur_.read<std::uint32_t>(what);
        if (id > static_cast<std::uint32_t>(ValueType::F64)) {
            cur_.fail(at, what + ": unknown GGUF value type " + std::to_string(id) + " (expected 0..12)");
        }
        return static_cast<ValueType>(id);
    }

    Value parse_value(ValueType type, int depth, const std::string& key) {
        const std::string what = "value of '" + key + "'";
        switch (type) {
            case ValueType::U8: return cur_.read<std::uint8_t>(what);
            case ValueType::I8: return cur_.read<std::int8_t>(what);
            case ValueType::U16: return cur_.read<std::uint16_t>(what);
            case ValueType::I16: return cur_.read<std::int16_t>(what);
            case ValueType::U32: return cur_.read<std::uint32_t>(what);
            case ValueType::I32: return cur_.read<std::int32_t>(what);
            case ValueType::F32: return cur_.read<float>(what);
            case ValueType::U64: return cur_.read<std::uint64_t>(what);
            case ValueType::I64: return cur_.read<std::int64_t>(what);
            case ValueType::F64: return cur_.read<double>(what);
            case ValueType::BOOL: {
                const std::uint64_t at = cur_.pos();
                const auto b = cur_.read<std::uint8_t>(what);
                if (b > 1) cur_.fail(at, what + ": bool byte is " + std::to_string(b) + ", expected 0 or 1");
                return b == 1;
            }
            case ValueType::STRING: return cur_.read_string(what);
            case ValueType::ARRAY: return parse_array(depth, key);
        }
        cur_.fail(cur_.pos(), what + ": unknown type");
    }

    Value parse_array(int depth, const std::string& key) {
        const std::uint64_t at = cur_.pos();
        if (depth >= kMaxArrayDepth) {
            cur_.fail(at, "array '" + key + "' nests deeper than " + std::to_string(kMaxArrayDepth) + " levels");
        }
        Array arr;
        arr.type = read_value_type("array element type of '" + key + "'");
        const std::uint64_t at_count = cur_.pos();
        const auto count = cur_.read<std::uint64_t>("array count of '" + key + "'");
        if (count > cur_.remaining() / min_encoded_size(arr.type)) {
            cur_.fail(at_count, "array '" + key + "' count " + std::to_string(count) + " of " +
                                    std::string(value_type_name(arr.type)) + " cannot fit in the " +
                                    std::to_string(cur_.remaining()) + " byte(s) left in the file");
        }
        arr.items.reserve(static_cast<std::size_t>(count));
        for (std::uint64_t i = 0; i < count; ++i) arr.items.push_back(parse_value(arr.type, depth + 1, key));
        return arr;
    }

    ByteCursor cur_;
};

}  // namespace

File File::open(const std::string& path) {
    MappedFile mapping(path);
    const auto bytes = mapping.bytes();
    File f = parse(bytes, path);
    f.mapping_.emplace(std::move(mapping));  // the span stays valid: the mapping's address does not move
    return f;
}

File File::parse(std::span<const std::byte> bytes, const std::string& name) {
    File f;
    f.path_ = name;
    f.bytes_ = bytes;
    Parser p(bytes, f.path_);
    ByteCursor& cur = p.cursor();

    std::uint64_t n_tensors = 0;
    std::uint64_t n_kv = 0;
    p.parse_header(f.version_, n_tensors, n_kv);

    f.metadata_.reserve(static_cast<std::size_t>(n_kv));
    std::vector<std::uint64_t> kv_offsets;
    for (std::uint64_t i = 0; i < n_kv; ++i) {
        const std::uint64_t at = cur.pos();
        kv_offsets.push_back(at);
        MetadataEntry e = p.parse_kv();
        if (!f.key_index_.emplace(e.key, f.metadata_.size()).second) {
            cur.fail(at, "duplicate metadata key '" + e.key + "'");
        }
        f.metadata_.push_back(std::move(e));
    }

    if (auto it = f.key_index_.find("general.alignment"); it != f.key_index_.end()) {
        const Value& a = f.metadata_[it->second].value;
        const std::uint64_t at = kv_offsets[it->second];
        const auto* u = std::get_if<std::uint32_t>(&a.v);
        if (u == nullptr) {
            cur.fail(at, "general.alignment has type " + std::string(value_type_name(a.type())) + ", expected u32");
        }
        if (*u == 0 || !std::has_single_bit(*u)) {
            cur.fail(at, "general.alignment " + std::to_string(*u) + " is not a power of two");
        }
        f.alignment_ = *u;
    }

    if (n_tensors > cur.remaining() / 32) {
        cur.fail(cur.pos(), "n_tensors " + std::to_string(n_tensors) + " cannot fit in the " +
                                std::to_string(cur.remaining()) + " byte(s) left after the metadata");
    }
    std::vector<std::uint64_t> offset_fields;
    f.tensors_.reserve(static_cast<std::size_t>(n_tensors));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        const std::uint64_t at = cur.pos();
        std::uint64_t offset_field = 0;
        TensorInfo t = p.parse_tensor_info(offset_field);
        if (!f.tensor_index_.emplace(t.name, f.tensors_.size()).second) {
            cur.fail(at, "duplicate tensor name '" + t.name + "'");
        }
        if (t.offset % f.alignment_ != 0) {
            cur.fail(offset_field, "tensor '" + t.name + "' offset " + std::to_string(t.offset) +
                                       " is not a multiple of the alignment " + std::to_string(f.alignment_));
        }
        offset_fields.push_back(offset_field);
        f.tensors_.push_back(std::move(t));
    }

    // The data section starts at the next multiple of the alignment.
    const std::uint64_t end_of_infos = cur.pos();
    f.data_offset_ = (end_of_infos + f.alignment_ - 1) / f.alignment_ * f.alignment_;
    if (f.tensors_.empty()) return f;
    if (f.data_offset_ > bytes.size()) {
        cur.fail(end_of_infos, "file truncated: the data section should start at byte " +
                                   std::to_string(f.data_offset_) + " but the file has " +
                                   std::to_string(bytes.size()) + " byte(s)");
    }

    const std::uint64_t data_size = bytes.size() - f.data_offset_;
    for (std::size_t i = 0; i < f.tensors_.size(); ++i) {
        const TensorInfo& t = f.tensors_[i];
        if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
            cur.fail(offset_fields[i], "tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", " +
                                           std::to_string(t.offset) + "+" + std::to_string(t.n_bytes) +
                                           ") extends past the end of the data section (" +
                                           std::to_string(data_size) + " bytes)");
        }
    }

    std::vector<std::size_t> order(f.tensors_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return f.tensors_[a].offset < f.tensors_[b].offset; });
    for (std::size_t k = 1; k < order.size(); ++k) {
        const TensorInfo& prev = f.tensors_[order[k - 1]];
        const TensorInfo& t = f.tensors_[order[k]];
        if (prev.offset + prev.n_bytes > t.offset && t.n_bytes > 0) {
            cur.fail(offset_fields[order[k]], "tensor '" + t.name + "' data overlaps tensor '" + prev.name + "'");
        }
    }
    return f;
}

}  // namespace parity::gguf
