// The APR v2 header: encoding, decoding and its CRC (layout in engine/format/apr.h; byte positions as
// aprender's AprV2Header::to_bytes / from_bytes, CRC as compute_checksum).

#include <cstring>

#include "layout.h"
#include "engine/format/apr.h"

namespace parity::apr::detail {

std::uint32_t header_crc(std::span<const std::byte, 64> header) noexcept {
    Crc32 c;
    c.update(header.data(), kOffHeaderCrc);
    c.update(header.data() + kOffReserved, 64 - kOffReserved);
    return c.value();
}

Header decode_header(std::span<const std::byte, 64> header) noexcept {
    const std::byte* p = header.data();
    Header h;
    h.version_major = static_cast<std::uint8_t>(p[kOffVersionMajor]);
    h.version_minor = static_cast<std::uint8_t>(p[kOffVersionMinor]);
    h.flags = load_le<std::uint16_t>(p + kOffFlags);
    h.tensor_count = load_le<std::uint32_t>(p + kOffTensorCount);
    h.metadata_offset = load_le<std::uint64_t>(p + kOffMetadataOffset);
    h.metadata_size = load_le<std::uint32_t>(p + kOffMetadataSize);
    h.tensor_index_offset = load_le<std::uint64_t>(p + kOffTensorIndexOffset);
    h.data_offset = load_le<std::uint64_t>(p + kOffDataOffset);
    h.crc = load_le<std::uint32_t>(p + kOffHeaderCrc);
    return h;
}

void encode_header(const Header& h, std::span<std::byte, 64> out) noexcept {
    std::byte* p = out.data();
    std::memset(p, 0, 64);
    for (std::size_t i = 0; i < kMagic.size(); ++i) p[kOffMagic + i] = static_cast<std::byte>(kMagic[i]);
    p[kOffVersionMajor] = static_cast<std::byte>(h.version_major);
    p[kOffVersionMinor] = static_cast<std::byte>(h.version_minor);
    store_le<std::uint16_t>(p + kOffFlags, h.flags);
    store_le<std::uint32_t>(p + kOffTensorCount, h.tensor_count);
    store_le<std::uint64_t>(p + kOffMetadataOffset, h.metadata_offset);
    store_le<std::uint32_t>(p + kOffMetadataSize, h.metadata_size);
    store_le<std::uint64_t>(p + kOffTensorIndexOffset, h.tensor_index_offset);
    store_le<std::uint64_t>(p + kOffDataOffset, h.data_offset);
    store_le<std::uint32_t>(p + kOffHeaderCrc, header_crc(std::span<const std::byte, 64>(p, 64)));
}

}  // namespace parity::apr::detail
