#include "test_support.h"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace parity::testing {

std::optional<std::filesystem::path> fixtures_dir() {
    const char* env = std::getenv("PARITY_FIXTURES_DIR");
    if (env == nullptr || *env == '\0') return std::nullopt;
    std::filesystem::path p(env);
    if (!std::filesystem::is_directory(p)) return std::nullopt;
    return p;
}

std::optional<std::filesystem::path> fixture(const std::string& relative) {
    auto dir = fixtures_dir();
    if (!dir) return std::nullopt;
    auto p = *dir / relative;
    if (!std::filesystem::exists(p)) return std::nullopt;
    return p;
}

TempDir::TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("parity-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string param_name(const std::string& text) {
    std::string s = std::filesystem::path(text).stem().string();
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

std::vector<std::byte> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    in.seekg(0, std::ios::end);
    std::vector<std::byte> out(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
    return out;
}

void write_file(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + p.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t crc32_ref(const std::byte* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= static_cast<std::uint8_t>(p[i]);
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

}  // namespace parity::testing
