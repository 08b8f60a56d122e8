// KV cache and attention (ggml's mul_mat / soft_max_ext semantics for f32 and f16 caches).

#include "attention.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/half.h"
#include "engine/runtime/ggml_exp.h"
#include "kernels.h"

#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>
#endif

namespace parity::cpu {

namespace {

constexpr int kLanes = 4;

/// sum (float)(a[i] * b[i]) in double.
double dot_f32_double(const float* a, const float* b, int n) noexcept {
    double acc[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(a[i + l] * b[i + l]);
    }
    double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; ++i) sum += static_cast<double>(a[i] * b[i]);
    return sum;
}

#if defined(__AVX2__) && defined(__F16C__)
// The same sums with F16C conversions (exact, as fp16_to_fp32) and the 4 double lanes in one
// register: lane l adds the same products in the same order.
double dot_f16_double(const std::uint16_t* a, const float* b, int n) noexcept {
    __m256d acc = _mm256_setzero_pd();
    int i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const __m128 w = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i)));
        acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_mul_ps(w, _mm_loadu_ps(b + i))));
    }
    alignas(32) double lanes[kLanes];
    _mm256_store_pd(lanes, acc);
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i]) * b[i]);
    return sum;
}

/// acc[d] += (double)(v[d] * p) for d < n, v in fp16.
void add_scaled_f16(double* acc, const std::uint16_t* v, float p, int n) noexcept {
    const __m256 pv = _mm256_set1_ps(p);
    int d = 0;
    for (; d + 8 <= n; d += 8) {
        const __m256 prod = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + d))), pv);
        _mm256_storeu_pd(acc + d, _mm256_add_pd(_mm256_loadu_pd(acc + d), _mm256_cvtps_pd(_mm256_castps256_ps128(prod))));
        _mm256_storeu_pd(acc + d + 4,
                         _mm256_add_pd(_mm256_loadu_pd(acc + d + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(prod, 1))));
    }
    for (; d < n; ++d) acc[d] += static_cast<double>(fp16_to_fp32(v[d]) * p);
}

/// out[i] = fp32_to_fp16(x[i]): F16C rounds to nearest even as fp32_to_fp16 does (a NaN keeps
/// its payload there, where fp32_to_fp16 makes it 0x7E00; both are NaN).
void to_f16(const float* x, std::uint16_t* out, int n) noexcept {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}
#else
double dot_f16_double(const std::uint16_t* a, const float* b, int n) noexcept {
    double acc[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(fp16_to_fp32(a[i + l]) * b[i + l]);
    }
    double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(a[i]) * b[i]);
    return sum;
}

void add_scaled_f16(double* acc, const std::uint16_t* v, float p, int n) noexcept {
    for (int d = 0; d < n; ++d) acc[d] += static_cast<double>(fp16_to_fp32(v[d]) * p);
}

void to_f16(const float* x, std::uint16_t* out, int n) noexcept {
    for (int i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
}
#endif

float round_f16(float x) noexcept { return fp16_to_fp32(fp32_to_fp16(x)); }

}  // namespace

KvCache::KvCache(KvType type, int n_layers, int capacity, int kv_dim)
    : type_(type), capacity_(capacity), kv_dim_(kv_dim), elem_(type == KvType::F32 ? 4 : 2) {
    const std::size_t bytes = static_cast<std::size_t>(capacity) * static_cast<std::size_t>(kv_dim) * elem_;
    for (int l = 0; l < n_layers; ++l) {
        k_.push_back(std::unique_ptr<std::byte[]>(new std::byte[bytes]));
        v_.push_back(std::unique_ptr<std::byte[]>(new std::byte[bytes]));
    }
}

void KvCache::store(int layer, int pos, const float* k, const float* v) noexcept {
    const std::size_t off = static_cast<std::size_t>(pos) * static_cast<std::size_t>(kv_dim_) * elem_;
    std::byte* kd = k_[static_cast<std::size_t>(layer)].get() + off;
    std::byte* vd = v_[static_cast<std::size_t>(layer)].get() + off;
    if (type_ == KvType::F32) {
        std::memcpy(kd, k, static_cast<std::size_t>(kv_dim_) * 4);
        std::memcpy(vd, v, static_cast<std::size_t>(kv_dim_) * 4);
        return;
    }
    to_f16(k, reinterpret_cast<std::uint16_t*>(kd), kv_dim_);
    to_f16(v, reinterpret_cast<std::uint16_t*>(vd), kv_dim_);
}

std::size_t attention_scratch_floats(int capacity, int head_dim) noexcept {
    // scores [capacity + 4] (padded to groups of 4), rounded query [head_dim], double
    // accumulators [head_dim] (2 floats each)
    return static_cast<std::size_t>(capacity) + 4 + 3 * static_cast<std::size_t>(head_dim) + 8;
}

void attend(const KvCache& kv, int layer, const AttentionShape& s, const float* q, int first, int pos, int h0,
            int h1, float* scratch, float* out) noexcept {
    const int hd = s.head_dim;
    const int n_kv = pos + 1 - first;
    const int group = s.n_head / s.n_head_kv;
    const std::size_t kv_dim = static_cast<std::size_t>(kv.kv_dim());
    // ggml's softmax row spans the whole (padded) cache and takes its exponentials in groups of
    // 4 cache positions; the masked positions (-inf) of a group add exact zeros. The row here
    // runs over [first & ~3, pos + 1 rounded up to 4), masked outside [first, pos].
    const int row0 = first & ~3;
    const int row_len = ((pos + 4) & ~3) - row0;
    float* row = scratch;
    float* scores = row + (first - row0);
    float* qr = scratch + kv.capacity() + 4;
    // double accumulators, 8-byte aligned inside the float scratch
    auto* acc_raw = qr + hd;
    const auto misalign = reinterpret_cast<std::uintptr_t>(acc_raw) % alignof(double);
    auto* acc = reinterpret_cast<double*>(acc_raw + (misalign ? 1 : 0));
    const bool f16 = kv.type() == KvType::F16;

    for (int h = h0; h < h1; ++h) {
        const int g = h / group;
        const float* qh = q + static_cast<std::ptrdiff_t>(h) * hd;
        if (f16) {
            for (int d = 0; d < hd; ++d) qr[d] = round_f16(qh[d]);
            const auto* K = reinterpret_cast<const std::uint16_t*>(kv.k(layer)) + static_cast<std::size_t>(first) * kv_dim;
            for (int j = 0; j < n_kv; ++j) {
                const std::uint16_t* kr = K + static_cast<std::size_t>(j) * kv_dim + static_cast<std::size_t>(g) * hd;
                scores[j] = static_cast<float>(dot_f16_double(kr, qr, hd)) * s.scale;
            }
        } else {
            const auto* K = reinterpret_cast<const float*>(kv.k(layer)) + static_cast<std::size_t>(first) * kv_dim;
            for (int j = 0; j < n_kv; ++j) {
                const float* kr = K + static_cast<std::size_t>(j) * kv_dim + static_cast<std::size_t>(g) * hd;
                scores[j] = static_cast<float>(dot_f32_double(kr, qh, hd)) * s.scale;
            }
        }
        for (int j = 0; j < first - row0; ++j) row[j] = -std::numeric_limits<float>::infinity();
        for (int j = first - row0 + n_kv; j < row_len; ++j) row[j] = -std::numeric_limits<float>::infinity();
        softmax(row, row_len);
        for (int d = 0; d < hd; ++d) acc[d] = 0.0;
        if (f16) {
            const auto* V = reinterpret_cast<const std::uint16_t*>(kv.v(layer)) + static_cast<std::size_t>(first) * kv_dim;
            for (int j = 0; j < n_kv; ++j) {
                const float p = round_f16(scores[j]);
                add_scaled_f16(acc, V + static_cast<std::size_t>(j) * kv_dim + static_cast<std::size_t>(g) * hd, p, hd);
            }
        } else {
            const auto* V = reinterpret_cast<const float*>(kv.v(layer)) + static_cast<std::size_t>(first) * kv_dim;
            for (int j = 0; j < n_kv; ++j) {
                const float p = scores[j];
                const float* vr = V + static_cast<std::size_t>(j) * kv_dim + static_cast<std::size_t>(g) * hd;
                for (int d = 0; d < hd; ++d) acc[d] += static_cast<double>(vr[d] * p);
            }
        }
        float* oh = out + static_cast<std::ptrdiff_t>(h) * hd;
        for (int d = 0; d < hd; ++d) oh[d] = static_cast<float>(acc[d]);
    }
}

void softmax(float* s, std::int64_t n) noexcept {
    float max = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) max = s[i] > max ? s[i] : max;
    const double sum = ggml_soft_max_exp(s, s, n, max);
    const auto inv = static_cast<float>(1.0 / sum);
    for (std::int64_t i = 0; i < n; ++i) s[i] *= inv;
}

}  // namespace parity::cpu
