// APR v2 parsing and validation (layout in engine/format/apr.h). The checks follow aprender's
// AprV2ReaderRef::from_bytes (magic, header CRC, LAYOUT_COLUMN_MAJOR rejected, metadata in
// bounds, index sorted) and add what it leaves out: version, every offset against the file
// size, section order, unique names, dtype sizes, alignment, overlap and the footer CRC.

#include <algorithm>
#include <cstring>
#include <limits>

#include "layout.h"
#include "metadata.h"
#include "engine/format/apr.h"
#include "engine/error.h"
#include "engine/format/shape_product.h"

namespace parity::apr {

namespace {

using detail::load_le;

std::string hex(std::uint64_t v, int digits) {
    static const char* kDigits = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xF];
    return s;
}

std::string quoted_name(std::string_view name) {
    std::string s = "'";
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            s += "\\x" + hex(u, 2).substr(2);
        } else {
            s += c;
        }
    }
    return s + "'";
}

class Parser {
public:
    Parser(std::span<const std::byte> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

    [[noreturn]] void fail(std::uint64_t at, const std::string& cause) const { throw FormatError(file_, at, cause); }

    detail::Header parse_header() {
        const std::uint64_t size = bytes_.size();
        if (size < kHeaderSize) {
            fail(0, "file truncated: the APR header needs " + std::to_string(kHeaderSize) + " bytes, the file has " +
                        std::to_string(size));
        }
        const std::span<const std::byte, 64> head(bytes_.data(), 64);
        if (std::memcmp(head.data(), kMagic.data(), kMagic.size()) != 0) {
            fail(0, "bad magic " + hex(load_le<std::uint32_t>(head.data()), 8) +
                        ", expected \"APR\\0\" (41 50 52 00)" +
                        (std::memcmp(head.data(), kMagic.data(), 3) == 0 &&
                                 (static_cast<char>(head[3]) == '1' || static_cast<char>(head[3]) == '2')
                             ? " (APR1/APR2 magics are older aprender formats, not supported)"
                             : ""));
        }
        const detail::Header h = detail::decode_header(head);
        if (h.version_major != kVersionMajor) {
            fail(detail::kOffVersionMajor, "unsupported APR version " + std::to_string(h.version_major) + "." +
                                               std::to_string(h.version_minor) + " (supported: 2.x)");
        }
        const std::uint32_t crc = detail::header_crc(head);
        if (crc != h.crc) {
            fail(detail::kOffHeaderCrc, "header CRC mismatch: stored " + hex(h.crc, 8) + ", computed " + hex(crc, 8) +
                                            " over bytes 0-39 and 44-63 (header corrupted)");
        }
        if ((h.flags & flags::LAYOUT_COLUMN_MAJOR) != 0) {
            fail(detail::kOffFlags, "flags " + hex(h.flags, 4) +
                                        " mark a column-major layout (LAYOUT_COLUMN_MAJOR 0x0800), which aprender "
                                        "rejects (LAYOUT-002)");
        }
        if ((h.flags & (flags::LZ4_COMPRESSED | flags::ZSTD_COMPRESSED | flags::ENCRYPTED)) != 0) {
            fail(detail::kOffFlags, "flags " + hex(h.flags, 4) +
                                        " mark a compressed or encrypted file (LZ4 0x0001, ZSTD 0x0002, ENCRYPTED "
                                        "0x0004), which is not supported");
        }
        check_sections(h);
        return h;
    }

    /// Sections in order inside [64, size - 4): metadata, index, data.
    void check_sections(const detail::Header& h) const {
        const std::uint64_t size = bytes_.size();
        if (size < kHeaderSize + kFooterSize) {
            fail(size, "file truncated: no room for the 4-byte footer CRC after the header (file has " +
                           std::to_string(size) + " bytes)");
        }
        const std::uint64_t end = size - kFooterSize;  // where the footer starts
        const std::string limit = " (the footer starts at byte " + std::to_string(end) + ")";
        if (h.metadata_offset < kHeaderSize) {
            fail(detail::kOffMetadataOffset,
                 "metadata_offset " + std::to_string(h.metadata_offset) + " points into the 64-byte header");
        }
        if (h.metadata_offset > end) {
            fail(detail::kOffMetadataOffset,
                 "metadata_offset " + std::to_string(h.metadata_offset) + " is past the end of the file" + limit);
        }
        if (h.metadata_size > end - h.metadata_offset) {
            fail(detail::kOffMetadataSize, "metadata [" + std::to_string(h.metadata_offset) + ", +" +
                                               std::to_string(h.metadata_size) + ") extends past the end of the file" +
                                               limit);
        }
        const std::uint64_t metadata_end = h.metadata_offset + h.metadata_size;
        if (h.tensor_index_offset < metadata_end) {
            fail(detail::kOffTensorIndexOffset, "tensor_index_offset " + std::to_string(h.tensor_index_offset) +
                                                    " points inside the header or metadata (which end at byte " +
                                                    std::to_string(metadata_end) + ")");
        }
        if (h.tensor_index_offset > end) {
            fail(detail::kOffTensorIndexOffset, "tensor_index_offset " + std::to_string(h.tensor_index_offset) +
                                                    " is past the end of the file" + limit);
        }
        if (h.data_offset < h.tensor_index_offset || h.data_offset > end) {
            fail(detail::kOffDataOffset, "data_offset " + std::to_string(h.data_offset) + " is outside [" +
                                             std::to_string(h.tensor_index_offset) + ", " + std::to_string(end) +
                                             "] (after the tensor index, before the footer)");
        }
        if (h.data_offset % kAlignment != 0) {
            fail(detail::kOffDataOffset,
                 "data_offset " + std::to_string(h.data_offset) + " is not a multiple of " + std::to_string(kAlignment));
        }
        const std::uint64_t index_bytes = h.data_offset - h.tensor_index_offset;
        if (h.tensor_count > index_bytes / detail::kMinIndexEntrySize) {
            fail(detail::kOffTensorCount, "tensor_count " + std::to_string(h.tensor_count) + " cannot fit in the " +
                                              std::to_string(index_bytes) +
                                              "-byte tensor index (an entry takes at least " +
                                              std::to_string(detail::kMinIndexEntrySize) + " bytes)");
        }
    }

    /// Reads one index entry at `pos` (advanced); the entry must end by `index_end`.
    TensorInfo parse_entry(std::uint64_t& pos, std::uint64_t index_end, std::uint32_t i) const {
        TensorInfo t;
        t.index_offset = pos;
        const std::string who = "tensor index entry " + std::to_string(i);
        auto need = [&](std::uint64_t n, const std::string& what) {
            if (n > index_end - pos) {
                fail(pos, who + ": " + what + " (" + std::to_string(n) + " bytes) runs past the end of the tensor index " +
                              "at byte " + std::to_string(index_end));
            }
        };
        need(2, "name_len");
        const auto name_len = load_le<std::uint16_t>(bytes_.data() + pos);
        need(2u + name_len, "name");
        t.name.assign(reinterpret_cast<const char*>(bytes_.data() + pos + 2), name_len);
        pos += 2u + name_len;
        const std::string tname = "tensor " + quoted_name(t.name);

        need(2, tname + " dtype and ndim");
        t.dtype_byte = static_cast<std::uint8_t>(bytes_[pos]);
        const auto dt = dtype_from_byte(t.dtype_byte);
        if (!dt) {
            fail(pos, tname + " has unknown dtype " + std::to_string(t.dtype_byte) +
                          " (known: 0 F32, 1 F16, 3 F64, 4 I32, 5 I64, 6 I8, 7 U8, 8/128 AprQ4, 9/129 AprQ8, "
                          "12 Q4_K, 14 Q6_K, 30 BF16)");
        }
        t.dtype = *dt;
        const std::uint64_t at_ndim = pos + 1;
        const auto ndim = static_cast<std::uint8_t>(bytes_[at_ndim]);
        pos += 2;
        if (ndim > kMaxDims) {
            fail(at_ndim, tname + " has ndim " + std::to_string(ndim) + ", expected at most " + std::to_string(kMaxDims));
        }
        need(8u * ndim, tname + " dims");
        const std::uint64_t at_dims = pos;
        ShapeProduct shape;
        for (std::uint8_t d = 0; d < ndim; ++d) {
            const auto dim = load_le<std::uint64_t>(bytes_.data() + pos);
            if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                fail(pos, tname + " dims[" + std::to_string(d) + "] = " + std::to_string(dim) + " is too large");
            }
            if (!shape.times(dim)) fail(pos, tname + " shape overflows: the product of its non-zero dims exceeds 2^63-1");
            t.dims.push_back(dim);
            pos += 8;
        }
        const auto product = static_cast<std::uint64_t>(shape.elements());
        for (auto it = t.dims.rbegin(); it != t.dims.rend(); ++it) t.ne.push_back(static_cast<std::int64_t>(*it));

        need(16, tname + " offset and size");
        const std::uint64_t at_offset = pos;
        t.offset = load_le<std::uint64_t>(bytes_.data() + pos);
        const std::uint64_t at_size = pos + 8;
        t.size = load_le<std::uint64_t>(bytes_.data() + at_size);
        pos += 16;

        const auto expected = byte_size(t.dtype, t.row_length(), static_cast<std::int64_t>(product));
        if (!expected) {
            fail(at_dims, tname + " row length " + std::to_string(t.row_length()) + " is not a multiple of " +
                              std::string(dtype_name(t.dtype)) + "'s block size " +
                              std::to_string(row_block_size(t.dtype)) + " (or its byte size overflows)");
        }
        if (*expected != t.size) {
            fail(at_size, tname + " size " + std::to_string(t.size) + " does not match its " +
                              std::string(dtype_name(t.dtype)) + " dims " + dims_text(t.dims) + " (" +
                              std::to_string(product) + " values take " + std::to_string(*expected) + " bytes)");
        }
        if (t.offset % kAlignment != 0) {
            fail(at_offset, tname + " offset " + std::to_string(t.offset) + " is not a multiple of " +
                                std::to_string(kAlignment));
        }
        return t;
    }

    static std::string dims_text(const std::vector<std::uint64_t>& dims) {
        std::string s = "[";
        for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
        return s + "]";
    }

private:
    std::span<const std::byte> bytes_;
    const std::string& file_;
};

}  // namespace

File File::open(const std::string& path, ReadOptions options) {
    MappedFile mapping(path);
    const auto bytes = mapping.bytes();
    File f = parse(bytes, path, options);
    f.mapping_.emplace(std::move(mapping));  // the span stays valid: the mapping does not move
    return f;
}

File File::parse(std::span<const std::byte> bytes, const std::string& name, ReadOptions options) {
    File f;
    f.path_ = name;
    f.bytes_ = bytes;
    Parser p(bytes, f.path_);

    const detail::Header h = p.parse_header();
    f.version_major_ = h.version_major;
    f.version_minor_ = h.version_minor;
    f.flags_ = h.flags;
    f.metadata_offset_ = h.metadata_offset;
    f.metadata_size_ = h.metadata_size;
    f.tensor_index_offset_ = h.tensor_index_offset;
    f.data_offset_ = h.data_offset;
    f.header_crc_ = h.crc;

    f.metadata_ = detail::parse_metadata(f.metadata_text(), f.path_, f.metadata_offset_);

    // Tensor index: entries back to back from tensor_index_offset, all before data_offset.
    f.tensors_.reserve(h.tensor_count);
    std::uint64_t pos = h.tensor_index_offset;
    for (std::uint32_t i = 0; i < h.tensor_count; ++i) {
        TensorInfo t = p.parse_entry(pos, h.data_offset, i);
        if (!f.tensors_.empty()) {
            const std::string& prev = f.tensors_.back().name;
            if (t.name == prev) p.fail(t.index_offset, "duplicate tensor name " + quoted_name(t.name));
            if (t.name < prev) {
                p.fail(t.index_offset, "tensor index is not sorted by name: " + quoted_name(t.name) + " comes after " +
                                           quoted_name(prev));
            }
        }
        f.tensors_.push_back(std::move(t));
    }

    // Tensor data inside [data_offset, footer), not overlapping.
    const std::uint64_t data_size = bytes.size() - kFooterSize - f.data_offset_;
    for (const TensorInfo& t : f.tensors_) {
        if (t.offset > data_size || t.size > data_size - t.offset) {
            p.fail(t.index_offset, "tensor " + quoted_name(t.name) + " data [" + std::to_string(t.offset) + ", +" +
                                       std::to_string(t.size) + ") extends past the end of the data section (" +
                                       std::to_string(data_size) + " bytes before the footer)");
        }
    }
    std::vector<const TensorInfo*> by_offset;
    by_offset.reserve(f.tensors_.size());
    for (const auto& t : f.tensors_) {
        if (t.size > 0) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (std::size_t k = 1; k < by_offset.size(); ++k) {
        const TensorInfo& prev = *by_offset[k - 1];
        const TensorInfo& t = *by_offset[k];
        if (prev.offset + prev.size > t.offset) {
            p.fail(t.index_offset, "tensor " + quoted_name(t.name) + " data overlaps tensor " + quoted_name(prev.name));
        }
    }

    // Footer: CRC-32 of every byte before it.
    const std::uint64_t footer_at = bytes.size() - kFooterSize;
    f.footer_crc_ = load_le<std::uint32_t>(bytes.data() + footer_at);
    if (options.verify_footer_crc) {
        const std::uint32_t crc = detail::crc32(bytes.first(static_cast<std::size_t>(footer_at)));
        if (crc != f.footer_crc_) {
            p.fail(footer_at, "footer CRC mismatch: stored " + hex(f.footer_crc_, 8) + ", computed " + hex(crc, 8) +
                                  " over bytes 0-" + std::to_string(footer_at - 1) + " (file corrupted)");
        }
    }
    return f;
}

const TensorInfo* File::find_tensor(std::string_view name) const noexcept {
    const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                     [](const TensorInfo& t, std::string_view n) { return std::string_view(t.name) < n; });
    return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& File::tensor(std::string_view name) const {
    const TensorInfo* t = find_tensor(name);
    if (t == nullptr) throw UsageError(path_ + ": no tensor named '" + std::string(name) + "'");
    return *t;
}

std::span<const std::byte> File::tensor_data(const TensorInfo& t) const noexcept {
    return bytes_.subspan(static_cast<std::size_t>(data_offset_ + t.offset), static_cast<std::size_t>(t.size));
}

}  // namespace parity::apr
