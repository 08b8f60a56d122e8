#pragma once
// The scale searches of ggml's K-quant reference quantizers (ggml-quants.c: make_qx_quants,
// make_q3_quants, make_qkx2_quants), with ggml's float operation order. Private to
// engine/src/quant; compiled with -ffp-contract=off like every quant source.

#include <cstdint>
#include <span>

namespace parity::quant_detail {

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

}  // namespace parity::quant_detail
