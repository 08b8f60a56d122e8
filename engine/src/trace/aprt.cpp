#include "engine/trace/aprt.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "engine/error.h"
#include "engine/mapped_file.h"

namespace parity::aprt {

namespace {

void put_u32(std::byte* out, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}

std::uint32_t get_u32(const std::byte* in) noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::to_integer<std::uint32_t>(in[i]) << (8 * i);
    return v;
}

std::string magic_text(std::span<const std::byte> bytes) {
    std::string s;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
        const auto c = std::to_integer<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7F) {
            s += static_cast<char>(c);
        } else {
            static const char* hex = "0123456789abcdef";
            s += "\\x";
            s += hex[c >> 4];
            s += hex[c & 0xF];
        }
    }
    return s;
}

}  // namespace

int stage_index(std::string_view stage) noexcept {
    const auto it = std::find(kStageNames.begin(), kStageNames.end(), stage);
    return it == kStageNames.end() ? -1 : static_cast<int>(it - kStageNames.begin());
}

int stage_rank(std::string_view stage) noexcept {
    if (stage == "ffn_router") return 2 * stage_index("ffn_norm") + 1;
    const int i = stage_index(stage);
    return i < 0 ? -1 : 2 * i;
}

bool is_whole_model_stage(std::string_view stage) noexcept {
    return stage == "embedding" || stage == "final_norm" || stage == "lm_head";
}

std::vector<std::byte> encode(std::uint32_t layer, std::span<const float> values) {
    if (values.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw UsageError("APRT: " + std::to_string(values.size()) +
                         " values do not fit the header's u32 element count");
    }
    std::vector<std::byte> out(kHeaderSize + 4 * values.size());
    std::memcpy(out.data(), kMagic.data(), kMagic.size());
    put_u32(out.data() + 4, layer);
    put_u32(out.data() + 8, static_cast<std::uint32_t>(values.size()));
    std::byte* p = out.data() + kHeaderSize;
    for (const float v : values) {
        put_u32(p, std::bit_cast<std::uint32_t>(v));
        p += 4;
    }
    return out;
}

Tensor decode(std::span<const std::byte> bytes, const std::string& name) {
    const std::size_t size = bytes.size();
    if (size > 0 && std::memcmp(bytes.data(), kMagic.data(), std::min(size, kMagic.size())) != 0) {
        throw FormatError(name, 0, "not an APRT file: magic \"" + magic_text(bytes) + "\", expected \"APRT\"");
    }
    if (size < kHeaderSize) {
        throw FormatError(name, size, "truncated APRT header: " + std::to_string(size) + " bytes, need 12");
    }
    Tensor t;
    t.layer = get_u32(bytes.data() + 4);
    const std::uint32_t count = get_u32(bytes.data() + 8);
    const std::uint64_t expected = kHeaderSize + 4 * static_cast<std::uint64_t>(count);
    if (size < expected) {
        throw FormatError(name, size,
                          "truncated APRT values: the header counts " + std::to_string(count) + " f32 (" +
                              std::to_string(expected) + " bytes in all), the file has " + std::to_string(size) +
                              " bytes");
    }
    if (size > expected) {
        throw FormatError(name, expected,
                          std::to_string(size - expected) + " trailing bytes after the " + std::to_string(count) +
                              " f32 the header counts");
    }
    t.values.resize(count);
    const std::byte* p = bytes.data() + kHeaderSize;
    for (float& v : t.values) {
        v = std::bit_cast<float>(get_u32(p));
        p += 4;
    }
    return t;
}

Tensor read_file(const std::filesystem::path& path) {
    const MappedFile file(path.string());
    return decode(file.bytes(), path.string());
}

void write_file(const std::filesystem::path& path, std::uint32_t layer, std::span<const float> values) {
    const std::vector<std::byte> bytes = encode(layer, values);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(path.string(), std::string("cannot create: ") + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw IoError(path.string(), "cannot write " + std::to_string(bytes.size()) + " bytes");
}

}  // namespace parity::aprt
