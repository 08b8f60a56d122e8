#pragma once
// Helpers shared by the test executables.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace parity::testing {

/// The fixtures directory (env PARITY_FIXTURES_DIR), or nullopt when it is not set or absent.
std::optional<std::filesystem::path> fixtures_dir();

/// `fixtures_dir()/relative` when that file exists, else nullopt.
std::optional<std::filesystem::path> fixture(const std::string& relative);

/// A fresh empty directory for one test, removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// A GoogleTest-safe name for a parameter: the file stem of a path, other characters
/// than letters and digits replaced by '_' ("dir/tiny-qwen2-F32.gguf" -> "tiny_qwen2_F32").
std::string param_name(const std::string& text);

/// Reference CRC-32 (zlib/IEEE) of n bytes, bit by bit: an oracle independent of the engine's
/// Boost.CRC.
std::uint32_t crc32_ref(const std::byte* p, std::size_t n);

std::vector<std::byte> read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::vector<std::byte>& bytes);

}  // namespace parity::testing

/// Skips the current test (GTEST_SKIP) with a clear message when a fixture is missing.
#define PARITY_REQUIRE_FIXTURE(var, relative)                                                    \
    const auto var##_opt = ::parity::testing::fixture(relative);                                 \
    if (!var##_opt) GTEST_SKIP() << "fixture " << (relative) << " not found under PARITY_FIXTURES_DIR" \
                                 << " (set -DPARITY_FIXTURES_DIR=... to the llama.cpp fixtures)"; \
    const std::filesystem::path var = *var##_opt
