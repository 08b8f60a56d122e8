#pragma once
// Writes GGUF v3 files (layout in engine/format/gguf.h) as llama.cpp's gguf writer does: metadata
// in insertion order, tensor infos in declaration order, tensor data packed in that order,
// each tensor padded with zeros to the alignment.
//
// Streaming use (a model never has to be in memory at once):
//     gguf::Writer w(path);
//     w.add("general.architecture", "qwen2");
//     w.add_tensor("token_embd.weight", GgmlType::Q8_0, {896, 32000});
//     w.write_header();
//     w.write_tensor_data(bytes_of_token_embd);   // once per tensor, in declaration order
//     w.finish();

#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "engine/format/gguf.h"

namespace parity::gguf {

class Writer {
public:
    /// Creates (truncates) `path`. Throws IoError.
    explicit Writer(std::string path);

    /// Adds a metadata pair. A duplicate key, or a `general.alignment` that is not a u32
    /// power of two, throws UsageError. Only valid before write_header().
    void add(std::string key, Value value);

    /// Declares a tensor (ne[0] fastest). Throws UsageError on a duplicate name, 0 or more
    /// than 4 dims, non-zero dims whose product exceeds 2^63-1, or ne[0] not a multiple of the
    /// type's block size.
    void add_tensor(std::string name, GgmlType type, std::vector<std::int64_t> ne);

    /// Writes the header, metadata, tensor infos and the padding before the data section.
    void write_header();

    /// Writes the next declared tensor's bytes (exactly its byte size), then padding.
    void write_tensor_data(std::span<const std::byte> data);

    /// Streams part of the next tensor's bytes; once its byte size is reached the padding is
    /// written and the following tensor begins. A chunk may not run past the tensor's end.
    void append_tensor_data(std::span<const std::byte> chunk);

    /// Checks that every tensor was written and closes the file. Throws IoError on failure.
    void finish();

    std::uint32_t alignment() const noexcept { return alignment_; }

private:
    void write_bytes(const void* p, std::size_t n);
    template <typename T>
    void write_pod(T v) {
        write_bytes(&v, sizeof(T));
    }
    void write_string(const std::string& s);
    void write_value(const Value& v);
    void pad_to_alignment();

    std::string path_;
    std::ofstream out_;
    std::uint64_t written_ = 0;
    std::uint32_t alignment_ = kDefaultAlignment;
    std::vector<MetadataEntry> metadata_;
    std::vector<TensorInfo> tensors_;
    std::size_t next_tensor_ = 0;
    std::uint64_t current_written_ = 0;  ///< bytes of tensors_[next_tensor_] written so far
    bool header_written_ = false;
};

/// A tensor and its bytes, for writing a whole (small) file in one call.
struct TensorData {
    std::string name;
    GgmlType type = GgmlType::F32;
    std::vector<std::int64_t> ne;
    std::vector<std::byte> bytes;
};

/// Writes a complete file from in-memory parts.
void write_file(const std::string& path, const std::vector<MetadataEntry>& metadata,
                const std::vector<TensorData>& tensors);

}  // namespace parity::gguf
