#pragma once
// Portable, seedable randomness for synthetic models: the same numbers on every compiler and
// machine (std::normal_distribution is implementation-defined, so it is not used).

#include <cstdint>
#include <string_view>

namespace parity::synth {

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator with good 64-bit output.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// An approximately standard normal value: the sum of four 16-bit uniforms, centred and
    /// scaled to unit variance (Irwin-Hall with n = 4; range about ±3.46). Uses no libm, so
    /// it is bit-reproducible everywhere.
    float normal() noexcept {
        const std::uint64_t r = next();
        const double sum = static_cast<double>(r & 0xFFFF) + static_cast<double>((r >> 16) & 0xFFFF) +
                           static_cast<double>((r >> 32) & 0xFFFF) + static_cast<double>(r >> 48);
        // Each uniform (k + 0.5) / 65536 has mean 1/2 and variance ~1/12; four of them: mean 2, variance 1/3.
        const double u = (sum + 2.0) / 65536.0;
        return static_cast<float>((u - 2.0) * 1.7320508075688772);
    }

private:
    std::uint64_t state_;
};

/// FNV-1a of a string mixed into a seed: independent streams per tensor name.
inline std::uint64_t mix_seed(std::uint64_t seed, std::string_view text) noexcept {
    std::uint64_t h = 0xCBF29CE484222325ULL ^ seed;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001B3ULL;
    }
    return SplitMix64(h).next();
}

}  // namespace parity::synth
