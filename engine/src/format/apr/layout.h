#pragma once
// Private pieces of the APR v2 format shared by the reader and the writer: the 64-byte header
// (layout in engine/format/apr.h) and CRC-32.

#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/crc.hpp>

namespace parity::apr::detail {

/// Header field offsets.
inline constexpr std::size_t kOffMagic = 0;
inline constexpr std::size_t kOffVersionMajor = 4;
inline constexpr std::size_t kOffVersionMinor = 5;
inline constexpr std::size_t kOffFlags = 6;
inline constexpr std::size_t kOffTensorCount = 8;
inline constexpr std::size_t kOffMetadataOffset = 12;
inline constexpr std::size_t kOffMetadataSize = 20;
inline constexpr std::size_t kOffTensorIndexOffset = 24;
inline constexpr std::size_t kOffDataOffset = 32;
inline constexpr std::size_t kOffHeaderCrc = 40;
inline constexpr std::size_t kOffReserved = 44;

/// The smallest index entry: u16 name_len, empty name, dtype, ndim 0, offset, size.
inline constexpr std::uint64_t kMinIndexEntrySize = 2 + 1 + 1 + 8 + 8;

struct Header {
    std::uint8_t version_major = 0;
    std::uint8_t version_minor = 0;
    std::uint16_t flags = 0;
    std::uint32_t tensor_count = 0;
    std::uint64_t metadata_offset = 0;
    std::uint32_t metadata_size = 0;
    std::uint64_t tensor_index_offset = 0;
    std::uint64_t data_offset = 0;
    std::uint32_t crc = 0;
};

/// Incremental CRC-32 (zlib/IEEE), Boost.CRC's crc_32_type.
class Crc32 {
public:
    void update(const void* p, std::size_t n) noexcept { crc_.process_bytes(p, n); }
    void update(std::span<const std::byte> bytes) noexcept { update(bytes.data(), bytes.size()); }
    std::uint32_t value() const noexcept { return crc_.checksum(); }

private:
    boost::crc_32_type crc_;
};

inline std::uint32_t crc32(std::span<const std::byte> bytes) noexcept {
    Crc32 c;
    c.update(bytes);
    return c.value();
}

/// The header CRC: bytes 0..39 then 44..63 of a 64-byte header image.
std::uint32_t header_crc(std::span<const std::byte, 64> header) noexcept;

/// Decodes the fields of a 64-byte header image (no validation).
Header decode_header(std::span<const std::byte, 64> header) noexcept;

/// Encodes `h` (magic, fields, zero reserved bytes) and stores its CRC in bytes 40..43;
/// h.crc is ignored.
void encode_header(const Header& h, std::span<std::byte, 64> out) noexcept;

/// Little-endian load/store of an unsigned integer at `p`.
template <typename T>
T load_le(const std::byte* p) noexcept {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | static_cast<T>(static_cast<T>(p[i]) << (8 * i)));
    return v;
}

template <typename T>
void store_le(std::byte* p, T v) noexcept {
    for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}

}  // namespace parity::apr::detail
