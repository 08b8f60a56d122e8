// The AVX2 scale searches of Q2_K, Q3_K, Q4_K, Q5_K and Q6_K (k_quant_search.cpp: 8 sub-blocks
// per vector) against the scalar searches they stand in for: the same scale, min and L bits for
// every sub-block, and the same quantize_row bytes, on random super-blocks mixing ordinary and
// degenerate sub-blocks (all zero, max == min, one sign only, signed zeros, tiny, subnormal and
// huge values, ties of nearest_int, a lone outlier, non-finite values).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "engine/quant/ggml_type.h"
#include "engine/quant/quant.h"
#include "quant/codecs.h"
#include "quant/k_quant_search.h"

namespace parity {
namespace {

using quant_detail::k_quant_search_is_simd;

constexpr std::size_t kQK = 256;

/// Fills n values (one sub-block, or a run of them) with pattern `kind`.
void fill_group(std::mt19937& rng, int kind, float* x, std::size_t n) {
    std::normal_distribution<float> normal(0.f, 1.f);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::uniform_int_distribution<int> small_int(-8, 7);
    const float scale = std::ldexp(1.f, std::uniform_int_distribution<int>(-12, 12)(rng));
    switch (kind) {
        case 0:  // N(0, s)
            for (std::size_t i = 0; i < n; ++i) x[i] = scale * normal(rng);
            break;
        case 1:  // all zero
            for (std::size_t i = 0; i < n; ++i) x[i] = 0.f;
            break;
        case 2: {  // constant: max == min (negative), or min clamped to 0 (positive)
            const float c = scale * normal(rng);
            for (std::size_t i = 0; i < n; ++i) x[i] = c;
            break;
        }
        case 3:  // negative only
            for (std::size_t i = 0; i < n; ++i) x[i] = -scale * (unit(rng) + 0.01f);
            break;
        case 4:  // positive only
            for (std::size_t i = 0; i < n; ++i) x[i] = scale * (unit(rng) + 0.01f);
            break;
        case 5:  // tiny, around GROUP_MAX_EPS = 1e-15
            for (std::size_t i = 0; i < n; ++i) x[i] = 1e-15f * (2.f * unit(rng) - 1.f) * (1.f + unit(rng));
            break;
        case 6:  // subnormal
            for (std::size_t i = 0; i < n; ++i) x[i] = 1e-40f * normal(rng);
            break;
        case 7: {  // huge: 1e4 .. 1e30 (x^2 and x^3 overflow at the top)
            const float big = std::pow(10.f, static_cast<float>(std::uniform_int_distribution<int>(4, 30)(rng)));
            for (std::size_t i = 0; i < n; ++i) x[i] = big * normal(rng);
            break;
        }
        case 8:  // few distinct levels: ties in nearest_int, exact fits
            for (std::size_t i = 0; i < n; ++i) x[i] = scale * static_cast<float>(small_int(rng));
            break;
        case 9:  // half-integer levels
            for (std::size_t i = 0; i < n; ++i) x[i] = scale * (static_cast<float>(small_int(rng)) + 0.5f);
            break;
        case 10: {  // one outlier in small noise
            for (std::size_t i = 0; i < n; ++i) x[i] = 1e-3f * scale * normal(rng);
            x[std::uniform_int_distribution<std::size_t>(0, n - 1)(rng)] = scale * (unit(rng) < 0.5f ? -50.f : 50.f);
            break;
        }
        case 11: {  // a single non-zero value
            for (std::size_t i = 0; i < n; ++i) x[i] = 0.f;
            x[std::uniform_int_distribution<std::size_t>(0, n - 1)(rng)] = scale * normal(rng);
            break;
        }
        case 12:  // signed zeros and small values of both signs
            for (std::size_t i = 0; i < n; ++i) {
                const float u = unit(rng);
                x[i] = u < 0.3f ? -0.f : u < 0.6f ? 0.f : scale * normal(rng);
            }
            break;
        default:  // 13: signed zeros only
            for (std::size_t i = 0; i < n; ++i) x[i] = unit(rng) < 0.5f ? -0.f : 0.f;
            break;
    }
}

constexpr int kKinds = 14;

/// `count` super-blocks whose sub-blocks (of 16 or 32 values, or whole halves) get patterns
/// drawn at random; about a third of the super-blocks are plain N(0, 1) throughout.
std::vector<float> make_superblocks(std::mt19937& rng, std::size_t count) {
    std::vector<float> x(count * kQK);
    for (std::size_t b = 0; b < count; ++b) {
        float* xb = x.data() + b * kQK;
        const int mode = std::uniform_int_distribution<int>(0, 2)(rng);
        if (mode == 0) {
            fill_group(rng, 0, xb, kQK);
            continue;
        }
        const std::size_t group = mode == 1 ? 16 : 32;
        for (std::size_t g = 0; g < kQK; g += group) {
            fill_group(rng, std::uniform_int_distribution<int>(0, kKinds - 1)(rng), xb + g, group);
        }
    }
    return x;
}

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

std::string where(std::size_t sub_block, const std::vector<float>& x, std::size_t n) {
    std::ostringstream os;
    os << "sub-block " << sub_block << ", x =" << std::hexfloat;
    for (std::size_t i = 0; i < n; ++i) os << ' ' << x[sub_block * n + i];
    return os.str();
}

class KQuantSimdTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!k_quant_search_is_simd()) GTEST_SKIP() << "this build has no AVX2 K-quant searches";
    }
};

struct Kx2Case {
    const char* name;
    int nmax;
    float rmin;
    float rdelta;
    int nstep;
};
constexpr Kx2Case kQ4K{"Q4_K", 15, -1.f, 0.1f, 20};
constexpr Kx2Case kQ5K{"Q5_K", 31, -0.5f, 0.1f, 15};

void expect_kx2_search_matches(const Kx2Case& c, const std::vector<float>& x, std::size_t count) {
    std::vector<float> scales(8 * count), mins(8 * count), scales_ref(8 * count), mins_ref(8 * count);
    std::vector<std::uint8_t> L(kQK * count, 0xAA), L_ref(kQK * count, 0x55);
    quant_detail::search_kx2_superblocks(c.nmax, c.rmin, c.rdelta, c.nstep, x.data(), count, scales.data(),
                                         mins.data(), L.data());
    quant_detail::search_kx2_superblocks_scalar(c.nmax, c.rmin, c.rdelta, c.nstep, x.data(), count,
                                                scales_ref.data(), mins_ref.data(), L_ref.data());
    int failures = 0;
    for (std::size_t j = 0; j < 8 * count && failures < 5; ++j) {
        const bool same = bits(scales[j]) == bits(scales_ref[j]) && bits(mins[j]) == bits(mins_ref[j]) &&
                          std::memcmp(L.data() + 32 * j, L_ref.data() + 32 * j, 32) == 0;
        if (!same) {
            ++failures;
            ADD_FAILURE() << c.name << " " << where(j, x, 32) << "\n  scale " << scales[j] << " vs " << scales_ref[j]
                          << ", min " << mins[j] << " vs " << mins_ref[j];
        }
    }
}

void expect_q2k_search_matches(const std::vector<float>& x, std::size_t count) {
    for (std::size_t b = 0; b < count; ++b) {
        float scales[16], mins[16], scales_ref[16], mins_ref[16];
        std::uint8_t L[kQK], L_ref[kQK];
        std::memset(L, 0xAA, sizeof L);
        std::memset(L_ref, 0x55, sizeof L_ref);
        quant_detail::search_q2k_superblock(x.data() + b * kQK, scales, mins, L);
        quant_detail::search_q2k_superblock_scalar(x.data() + b * kQK, scales_ref, mins_ref, L_ref);
        for (std::size_t j = 0; j < 16; ++j) {
            if (bits(scales[j]) != bits(scales_ref[j]) || bits(mins[j]) != bits(mins_ref[j]) ||
                std::memcmp(L + 16 * j, L_ref + 16 * j, 16) != 0) {
                ADD_FAILURE() << "Q2_K " << where(16 * b + j, x, 16) << "\n  scale " << scales[j] << " vs "
                              << scales_ref[j] << ", min " << mins[j] << " vs " << mins_ref[j];
                return;
            }
        }
    }
}

using SignedSearch = void (*)(const float*, float*, std::int8_t*);

/// Q3_K (make_q3_quants) or Q6_K (make_qx_quants): scale and L of 16 sub-blocks of 16.
void expect_signed_search_matches(const char* name, SignedSearch simd, SignedSearch scalar,
                                  const std::vector<float>& x, std::size_t count) {
    for (std::size_t b = 0; b < count; ++b) {
        float scales[16], scales_ref[16];
        std::int8_t L[kQK], L_ref[kQK];
        std::memset(L, 0x2A, sizeof L);
        std::memset(L_ref, 0x15, sizeof L_ref);
        simd(x.data() + b * kQK, scales, L);
        scalar(x.data() + b * kQK, scales_ref, L_ref);
        for (std::size_t j = 0; j < 16; ++j) {
            if (bits(scales[j]) != bits(scales_ref[j]) || std::memcmp(L + 16 * j, L_ref + 16 * j, 16) != 0) {
                ADD_FAILURE() << name << " " << where(16 * b + j, x, 16) << "\n  scale " << scales[j] << " vs "
                              << scales_ref[j];
                return;
            }
        }
    }
}

void expect_qx_search_matches(const std::vector<float>& x, std::size_t count) {
    expect_signed_search_matches("Q6_K", quant_detail::search_qx_superblock, quant_detail::search_qx_superblock_scalar,
                                 x, count);
}

void expect_q3k_search_matches(const std::vector<float>& x, std::size_t count) {
    expect_signed_search_matches("Q3_K", quant_detail::search_q3k_superblock,
                                 quant_detail::search_q3k_superblock_scalar, x, count);
}

void expect_row_bytes_match(GgmlType type, void (*scalar)(quant_detail::Src, quant_detail::Dst),
                            const std::vector<float>& x) {
    const std::size_t size = row_size(type, static_cast<std::int64_t>(x.size()));
    std::vector<std::byte> q(size, std::byte{0xAA}), q_ref(size, std::byte{0x55});
    quantize_row(type, x, q);
    scalar(x, q_ref);
    const std::size_t block = size / (x.size() / kQK);
    for (std::size_t b = 0; b < x.size() / kQK; ++b) {
        if (std::memcmp(q.data() + b * block, q_ref.data() + b * block, block) != 0) {
            ADD_FAILURE() << type_name(type) << ": super-block " << b << " differs from the scalar search";
            return;
        }
    }
}

/// quantize_row bytes against the scalar-search quantizer for Q2_K .. Q6_K.
void expect_all_row_bytes_match(const std::vector<float>& x) {
    expect_row_bytes_match(GgmlType::Q2_K, quant_detail::quantize_q2_k_scalar, x);
    expect_row_bytes_match(GgmlType::Q3_K, quant_detail::quantize_q3_k_scalar, x);
    expect_row_bytes_match(GgmlType::Q4_K, quant_detail::quantize_q4_k_scalar, x);
    expect_row_bytes_match(GgmlType::Q5_K, quant_detail::quantize_q5_k_scalar, x);
    expect_row_bytes_match(GgmlType::Q6_K, quant_detail::quantize_q6_k_scalar, x);
}

TEST_F(KQuantSimdTest, Q4KAndQ5KSearchesGiveTheScalarBits) {
    std::mt19937 rng(20240611);
    // Counts 1..5 cover the pairs of super-blocks run together and a single one left over.
    for (std::size_t round = 0; round < 600; ++round) {
        const std::size_t count = 1 + round % 5;
        const auto x = make_superblocks(rng, count);
        expect_kx2_search_matches(kQ4K, x, count);
        expect_kx2_search_matches(kQ5K, x, count);
        if (HasFailure()) return;
    }
}

TEST_F(KQuantSimdTest, Q2KSearchGivesTheScalarBits) {
    std::mt19937 rng(20240614);
    const auto x = make_superblocks(rng, 2000);
    expect_q2k_search_matches(x, 2000);
}

TEST_F(KQuantSimdTest, Q3KSearchGivesTheScalarBits) {
    std::mt19937 rng(20240615);
    const auto x = make_superblocks(rng, 2000);
    expect_q3k_search_matches(x, 2000);
}

TEST_F(KQuantSimdTest, Q6KSearchGivesTheScalarBits) {
    std::mt19937 rng(20240612);
    const auto x = make_superblocks(rng, 2000);
    expect_qx_search_matches(x, 2000);
}

TEST_F(KQuantSimdTest, QuantizeRowGivesTheScalarBytes) {
    std::mt19937 rng(20240613);
    for (const std::size_t count : {1, 2, 3, 7, 1500}) {
        const auto x = make_superblocks(rng, count);
        expect_all_row_bytes_match(x);
    }
}

TEST_F(KQuantSimdTest, PlainGaussianWeights) {
    // The bulk of a real model: every sub-block ordinary, many candidates winning.
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.f, 0.02f);
    std::vector<float> x(kQK * 4096);
    for (auto& v : x) v = normal(rng);
    expect_all_row_bytes_match(x);
}

TEST_F(KQuantSimdTest, NonFiniteValues) {
    // ggml's output for inf / NaN input is meaningless, but it is still the scalar code's output.
    std::mt19937 rng(99);
    std::uniform_int_distribution<std::size_t> pos(0, kQK - 1);
    const float specials[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(),
                              -std::numeric_limits<float>::max()};
    std::vector<float> x = make_superblocks(rng, 200);
    for (std::size_t b = 0; b < 200; ++b) {
        for (int k = 0; k < 1 + static_cast<int>(b % 3); ++k) x[b * kQK + pos(rng)] = specials[(b + k) % 5];
    }
    expect_kx2_search_matches(kQ4K, x, 200);
    expect_kx2_search_matches(kQ5K, x, 200);
    expect_q2k_search_matches(x, 200);
    expect_q3k_search_matches(x, 200);
    expect_qx_search_matches(x, 200);
    expect_all_row_bytes_match(x);
}

}  // namespace
}  // namespace parity
