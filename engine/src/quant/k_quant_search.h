#pragma once
// The scale searches of ggml's K-quant reference quantizers (ggml-quants.c: make_qx_quants,
// make_q3_quants, make_qkx2_quants), with ggml's float operation order. Private to
// engine/src/quant; compiled with -ffp-contract=off like every quant source.

#include <cstddef>
#include <cstdint>
#include <span>

namespace parity::quant_detail {

/// ggml's GROUP_MAX_EPS: a group whose largest |x| is below it quantizes to zeros.
inline constexpr float kGroupMaxEps = 1e-15f;

/// make_qx_quants with rmse_type = 1 and no importance weights (weights x^2), as
/// quantize_row_q6_K_ref calls it. Writes L[i] in [0, 2*nmax-1]; returns the scale
/// (0 for an all-zero group).
float make_qx_quants(int nmax, std::span<const float> x, std::span<std::int8_t> L);

/// make_q3_quants with do_rmse = true (quantize_row_q3_K_ref). Writes L[i] in [0, 2*nmax-1].
float make_q3_quants(int nmax, std::span<const float> x, std::span<std::int8_t> L);

/// make_qkx2_quants: asymmetric search over scale and min. Writes L[i] in [0, nmax] and
/// the_min (>= 0, to be subtracted); returns the scale. `Laux` is scratch of x.size().
float make_qkx2_quants(int nmax, std::span<const float> x, std::span<const float> weights,
                       std::span<std::uint8_t> L, float& the_min, std::span<std::uint8_t> Laux,
                       float rmin, float rdelta, int nstep, bool use_mad);

// ------------------------------------------------------------------ whole super-blocks
// The searches of all sub-blocks of one 256-value super-block, as quantize_row_q2_K_ref ..
// q6_K_ref run them. The *_scalar functions loop over the scalar searches
// above; the others run the sub-blocks in the lanes of AVX2 vectors (8 sub-blocks per vector),
// each lane doing its sub-block's scalar float operations in the same order, so that every
// output bit is the same. Without AVX2 they are the scalar functions.

/// Whether the search_*_superblock(s) functions below use the AVX2 lanes in this build.
bool k_quant_search_is_simd() noexcept;

/// Q4_K / Q5_K: the 8 * count sub-blocks of 32 of x[256 * count] with ggml's weights
/// av_x + |x| (av_x the RMS of the sub-block), make_qkx2_quants(nmax, ..., rmin, rdelta, nstep,
/// use_mad = false) each. Writes scales[8 * count], mins[8 * count] (the_min) and
/// L[256 * count] (sub-block j at L + 32 * j). Two super-blocks at a time keep more of the
/// AVX2 units busy than one.
void search_kx2_superblocks(int nmax, float rmin, float rdelta, int nstep, const float* x, std::size_t count,
                            float* scales, float* mins, std::uint8_t* L);
void search_kx2_superblocks_scalar(int nmax, float rmin, float rdelta, int nstep, const float* x, std::size_t count,
                                   float* scales, float* mins, std::uint8_t* L);

/// Q2_K: the 16 sub-blocks of 16 of x[256] with weights |x|, make_qkx2_quants(3, ..., -0.5,
/// 0.1, 15, use_mad = true) each. Writes scales[16], mins[16] and L[256] (values 0..3).
void search_q2k_superblock(const float* x, float* scales, float* mins, std::uint8_t* L);
void search_q2k_superblock_scalar(const float* x, float* scales, float* mins, std::uint8_t* L);

/// Q3_K: the 16 sub-blocks of 16 of x[256], make_q3_quants(4, ...) each. Writes scales[16] and
/// L[256] (values 0..7, sub-block j at L + 16 * j).
void search_q3k_superblock(const float* x, float* scales, std::int8_t* L);
void search_q3k_superblock_scalar(const float* x, float* scales, std::int8_t* L);

/// Q6_K: the 16 sub-blocks of 16 of x[256], make_qx_quants(32, ...) each. Writes scales[16] and
/// L[256] (values 0..63, sub-block j at L + 16 * j).
void search_qx_superblock(const float* x, float* scales, std::int8_t* L);
void search_qx_superblock_scalar(const float* x, float* scales, std::int8_t* L);

}  // namespace parity::quant_detail
