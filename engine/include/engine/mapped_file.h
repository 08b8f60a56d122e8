#pragma once
// A read-only memory mapping of a whole file (RAII; unmapped on destruction).

#include <cstddef>
#include <span>
#include <string>

namespace parity {

class MappedFile {
public:
    /// Maps `path` read-only. Throws IoError when it cannot be opened or mapped.
    /// An empty file maps to an empty span.
    explicit MappedFile(std::string path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

private:
    void release() noexcept;

    std::string path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace parity
