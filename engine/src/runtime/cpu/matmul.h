#pragma once
// y = W · x for a batch of activation rows, per matmul policy. Private to engine/src.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/runtime/forward.h"
#include "engine/model/model.h"
#include "gemm.h"
#include "vec_dot.h"

namespace parity::cpu {

/// Output rows per cache block: the weight rows of a block stay in cache while every token of the
/// batch passes; for `dequant`, the rows decoded to f32 at a time into a thread's scratch.
inline constexpr std::int64_t kTileRows = 16;

/// A weight matrix ready for one policy; the rows are always the stored bytes (the mapped file).
/// `dequant`: a tile of kTileRows rows is decoded to f32 into per-thread scratch and multiplied
/// with a plain f32 dot (rows stored as f32 are used in place); `ggml`: ggml's dot for the type,
/// through the type's matrix-matrix kernel when there is one (gemm.h).
struct PreparedMatrix {
    GgmlType type = GgmlType::F32;      ///< type of the rows at `data`
    GgmlType act_type = GgmlType::F32;  ///< what the activation is converted to
    ActLayout act_layout = ActLayout::Plain;
    std::int64_t n_in = 0;
    std::int64_t n_out = 0;
    const std::byte* data = nullptr;
    std::size_t row_bytes = 0;
    VecDotFn dot = nullptr;
    GemmFn gemm = nullptr;  ///< `ggml` only: used instead of `dot` when set
    bool decode = false;  ///< `dequant` of a non-f32 type: rows go through a DecodeScratch tile
};

/// Prepares `w` for `policy`. Copies nothing.
PreparedMatrix prepare_matrix(const WeightMatrix& w, MatmulPolicy policy);

/// Per-thread f32 tiles of kTileRows rows for the `dequant` policy, sized once up front so that
/// a pass allocates nothing.
class DecodeScratch {
public:
    /// Room for n_threads tiles of rows of up to max_n_in values.
    void reserve(int n_threads, std::int64_t max_n_in);
    /// The tile of chunk c (c < the n_threads reserved).
    float* tile(int c) noexcept { return buf_.data() + static_cast<std::size_t>(c) * stride_; }
    std::size_t bytes() const noexcept { return buf_.size() * sizeof(float); }
    std::int64_t max_n_in() const noexcept { return max_n_in_; }
    int n_threads() const noexcept { return n_threads_; }

private:
    std::size_t stride_ = 0;
    std::int64_t max_n_in_ = 0;
    int n_threads_ = 0;
    std::vector<float> buf_;
};

/// The activation rows of one matmul input, converted to a dot type on first use and reused by
/// every matmul that shares the input (q/k/v, gate/up). Storage is reserved up front.
class ActivationPack {
public:
    /// Room for max_rows rows of up to max_n_in values in any dot type.
    void reserve(std::int64_t max_rows, std::int64_t max_n_in);
    /// A new input: n_rows rows of n_in floats (not copied; must stay valid while used).
    void set(const float* x, std::int64_t n_rows, std::int64_t n_in) noexcept;
    /// The rows converted to `type` in `layout` (F32: the input itself); row r at
    /// result + r * row_bytes(type).
    const std::byte* get(GgmlType type, ActLayout layout, int n_threads);

    std::int64_t n_rows() const noexcept { return n_rows_; }
    std::int64_t n_in() const noexcept { return n_in_; }

private:
    const float* x_ = nullptr;
    std::int64_t n_rows_ = 0;
    std::int64_t n_in_ = 0;
    bool valid_ = false;
    GgmlType type_ = GgmlType::F32;
    ActLayout layout_ = ActLayout::Plain;
    std::vector<std::byte> buf_;
};

/// y[t * n_out + r] = dot(row r of w, row t of x) for every token t of the pack and every output
/// row r; rows are split across n_threads threads. `tiles` (reserved for at least n_threads and
/// w.n_in) is needed when w.decode, else may be null.
void matmul(const PreparedMatrix& w, ActivationPack& x, float* y, int n_threads, DecodeScratch* tiles);

}  // namespace parity::cpu
