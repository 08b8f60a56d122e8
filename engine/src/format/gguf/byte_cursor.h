#pragma once
// Bounds-checked little-endian reads from an untrusted byte image. Every failure throws
// FormatError with the file name and the byte offset where the bad field starts.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace parity {

class ByteCursor {
public:
    ByteCursor(std::span<const std::byte> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

    std::uint64_t pos() const noexcept { return pos_; }
    std::uint64_t remaining() const noexcept { return bytes_.size() - pos_; }
    std::uint64_t size() const noexcept { return bytes_.size(); }
    const std::string& file() const noexcept { return file_; }

    [[noreturn]] void fail(std::uint64_t at, const std::string& cause) const { throw FormatError(file_, at, cause); }

    /// Throws "truncated" unless `n` more bytes are available for `what`.
    void need(std::uint64_t n, std::string_view what) const {
        if (n > remaining()) {
            fail(pos_, "file truncated: " + std::string(what) + " needs " + std::to_string(n) + " byte(s), " +
                           std::to_string(remaining()) + " left");
        }
    }

    template <typename T>
    T read(std::string_view what) {
        need(sizeof(T), what);
        T value;
        std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }

    /// A u64 length followed by that many bytes; the length is checked against the bytes left.
    std::string read_string(std::string_view what) {
        const std::uint64_t at = pos_;
        const auto len = read<std::uint64_t>(what);
        if (len > remaining()) {
            fail(at, std::string(what) + " length " + std::to_string(len) + " exceeds the " +
                         std::to_string(remaining()) + " byte(s) left in the file");
        }
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(len));
        pos_ += len;
        return s;
    }

    void seek(std::uint64_t pos) noexcept { pos_ = pos; }

private:
    std::span<const std::byte> bytes_;
    const std::string& file_;
    std::uint64_t pos_ = 0;
};

}  // namespace parity
