// Batched matrix-vector products per policy.

#include "matmul.h"

#include <algorithm>
#include <span>
#include <string>

#include "engine/error.h"
#include "engine/quant/quant.h"
#include "threads.h"

namespace parity::cpu {

namespace {

float dot_f32_plain(std::int64_t n, const std::byte* w, const std::byte* a) noexcept {
    // Rows are f32 and 4-byte aligned (mapped files and vectors).
    return dot_f32(n, reinterpret_cast<const float*>(w), reinterpret_cast<const float*>(a));
}

}  // namespace

PreparedMatrix prepare_matrix(const WeightMatrix& w, MatmulPolicy policy) {
    PreparedMatrix p;
    p.n_in = w.n_in;
    p.n_out = w.n_out;
    p.type = w.type;
    p.data = w.data.data();
    p.row_bytes = w.row_bytes();
    if (policy == MatmulPolicy::Dequant) {
        if (w.type != GgmlType::F32 && !can_dequantize(w.type)) {
            throw UsageError("matmul: cannot dequantize '" + w.name + "' of type " + std::string(type_name(w.type)));
        }
        p.act_type = GgmlType::F32;
        p.dot = dot_f32_plain;
        p.decode = w.type != GgmlType::F32;
        return p;
    }
    const auto act = dot_type(w.type);
    if (!act) throw UsageError("matmul: no dot product for '" + w.name + "' of type " + std::string(type_name(w.type)));
    p.act_type = *act;
    p.dot = vec_dot(w.type);
    p.gemm = gemm_simd(w.type);
    if (p.gemm != nullptr) p.act_layout = gemm_act_layout(w.type);
    return p;
}

void DecodeScratch::reserve(int n_threads, std::int64_t max_n_in) {
    if (n_threads <= n_threads_ && max_n_in <= max_n_in_) return;
    n_threads_ = std::max(n_threads, n_threads_);
    max_n_in_ = std::max(max_n_in, max_n_in_);
    stride_ = static_cast<std::size_t>(kTileRows * max_n_in_);
    buf_.assign(stride_ * static_cast<std::size_t>(n_threads_), 0.0f);
}

void ActivationPack::reserve(std::int64_t max_rows, std::int64_t max_n_in) {
    // F32 rows are used in place; every other dot type takes at most 2 bytes per value
    // (F16/BF16; Q8_0 1.06, Q8_1 1.13, Q8_K 1.14).
    const auto need = static_cast<std::size_t>(max_rows * max_n_in) * 2;
    if (buf_.size() < need) buf_.resize(need);
}

void ActivationPack::set(const float* x, std::int64_t n_rows, std::int64_t n_in) noexcept {
    x_ = x;
    n_rows_ = n_rows;
    n_in_ = n_in;
    valid_ = false;
}

const std::byte* ActivationPack::get(GgmlType type, ActLayout layout, int n_threads) {
    if (type == GgmlType::F32) return reinterpret_cast<const std::byte*>(x_);
    if (valid_ && type_ == type && layout_ == layout) return buf_.data();
    const std::size_t rb = row_size(type, n_in_);
    if (buf_.size() < rb * static_cast<std::size_t>(n_rows_)) buf_.resize(rb * static_cast<std::size_t>(n_rows_));
    const int chunks = static_cast<int>(std::min<std::int64_t>(n_threads, n_rows_));
    run_chunks(chunks, [&](int c) {
        for (std::int64_t r = chunk_begin(n_rows_, chunks, c); r < chunk_begin(n_rows_, chunks, c + 1); ++r) {
            std::byte* row = buf_.data() + static_cast<std::size_t>(r) * rb;
            const std::span<const float> x(x_ + r * n_in_, static_cast<std::size_t>(n_in_));
            quantize_row(type, x, {row, rb});
            if (layout == ActLayout::ClassOrder) to_class_order(row, n_in_);
        }
    });
    valid_ = true;
    type_ = type;
    layout_ = layout;
    return buf_.data();
}

void matmul(const PreparedMatrix& w, ActivationPack& x, float* y, int n_threads, DecodeScratch* tiles) {
    if (x.n_in() != w.n_in) {
        throw UsageError("matmul: input width " + std::to_string(x.n_in()) + " != matrix width " + std::to_string(w.n_in));
    }
    if (w.decode && (tiles == nullptr || tiles->n_threads() < n_threads || tiles->max_n_in() < w.n_in)) {
        throw UsageError("matmul: no f32 scratch reserved for " + std::to_string(n_threads) + " threads of rows of " +
                         std::to_string(w.n_in) + " values (dequant policy)");
    }
    const std::byte* act = x.get(w.act_type, w.act_layout, n_threads);
    const std::size_t act_rb = row_size(w.act_type, w.n_in);
    const std::int64_t n_tok = x.n_rows();
    const std::int64_t n_out = w.n_out;
    // A batch through a matrix-matrix kernel: up to 16 chunks per thread of about kTileRows rows or more,
    // taken from a shared queue (parallel_for's dynamic schedule), so that a thread finishing
    // early waits at most for one small chunk. Which thread computes a row does not change its
    // value. Otherwise one chunk per thread: the dequant policy's decode tile is per chunk, and
    // a single token streams each thread's rows from memory in one run.
    const bool shared = w.gemm != nullptr && n_tok > 1;
    const int chunks = static_cast<int>(
        shared ? std::min<std::int64_t>(16 * n_threads, (n_out + kTileRows - 1) / kTileRows)
               : std::max<std::int64_t>(1, std::min<std::int64_t>(n_threads, n_out / 4)));
    auto row_chunk = [&](int c) {
        const std::int64_t r0 = chunk_begin(n_out, chunks, c);
        const std::int64_t r1 = chunk_begin(n_out, chunks, c + 1);
        if (w.gemm != nullptr) {
            // The kernel tiles the chunk's rows itself.
            w.gemm(w.n_in, w.data + static_cast<std::size_t>(r0) * w.row_bytes, w.row_bytes, r1 - r0, act, act_rb, n_tok,
                   y + r0, n_out);
            return;
        }
        float* tile = w.decode ? tiles->tile(c) : nullptr;
        const std::size_t tile_rb = static_cast<std::size_t>(w.n_in) * sizeof(float);
        for (std::int64_t rb = r0; rb < r1; rb += kTileRows) {
            const std::int64_t re = std::min(rb + kTileRows, r1);
            const std::byte* rows = w.data + static_cast<std::size_t>(rb) * w.row_bytes;
            std::size_t stride = w.row_bytes;
            if (tile != nullptr) {
                for (std::int64_t r = rb; r < re; ++r) {
                    dequantize_row(w.type, {w.data + static_cast<std::size_t>(r) * w.row_bytes, w.row_bytes},
                                   {tile + (r - rb) * w.n_in, static_cast<std::size_t>(w.n_in)});
                }
                rows = reinterpret_cast<const std::byte*>(tile);
                stride = tile_rb;
            }
            for (std::int64_t t = 0; t < n_tok; ++t) {
                const std::byte* a = act + static_cast<std::size_t>(t) * act_rb;
                float* yt = y + t * n_out;
                for (std::int64_t r = rb; r < re; ++r) {
                    yt[r] = w.dot(w.n_in, rows + static_cast<std::size_t>(r - rb) * stride, a);
                }
            }
        }
    };
    if (shared) {
        run_chunks_shared(chunks, n_threads, row_chunk);
    } else {
        run_chunks(chunks, row_chunk);
    }
}

}  // namespace parity::cpu
