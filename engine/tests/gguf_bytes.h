#pragma once
// A little-endian byte builder for hand-made (often deliberately broken) GGUF images.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace parity::testing {

class GgufBytes {
public:
    GgufBytes& u8(std::uint8_t v) { return pod(v); }
    GgufBytes& u32(std::uint32_t v) { return pod(v); }
    GgufBytes& u64(std::uint64_t v) { return pod(v); }
    GgufBytes& f32(float v) { return pod(v); }
    GgufBytes& str(const std::string& s) {
        u64(s.size());
        for (char c : s) bytes_.push_back(static_cast<std::byte>(c));
        return *this;
    }
    /// header: magic, version, n_tensors, n_kv
    GgufBytes& header(std::uint64_t n_tensors, std::uint64_t n_kv, std::uint32_t version = 3) {
        return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
    }
    /// key + u32 value
    GgufBytes& kv_u32(const std::string& key, std::uint32_t v) { return str(key).u32(4).u32(v); }
    GgufBytes& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
    /// a tensor info: name, dims, type id, offset
    GgufBytes& tensor(const std::string& name, const std::vector<std::uint64_t>& ne, std::uint32_t type,
                      std::uint64_t offset) {
        str(name).u32(static_cast<std::uint32_t>(ne.size()));
        for (auto d : ne) u64(d);
        return u32(type).u64(offset);
    }
    GgufBytes& pad_to(std::size_t alignment) {
        while (bytes_.size() % alignment != 0) bytes_.push_back(std::byte{0});
        return *this;
    }
    GgufBytes& zeros(std::size_t n) {
        bytes_.insert(bytes_.end(), n, std::byte{0});
        return *this;
    }
    std::size_t size() const noexcept { return bytes_.size(); }
    const std::vector<std::byte>& bytes() const noexcept { return bytes_; }

private:
    template <typename T>
    GgufBytes& pod(T v) {
        std::byte tmp[sizeof(T)];
        std::memcpy(tmp, &v, sizeof(T));
        bytes_.insert(bytes_.end(), tmp, tmp + sizeof(T));
        return *this;
    }
    std::vector<std::byte> bytes_;
};

}  // namespace parity::testing
