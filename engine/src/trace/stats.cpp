// ActivationStats: one pass over the data, sums in double, chunks merged pairwise.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/trace/activation_stats.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace parity {

namespace {

constexpr int kLanes = 4;

bool is_finite_bits(std::uint32_t bits) noexcept { return (bits & 0x7F800000u) != 0x7F800000u; }

}  // namespace

void StatsAccumulator::add(std::span<const float> values) noexcept {
    const std::size_t n = values.size();
    if (n == 0) return;
    const float* x = values.data();

    // The shift: the first finite value (so deviations are small and no precision is lost).
    std::size_t first = 0;
    while (first < n && !is_finite_bits(std::bit_cast<std::uint32_t>(x[first]))) ++first;

    std::uint64_t nan = 0;
    std::uint64_t inf = 0;
    std::uint64_t zero = 0;
    if (first == n) {
        for (std::size_t i = 0; i < n; ++i) {
            if (std::isnan(x[i])) ++nan; else ++inf;
        }
        count_ += n;
        nan_ += nan;
        inf_ += inf;
        return;
    }

    const float shift = x[first];
    const double dshift = shift;
    double s1[kLanes] = {};
    double s2[kLanes] = {};
    float lo[kLanes] = {shift, shift, shift, shift};
    float hi[kLanes] = {shift, shift, shift, shift};
    std::uint64_t bad[kLanes] = {};    // non-finite
    std::uint64_t nans[kLanes] = {};
    std::uint64_t zeros[kLanes] = {};

    std::size_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    // 8 floats per step: the same arithmetic as the portable loop below, in vector form.
    {
        const __m256 vshift = _mm256_set1_ps(shift);
        const __m256d vdshift = _mm256_set1_pd(dshift);
        const __m256i expmask = _mm256_set1_epi32(0x7F800000);
        __m256d a1 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd();
        __m256d a2 = _mm256_setzero_pd(), b2 = _mm256_setzero_pd();
        __m256 vlo = vshift, vhi = vshift;
        constexpr std::size_t kFlush = std::size_t{1} << 20;  // int32 lane counters flushed well before overflow
        while (i + 8 <= n) {
            __m256i cbad = _mm256_setzero_si256(), cnan = _mm256_setzero_si256(), czero = _mm256_setzero_si256();
            const std::size_t end = std::min(n - (n - i) % 8, i + kFlush);
            for (; i < end; i += 8) {
                const __m256 v = _mm256_loadu_ps(x + i);
                const __m256i nonfin = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(v), expmask), expmask);
                const __m256 f = _mm256_blendv_ps(v, vshift, _mm256_castsi256_ps(nonfin));
                const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(f)), vdshift);
                const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)), vdshift);
                a1 = _mm256_add_pd(a1, d0);
                b1 = _mm256_add_pd(b1, d1);
                a2 = _mm256_fmadd_pd(d0, d0, a2);
                b2 = _mm256_fmadd_pd(d1, d1, b2);
                vlo = _mm256_min_ps(vlo, f);
                vhi = _mm256_max_ps(vhi, f);
                cbad = _mm256_sub_epi32(cbad, nonfin);
                cnan = _mm256_sub_epi32(cnan, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
                czero = _mm256_sub_epi32(czero, _mm256_castps_si256(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_EQ_OQ)));
            }
            alignas(32) std::int32_t cb[8], cn[8], cz[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(cb), cbad);
            _mm256_store_si256(reinterpret_cast<__m256i*>(cn), cnan);
            _mm256_store_si256(reinterpret_cast<__m256i*>(cz), czero);
            for (int l = 0; l < 8; ++l) {
                bad[l % kLanes] += static_cast<std::uint64_t>(cb[l]);
                nans[l % kLanes] += static_cast<std::uint64_t>(cn[l]);
                zeros[l % kLanes] += static_cast<std::uint64_t>(cz[l]);
            }
        }
        alignas(32) double t1[4], t2[4];
        _mm256_store_pd(t1, _mm256_add_pd(a1, b1));
        _mm256_store_pd(t2, _mm256_add_pd(a2, b2));
        alignas(32) float l8[8], h8[8];
        _mm256_store_ps(l8, vlo);
        _mm256_store_ps(h8, vhi);
        for (int l = 0; l < 8; ++l) {
            if (l < kLanes) {
                s1[l] += t1[l];
                s2[l] += t2[l];
            }
            lo[l % kLanes] = l8[l] < lo[l % kLanes] ? l8[l] : lo[l % kLanes];
            hi[l % kLanes] = h8[l] > hi[l % kLanes] ? h8[l] : hi[l % kLanes];
        }
    }
#endif
    for (; i + kLanes <= n; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) {
            const float v = x[i + l];
            const bool finite = is_finite_bits(std::bit_cast<std::uint32_t>(v));
            const float f = finite ? v : shift;
            const double d = static_cast<double>(f) - dshift;
            s1[l] += d;
            s2[l] += d * d;
            lo[l] = f < lo[l] ? f : lo[l];
            hi[l] = f > hi[l] ? f : hi[l];
            bad[l] += finite ? 0u : 1u;
            nans[l] += v != v ? 1u : 0u;
            zeros[l] += v == 0.0f ? 1u : 0u;
        }
    }
    for (; i < n; ++i) {
        const float v = x[i];
        const bool finite = is_finite_bits(std::bit_cast<std::uint32_t>(v));
        const float f = finite ? v : shift;
        const double d = static_cast<double>(f) - dshift;
        s1[0] += d;
        s2[0] += d * d;
        lo[0] = f < lo[0] ? f : lo[0];
        hi[0] = f > hi[0] ? f : hi[0];
        bad[0] += finite ? 0u : 1u;
        nans[0] += v != v ? 1u : 0u;
        zeros[0] += v == 0.0f ? 1u : 0u;
    }

    double S1 = 0.0;
    double S2 = 0.0;
    float mn = shift;
    float mx = shift;
    std::uint64_t nonfinite = 0;
    for (int l = 0; l < kLanes; ++l) {
        S1 += s1[l];
        S2 += s2[l];
        mn = lo[l] < mn ? lo[l] : mn;
        mx = hi[l] > mx ? hi[l] : mx;
        nonfinite += bad[l];
        nan += nans[l];
        zero += zeros[l];
    }
    inf = nonfinite - nan;

    StatsAccumulator chunk;
    chunk.count_ = n;
    chunk.nan_ = nan;
    chunk.inf_ = inf;
    chunk.zero_ = zero;
    chunk.finite_ = n - nonfinite;
    chunk.min_ = mn;
    chunk.max_ = mx;
    const double nf = static_cast<double>(chunk.finite_);
    chunk.mean_ = dshift + S1 / nf;
    chunk.m2_ = std::max(0.0, S2 - S1 * S1 / nf);
    merge(chunk);
}

void StatsAccumulator::merge(const StatsAccumulator& o) noexcept {
    if (o.finite_ > 0) {
        if (finite_ == 0) {
            min_ = o.min_;
            max_ = o.max_;
            mean_ = o.mean_;
            m2_ = o.m2_;
        } else {
            const double na = static_cast<double>(finite_);
            const double nb = static_cast<double>(o.finite_);
            const double n = na + nb;
            const double delta = o.mean_ - mean_;
            mean_ += delta * (nb / n);
            m2_ += o.m2_ + delta * delta * (na * nb / n);
            min_ = o.min_ < min_ ? o.min_ : min_;
            max_ = o.max_ > max_ ? o.max_ : max_;
        }
    }
    count_ += o.count_;
    nan_ += o.nan_;
    inf_ += o.inf_;
    zero_ += o.zero_;
    finite_ += o.finite_;
}

ActivationStats StatsAccumulator::finish() const noexcept {
    ActivationStats s;
    s.count = count_;
    s.nan_count = nan_;
    s.inf_count = inf_;
    s.zero_count = zero_;
    if (finite_ == 0) {
        s.min = std::numeric_limits<float>::infinity();
        s.max = -std::numeric_limits<float>::infinity();
        return s;
    }
    s.min = min_;
    s.max = max_;
    s.mean = static_cast<float>(mean_);
    s.std_dev = finite_ < 2 ? 0.0f : static_cast<float>(std::sqrt(m2_ / static_cast<double>(finite_ - 1)));
    return s;
}

StatsAccumulator StatsAccumulator::from_sums(std::uint64_t count, std::uint64_t nan, std::uint64_t inf,
                                             std::uint64_t zero, float min, float max, double sum,
                                             double sum_sq) noexcept {
    StatsAccumulator a;
    a.count_ = count;
    a.nan_ = nan;
    a.inf_ = inf;
    a.zero_ = zero;
    a.finite_ = count - nan - inf;
    if (a.finite_ > 0) {
        const double nf = static_cast<double>(a.finite_);
        a.min_ = min;
        a.max_ = max;
        a.mean_ = sum / nf;
        a.m2_ = std::max(0.0, sum_sq - sum * sum / nf);
    }
    return a;
}

ActivationStats compute_stats(std::span<const float> values) noexcept {
    StatsAccumulator acc;
    acc.add(values);
    return acc.finish();
}

}  // namespace parity
