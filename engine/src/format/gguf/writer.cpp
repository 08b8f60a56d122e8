#include "engine/format/gguf_writer.h"

#include <algorithm>
#include <bit>

#include "engine/error.h"
#include "engine/format/shape_product.h"

namespace parity::gguf {

Writer::Writer(std::string path) : path_(std::move(path)), out_(path_, std::ios::binary | std::ios::trunc) {
    if (!out_) throw IoError(path_, "cannot create file");
}

void Writer::add(std::string key, Value value) {
    if (header_written_) throw UsageError(path_ + ": metadata added after the header was written");
    if (std::any_of(metadata_.begin(), metadata_.end(), [&](const MetadataEntry& e) { return e.key == key; })) {
        throw UsageError(path_ + ": duplicate metadata key '" + key + "'");
    }
    if (key == "general.alignment") {
        const auto* u = std::get_if<std::uint32_t>(&value.v);
        if (u == nullptr || *u == 0 || !std::has_single_bit(*u)) {
            throw UsageError(path_ + ": general.alignment must be a u32 power of two");
        }
        alignment_ = *u;
    }
    metadata_.push_back({std::move(key), std::move(value)});
}

void Writer::add_tensor(std::string name, GgmlType type, std::vector<std::int64_t> ne) {
    if (header_written_) throw UsageError(path_ + ": tensor declared after the header was written");
    if (std::any_of(tensors_.begin(), tensors_.end(), [&](const TensorInfo& t) { return t.name == name; })) {
        throw UsageError(path_ + ": duplicate tensor name '" + name + "'");
    }
    if (ne.empty() || ne.size() > static_cast<std::size_t>(kMaxDims) ||
        std::any_of(ne.begin(), ne.end(), [](std::int64_t d) { return d < 0; })) {
        throw UsageError(path_ + ": tensor '" + name + "' needs 1..4 non-negative dims");
    }
    ShapeProduct shape;  // as the reader, so no count of the tensor overflows
    for (auto d : ne) {
        if (!shape.times(static_cast<std::uint64_t>(d))) {
            throw UsageError(path_ + ": tensor '" + name + "' has too many elements");
        }
    }
    const auto& tr = traits(type);
    if (ne[0] % tr.block_size != 0) {
        throw UsageError(path_ + ": tensor '" + name + "' row length " + std::to_string(ne[0]) +
                         " is not a multiple of " + std::string(tr.name) + "'s block size");
    }
    TensorInfo t;
    t.name = std::move(name);
    t.type = type;
    t.ne = std::move(ne);
    t.n_bytes = row_size(type, t.ne[0]) * static_cast<std::uint64_t>(t.n_rows());
    tensors_.push_back(std::move(t));
}

void Writer::write_header() {
    if (header_written_) throw UsageError(path_ + ": header written twice");
    std::uint64_t offset = 0;
    for (auto& t : tensors_) {
        t.offset = offset;
        offset += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
    }
    write_pod<std::uint32_t>(kMagic);
    write_pod<std::uint32_t>(3);
    write_pod<std::uint64_t>(tensors_.size());
    write_pod<std::uint64_t>(metadata_.size());
    for (const auto& e : metadata_) {
        write_string(e.key);
        write_pod<std::uint32_t>(static_cast<std::uint32_t>(e.value.type()));
        write_value(e.value);
    }
    for (const auto& t : tensors_) {
        write_string(t.name);
        write_pod<std::uint32_t>(static_cast<std::uint32_t>(t.ne.size()));
        for (auto d : t.ne) write_pod<std::uint64_t>(static_cast<std::uint64_t>(d));
        write_pod<std::uint32_t>(static_cast<std::uint32_t>(t.type));
        write_pod<std::uint64_t>(t.offset);
    }
    pad_to_alignment();
    header_written_ = true;
}

void Writer::write_tensor_data(std::span<const std::byte> data) {
    if (next_tensor_ < tensors_.size() && (current_written_ != 0 || data.size() != tensors_[next_tensor_].n_bytes)) {
        const TensorInfo& t = tensors_[next_tensor_];
        throw UsageError(path_ + ": tensor '" + t.name + "' needs " + std::to_string(t.n_bytes) + " bytes, got " +
                         std::to_string(data.size()));
    }
    append_tensor_data(data);
}

void Writer::append_tensor_data(std::span<const std::byte> chunk) {
    if (!header_written_) throw UsageError(path_ + ": tensor data written before the header");
    if (next_tensor_ >= tensors_.size()) throw UsageError(path_ + ": more tensor data than declared tensors");
    const TensorInfo& t = tensors_[next_tensor_];
    if (chunk.size() > t.n_bytes - current_written_) {
        throw UsageError(path_ + ": " + std::to_string(chunk.size()) + " more bytes run past the end of tensor '" +
                         t.name + "' (" + std::to_string(t.n_bytes - current_written_) + " left)");
    }
    write_bytes(chunk.data(), chunk.size());
    current_written_ += chunk.size();
    if (current_written_ == t.n_bytes) {
        pad_to_alignment();
        ++next_tensor_;
        current_written_ = 0;
    }
}

void Writer::finish() {
    if (!header_written_) write_header();
    if (next_tensor_ != tensors_.size()) {
        throw UsageError(path_ + ": " + std::to_string(tensors_.size() - next_tensor_) + " tensor(s) never written");
    }
    out_.flush();
    out_.close();
    if (!out_) throw IoError(path_, "write failed");
}

void Writer::write_bytes(const void* p, std::size_t n) {
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    if (!out_) throw IoError(path_, "write failed at byte " + std::to_string(written_));
    written_ += n;
}

void Writer::write_string(const std::string& s) {
    write_pod<std::uint64_t>(s.size());
    write_bytes(s.data(), s.size());
}

void Writer::write_value(const Value& value) {
    std::visit(
        [this](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                write_string(x);
            } else if constexpr (std::is_same_v<T, Array>) {
                write_pod<std::uint32_t>(static_cast<std::uint32_t>(x.type));
                write_pod<std::uint64_t>(x.items.size());
                for (const auto& item : x.items) {
                    if (item.type() != x.type) {
                        throw UsageError(path_ + ": array of " + std::string(value_type_name(x.type)) +
                                         " holds a " + std::string(value_type_name(item.type())));
                    }
                    write_value(item);
                }
            } else if constexpr (std::is_same_v<T, bool>) {
                write_pod<std::uint8_t>(x ? 1 : 0);
            } else {
                write_pod<T>(x);
            }
        },
        value.v);
}

void Writer::pad_to_alignment() {
    static constexpr std::byte zeros[256] = {};
    std::uint64_t pad = (alignment_ - written_ % alignment_) % alignment_;
    while (pad > 0) {
        const auto n = std::min<std::uint64_t>(pad, sizeof zeros);
        write_bytes(zeros, static_cast<std::size_t>(n));
        pad -= n;
    }
}

void write_file(const std::string& path, const std::vector<MetadataEntry>& metadata,
                const std::vector<TensorData>& tensors) {
    Writer w(path);
    for (const auto& e : metadata) w.add(e.key, e.value);
    for (const auto& t : tensors) w.add_tensor(t.name, t.type, t.ne);
    w.write_header();
    for (const auto& t : tensors) w.write_tensor_data(t.bytes);
    w.finish();
}

}  // namespace parity::gguf
