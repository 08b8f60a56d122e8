// Scale searches of ggml's K-quant reference quantizers. Each line keeps ggml's expression
// and evaluation order (e.g. `w*x[i]*l` is (w*x)*l in float); see k_quant_search.h. The
// super-block searches in AVX2 lanes are in k_quant_search_avx2.cpp.
#include "k_quant_search.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "engine/quant/blocks.h"

namespace parity::quant_detail {

namespace {

/// The element of largest |x| (the first on ties), and that |x|.
struct SignedMax {
    float max = 0;
    float amax = 0;
};

SignedMax signed_max(std::span<const float> x) {
    SignedMax r;
    for (const float v : x) {
        const float ax = std::fabs(v);
        if (ax > r.amax) {
            r.amax = ax;
            r.max = v;
        }
    }
    return r;
}

}  // namespace

float make_qx_quants(int nmax, std::span<const float> x, std::span<std::int8_t> L) {
    const std::size_t n = x.size();
    const auto [max, amax] = signed_max(x);
    if (amax < kGroupMaxEps) {  // all zero
        std::fill(L.begin(), L.end(), std::int8_t{0});
        return 0.f;
    }
    float iscale = static_cast<float>(-nmax) / max;
    float sumlx = 0;
    float suml2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<std::int8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    float scale = suml2 != 0.f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        sumlx = suml2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * static_cast<float>(l);
            suml2 += w * static_cast<float>(l) * static_cast<float>(l);
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (std::size_t i = 0; i < n; ++i) {
                const int l = nearest_int(iscale * x[i]);
                L[i] = static_cast<std::int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

float make_q3_quants(int nmax, std::span<const float> x, std::span<std::int8_t> L) {
    const std::size_t n = x.size();
    const auto [max, amax] = signed_max(x);
    if (amax < kGroupMaxEps) {  // all zero
        std::fill(L.begin(), L.end(), std::int8_t{0});
        return 0.f;
    }
    const float iscale = static_cast<float>(-nmax) / max;
    float sumlx = 0;
    float suml2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<std::int8_t>(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            const auto li = static_cast<float>(L[i]);
            float slx = sumlx - w * x[i] * li;
            if (slx > 0) {
                float sl2 = suml2 - w * li * li;
                int new_l = nearest_int(x[i] * sl2 / slx);
                new_l = std::max(-nmax, std::min(nmax - 1, new_l));
                if (new_l != L[i]) {
                    const auto nl = static_cast<float>(new_l);
                    slx += w * x[i] * nl;
                    sl2 += w * nl * nl;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = static_cast<std::int8_t>(new_l);
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (n_changed == 0) break;
    }
    for (std::size_t i = 0; i < n; ++i) L[i] = static_cast<std::int8_t>(L[i] + nmax);
    // ggml (c392e50) returns sumlx / suml2 unguarded; suml2 > 0 here because the element of
    // largest |x| always gets |l| = nmax with weight x^2 >= 1e-30.
    return sumlx / suml2;
}

float make_qkx2_quants(int nmax, std::span<const float> x, std::span<const float> weights,
                       std::span<std::uint8_t> L, float& the_min, std::span<std::uint8_t> Laux,
                       float rmin, float rdelta, int nstep, bool use_mad) {
    const std::size_t n = x.size();
    float min = x[0];
    float max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (std::size_t i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L.begin(), L.end(), std::uint8_t{0});
        the_min = -min;
        return 0.f;
    }
    const auto fnmax = static_cast<float>(nmax);
    float iscale = fnmax / (max - min);
    float scale = 1 / iscale;
    float best_mad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * (x[i] - min));
        L[i] = static_cast<std::uint8_t>(std::max(0, std::min(nmax, l)));
        float diff = scale * static_cast<float>(L[i]) + min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        best_mad += weights[i] * diff;
    }
    if (nstep < 1) {
        the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * static_cast<float>(is) + fnmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (std::size_t i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = static_cast<std::uint8_t>(l);
            const float w = weights[i];
            const auto fl = static_cast<float>(l);
            sum_l += w * fl;
            sum_l2 += w * fl * fl;
            sum_xl += w * fl * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float mad = 0;
            for (std::size_t i = 0; i < n; ++i) {
                float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
                diff = use_mad ? std::fabs(diff) : diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < best_mad) {
                std::copy_n(Laux.begin(), n, L.begin());
                best_mad = mad;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    the_min = -min;
    return scale;
}

// ------------------------------------------------------------------ whole super-blocks

void search_kx2_superblocks_scalar(int nmax, float rmin, float rdelta, int nstep, const float* x, std::size_t count,
                                   float* scales, float* mins, std::uint8_t* L) {
    std::array<std::uint8_t, 32> Laux{};
    std::array<float, 32> weights{};
    for (std::size_t j = 0; j < 8 * count; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
        scales[j] = make_qkx2_quants(nmax, std::span<const float>(x + 32 * j, 32), weights,
                                     std::span<std::uint8_t>(L + 32 * j, 32), mins[j], Laux, rmin, rdelta, nstep,
                                     false);
    }
}

void search_q2k_superblock_scalar(const float* x, float* scales, float* mins, std::uint8_t* L) {
    std::array<std::uint8_t, 16> Laux{};
    std::array<float, 16> weights{};
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
        scales[j] = make_qkx2_quants(3, std::span<const float>(x + 16 * j, 16), weights,
                                     std::span<std::uint8_t>(L + 16 * j, 16), mins[j], Laux, -0.5f, 0.1f, 15, true);
    }
}

void search_q3k_superblock_scalar(const float* x, float* scales, std::int8_t* L) {
    for (int j = 0; j < 16; ++j) {
        scales[j] = make_q3_quants(4, std::span<const float>(x + 16 * j, 16), std::span<std::int8_t>(L + 16 * j, 16));
    }
}

void search_qx_superblock_scalar(const float* x, float* scales, std::int8_t* L) {
    for (int j = 0; j < 16; ++j) {
        scales[j] = make_qx_quants(32, std::span<const float>(x + 16 * j, 16), std::span<std::int8_t>(L + 16 * j, 16));
    }
}

}  // namespace parity::quant_detail
