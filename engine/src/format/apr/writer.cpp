// Writes APR v2 files (layout in engine/format/apr.h) the way aprender's AprV2Writer::write lays them
// out: header, compact JSON padded to 64, index sorted by name padded to 64, tensors in index
// order each padded to 64, footer CRC. Everything streams: the offsets are known from the
// declared shapes, so the header (and its CRC) is written first and the footer CRC is kept
// running over every byte written.

#include <algorithm>

#include "layout.h"
#include "metadata.h"
#include "engine/format/apr.h"
#include "engine/error.h"
#include "engine/format/shape_product.h"

namespace parity::apr {

struct Writer::Crc {
    detail::Crc32 crc;
};

namespace {

std::uint64_t align_up(std::uint64_t v) { return (v + kAlignment - 1) / kAlignment * kAlignment; }

void put_le(std::vector<std::byte>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

}  // namespace

Writer::Writer(std::string path)
    : path_(std::move(path)),
      file_(std::make_unique<std::ofstream>(path_, std::ios::binary | std::ios::trunc)),
      out_(file_.get()),
      crc_(std::make_unique<Crc>()) {
    if (!*file_) throw IoError(path_, "cannot create file");
}

Writer::Writer(std::ostream& out, std::string name) : path_(std::move(name)), out_(&out), crc_(std::make_unique<Crc>()) {}

Writer::~Writer() = default;

void Writer::set_metadata(Json metadata) {
    if (header_written_) throw UsageError(path_ + ": metadata set after the header was written");
    if (!metadata.is_object()) {
        throw UsageError(path_ + ": APR metadata must be a JSON object, got " + std::string(metadata.type_name()));
    }
    metadata_ = std::move(metadata);
}

void Writer::add_tensor(std::string name, DType dtype, std::vector<std::int64_t> ne) {
    if (header_written_) throw UsageError(path_ + ": tensor declared after the header was written");
    if (name.empty() || name.size() > kMaxNameLength) {
        throw UsageError(path_ + ": tensor name '" + name + "' must be 1.." + std::to_string(kMaxNameLength) +
                         " bytes (aprender truncates longer names)");
    }
    if (std::any_of(tensors_.begin(), tensors_.end(), [&](const TensorInfo& t) { return t.name == name; })) {
        throw UsageError(path_ + ": duplicate tensor name '" + name + "'");
    }
    if (ne.size() > static_cast<std::size_t>(kMaxDims) ||
        std::any_of(ne.begin(), ne.end(), [](std::int64_t d) { return d < 0; })) {
        throw UsageError(path_ + ": tensor '" + name + "' needs 0.." + std::to_string(kMaxDims) + " non-negative dims");
    }
    ShapeProduct shape;  // as the reader, so no count of the tensor overflows
    for (auto d : ne) {
        if (!shape.times(static_cast<std::uint64_t>(d))) {
            throw UsageError(path_ + ": tensor '" + name + "' has too many elements");
        }
    }
    const std::int64_t n = shape.elements();
    TensorInfo t;
    t.name = std::move(name);
    t.dtype = dtype;
    t.dtype_byte = static_cast<std::uint8_t>(dtype);
    t.ne = std::move(ne);
    for (auto it = t.ne.rbegin(); it != t.ne.rend(); ++it) t.dims.push_back(static_cast<std::uint64_t>(*it));
    const auto size = byte_size(dtype, t.row_length(), n);
    if (!size) {
        throw UsageError(path_ + ": tensor '" + t.name + "' row length " + std::to_string(t.row_length()) +
                         " is not a multiple of " + std::string(dtype_name(dtype)) + "'s block size " +
                         std::to_string(row_block_size(dtype)));
    }
    t.size = *size;
    tensors_.push_back(std::move(t));
}

void Writer::write_header() {
    if (header_written_) throw UsageError(path_ + ": header written twice");
    if (tensors_.size() > UINT32_MAX) throw UsageError(path_ + ": more than 2^32-1 tensors");
    std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });

    std::string json;
    try {
        json = metadata_.dump();  // compact, UTF-8 (no \u escapes), keys in insertion order
    } catch (const Json::exception& e) {
        throw UsageError(path_ + ": metadata cannot be written as JSON: " + std::string(e.what()));
    }
    if (json.size() > UINT32_MAX) throw UsageError(path_ + ": metadata JSON exceeds 4 GiB (metadata_size is a u32)");

    std::vector<std::byte> index;
    std::uint64_t offset = 0;
    for (auto& t : tensors_) {
        t.offset = offset;
        offset += align_up(t.size);
        put_le(index, t.name.size(), 2);
        for (char c : t.name) index.push_back(static_cast<std::byte>(c));
        index.push_back(static_cast<std::byte>(t.dtype_byte));
        index.push_back(static_cast<std::byte>(t.dims.size()));
        for (auto d : t.dims) put_le(index, d, 8);
        put_le(index, t.offset, 8);
        put_le(index, t.size, 8);
    }

    flags_ = flags::LAYOUT_ROW_MAJOR;
    if (detail::has_tokenizer(metadata_)) flags_ |= flags::HAS_VOCAB;
    if (std::any_of(tensors_.begin(), tensors_.end(), [](const TensorInfo& t) { return is_quantized(t.dtype); })) {
        flags_ |= flags::QUANTIZED;
    }

    detail::Header h;
    h.version_major = kVersionMajor;
    h.version_minor = kVersionMinor;
    h.flags = flags_;
    h.tensor_count = static_cast<std::uint32_t>(tensors_.size());
    h.metadata_offset = kHeaderSize;
    h.metadata_size = static_cast<std::uint32_t>(json.size());
    h.tensor_index_offset = h.metadata_offset + align_up(json.size());
    h.data_offset = h.tensor_index_offset + align_up(index.size());
    std::array<std::byte, kHeaderSize> header{};
    detail::encode_header(h, header);

    write_bytes(header.data(), header.size());
    write_bytes(json.data(), json.size());
    pad_to_alignment();
    write_bytes(index.data(), index.size());
    pad_to_alignment();
    header_written_ = true;
}

const TensorInfo* Writer::next_tensor() const noexcept {
    return header_written_ && next_ < tensors_.size() ? &tensors_[next_] : nullptr;
}

void Writer::write_tensor_data(std::span<const std::byte> data) {
    if (!header_written_) throw UsageError(path_ + ": tensor data written before the header");
    if (next_ >= tensors_.size()) throw UsageError(path_ + ": more tensor data than declared tensors");
    const TensorInfo& t = tensors_[next_];
    if (data.size() != t.size) {
        throw UsageError(path_ + ": tensor '" + t.name + "' needs " + std::to_string(t.size) + " bytes, got " +
                         std::to_string(data.size()));
    }
    write_bytes(data.data(), data.size());
    pad_to_alignment();
    ++next_;
}

void Writer::write_tensor_data(std::string_view name, std::span<const std::byte> data) {
    const TensorInfo* t = next_tensor();
    if (t != nullptr && t->name != name) {
        throw UsageError(path_ + ": tensor '" + std::string(name) + "' written out of order; the index (sorted by name) "
                         "expects '" + t->name + "' next");
    }
    write_tensor_data(data);
}

void Writer::finish() {
    if (finished_) throw UsageError(path_ + ": finished twice");
    if (!header_written_) write_header();
    if (next_ != tensors_.size()) {
        throw UsageError(path_ + ": " + std::to_string(tensors_.size() - next_) + " tensor(s) never written, next '" +
                         tensors_[next_].name + "'");
    }
    std::array<std::byte, kFooterSize> footer{};
    detail::store_le<std::uint32_t>(footer.data(), crc_->crc.value());
    write_bytes(footer.data(), footer.size());
    out_->flush();
    if (file_) file_->close();
    if (!*out_) throw IoError(path_, "write failed");
    finished_ = true;
}

void Writer::write_bytes(const void* p, std::size_t n) {
    out_->write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    if (!*out_) throw IoError(path_, "write failed at byte " + std::to_string(written_));
    crc_->crc.update(p, n);
    written_ += n;
}

void Writer::pad_to_alignment() {
    static constexpr std::byte kZeros[kAlignment] = {};
    const std::uint64_t pad = align_up(written_) - written_;
    write_bytes(kZeros, static_cast<std::size_t>(pad));
}

void write_file(const std::string& path, const Json& metadata, const std::vector<TensorData>& tensors) {
    Writer w(path);
    w.set_metadata(metadata);
    for (const auto& t : tensors) w.add_tensor(t.name, t.dtype, t.ne);
    w.write_header();
    while (const TensorInfo* next = w.next_tensor()) {
        const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const TensorData& t) { return t.name == next->name; });
        w.write_tensor_data(next->name, it->bytes);
    }
    w.finish();
}

}  // namespace parity::apr
