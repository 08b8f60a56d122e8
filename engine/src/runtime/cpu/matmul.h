#pragma once
// y = W · x for a batch of activation rows, per matmul policy. Private to engine/src.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/runtime/forward.h"
#include "engine/model/model.h"
#include "vec_dot.h"

namespace parity::cpu {

/// A weight matrix ready for one policy. `dequant`: f32 rows (a converted copy unless stored as
/// f32) and a plain f32 dot; `ggml`: the stored bytes and ggml's dot for the type.
struct PreparedMatrix {
    GgmlType type = GgmlType::F32;      ///< type of the rows at `data`
    GgmlType act_type = GgmlType::F32;  ///< what the activation is converted to
    std::int64_t n_in = 0;
    std::int64_t n_out = 0;
    const std::byte* data = nullptr;
    std::size_t row_bytes = 0;
    VecDotFn dot = nullptr;
};

/// Prepares `w` for `policy`; f32 copies made for `dequant` are appended to `store`.
PreparedMatrix prepare_matrix(const WeightMatrix& w, MatmulPolicy policy, std::vector<std::vector<float>>& store);

/// The activation rows of one matmul input, converted to a dot type on first use and reused by
/// every matmul that shares the input (q/k/v, gate/up). Storage is reserved up front.
class ActivationPack {
public:
    /// Room for max_rows rows of up to max_n_in values in any dot type.
    void reserve(std::int64_t max_rows, std::int64_t max_n_in);
    /// A new input: n_rows rows of n_in floats (not copied; must stay valid while used).
    void set(const float* x, std::int64_t n_rows, std::int64_t n_in) noexcept;
    /// The rows converted to `type` (F32: the input itself); row r at result + r * row_bytes(type).
    const std::byte* get(GgmlType type, int n_threads);

    std::int64_t n_rows() const noexcept { return n_rows_; }
    std::int64_t n_in() const noexcept { return n_in_; }

private:
    const float* x_ = nullptr;
    std::int64_t n_rows_ = 0;
    std::int64_t n_in_ = 0;
    bool valid_ = false;
    GgmlType type_ = GgmlType::F32;
    std::vector<std::byte> buf_;
};

/// y[t * n_out + r] = dot(row r of w, row t of x) for every token t of the pack and every output
/// row r; rows are split across n_threads threads.
void matmul(const PreparedMatrix& w, ActivationPack& x, float* y, int n_threads);

}  // namespace parity::cpu
