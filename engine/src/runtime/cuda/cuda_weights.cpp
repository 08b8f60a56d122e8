// Weight upload and the matmul dispatch (GEMV kernel / cuBLAS) of the CUDA backend.

#include "cuda_weights.h"

#include <climits>
#include <span>
#include <vector>

#include "engine/quant/dot_type.h"
#include "device_math.h"
#include "engine/error.h"
#include "engine/parallel_for.h"
#include "engine/quant/quant.h"
#include "kernels.h"

namespace parity::cuda {

// device_math.h spells ggml's type ids without including the engine's C++20 headers.
static_assert(dm::kF32 == static_cast<int>(GgmlType::F32));
static_assert(dm::kF16 == static_cast<int>(GgmlType::F16));
static_assert(dm::kQ4_0 == static_cast<int>(GgmlType::Q4_0));
static_assert(dm::kQ8_0 == static_cast<int>(GgmlType::Q8_0));
static_assert(dm::kQ8_1 == static_cast<int>(GgmlType::Q8_1));
static_assert(dm::kQ4_K == static_cast<int>(GgmlType::Q4_K));
static_assert(dm::kQ6_K == static_cast<int>(GgmlType::Q6_K));
static_assert(dm::kQ8_K == static_cast<int>(GgmlType::Q8_K));
static_assert(dm::kBF16 == static_cast<int>(GgmlType::BF16));

namespace {

int type_id(GgmlType t) noexcept { return static_cast<int>(t); }

bool device_decodes(GgmlType t) noexcept { return dm::decodable(type_id(t)); }

std::size_t elements(const WeightMatrix& w) noexcept {
    return static_cast<std::size_t>(w.n_in) * static_cast<std::size_t>(w.n_out);
}

/// The stored bytes the device keeps for `w`.
std::size_t stored_bytes(const WeightMatrix& w) noexcept {
    return device_decodes(w.type) ? w.data.size() : elements(w) * sizeof(float);
}

int as_int(std::int64_t v, const char* what) {
    if (v < 0 || v > INT_MAX) throw UsageError(std::string("cuBLAS: ") + what + " " + std::to_string(v) + " exceeds int");
    return static_cast<int>(v);
}

}  // namespace

std::size_t matrix_device_bytes(const WeightMatrix& w) { return stored_bytes(w); }

std::size_t batch_weight_scratch_bytes(const WeightMatrix& w, MatmulPolicy policy) {
    const bool stored_f32 = !device_decodes(w.type) || w.type == GgmlType::F32;
    const bool gemm_f16 = policy == MatmulPolicy::Ggml && w.type == GgmlType::F16;
    return stored_f32 || gemm_f16 ? 0 : elements(w) * sizeof(float);
}

DeviceMatrix upload_matrix(const WeightMatrix& w, MatmulPolicy policy, bool for_matmul, cudaStream_t stream) {
    DeviceMatrix m;
    m.name = w.name;
    m.file_type = w.type;
    m.n_in = w.n_in;
    m.n_out = w.n_out;
    if (device_decodes(w.type)) {
        m.stored = type_id(w.type);
        m.data = DeviceBuffer<std::uint8_t>(w.data.size());
        PARITY_CUDA_CHECK(cudaMemcpyAsync(m.data.get(), w.data.data(), w.data.size(), cudaMemcpyHostToDevice, stream));
    } else {
        // No device decoder for this type: f32 on the host (exact), once.
        std::vector<float> values(elements(w));
        const std::size_t rb = w.row_bytes();
        constexpr std::int64_t kChunks = 64;
        parallel_for(kChunks, [&](std::int64_t c) {
            for (std::int64_t r = w.n_out * c / kChunks; r < w.n_out * (c + 1) / kChunks; ++r) {
                dequantize_row(w.type, w.data.subspan(static_cast<std::size_t>(r) * rb, rb),
                               std::span<float>(values).subspan(static_cast<std::size_t>(r * w.n_in),
                                                                 static_cast<std::size_t>(w.n_in)));
            }
        });
        m.stored = dm::kF32;
        m.data = DeviceBuffer<std::uint8_t>(values.size() * sizeof(float));
        PARITY_CUDA_CHECK(
            cudaMemcpyAsync(m.data.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
        // The copy reads pageable memory: wait before `values` goes away.
        PARITY_CUDA_CHECK(cudaStreamSynchronize(stream));
    }

    if (policy == MatmulPolicy::Ggml) {
        const auto dot = dot_type(w.type);
        if (!dot) throw UsageError("backend cuda: no dot product for '" + w.name + "' of type " + std::string(type_name(w.type)));
        m.act = type_id(*dot);  // F32 -> F32 (no rounding), F16 -> F16, Q4_K -> Q8_K, ...
        m.gemm_f16 = for_matmul && m.stored == dm::kF16;
    } else {
        m.act = dm::kF32;
    }
    return m;
}

void Matmul::reserve(std::int64_t max_rows, std::int64_t max_in) {
    const auto n = static_cast<std::size_t>(max_rows * max_in);
    act_.ensure(n);
    act16_.ensure(n);
}

void Matmul::set_input(const float* x, std::int64_t n_rows, std::int64_t n_in) noexcept {
    x_ = x;
    n_rows_ = n_rows;
    n_in_ = n_in;
    rounded_type_ = -1;
    halves_valid_ = false;
}

const float* Matmul::rounded(int act) {
    if (act == dm::kF32) return x_;
    if (rounded_type_ != act) {
        const std::int64_t n = n_rows_ * n_in_;
        act_.ensure(static_cast<std::size_t>(n));
        kernels::quantize_roundtrip(act, x_, n, act_.get(), stream_);
        rounded_type_ = act;
    }
    return act_.get();
}

const std::uint16_t* Matmul::halves() {
    if (!halves_valid_) {
        const std::int64_t n = n_rows_ * n_in_;
        act16_.ensure(static_cast<std::size_t>(n));
        kernels::to_f16(x_, n, act16_.get(), stream_);
        halves_valid_ = true;
    }
    return act16_.get();
}

void Matmul::run(const DeviceMatrix& w, float* y) {
    if (w.n_in != n_in_) {
        throw UsageError("matmul " + w.name + ": input width " + std::to_string(n_in_) + " != matrix width " +
                         std::to_string(w.n_in));
    }
    if (n_rows_ <= 0) return;
    if (n_rows_ == 1) {
        kernels::gemv(w.stored, w.data.get(), w.n_in, w.n_out, rounded(w.act), 1, y, stream_);
        return;
    }
    const int m = as_int(w.n_out, "rows");
    const int n = as_int(n_rows_, "tokens");
    const int k = as_int(w.n_in, "columns");
    const float alpha = 1.0f;
    const float beta = 0.0f;
    // cuBLAS is column-major: row-major W [n_out, n_in] is the column-major (k x m) matrix A,
    // row-major X [n_rows, n_in] the (k x n) matrix B, row-major Y [n_rows, n_out] the (m x n)
    // matrix C; so C = A^T . B (op(A) = T, op(B) = N), leading dimensions k, k, m.
    if (w.gemm_f16) {
        PARITY_CUBLAS_CHECK(cublasGemmEx(blas_, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, w.data.get(), CUDA_R_16F, k,
                                         halves(), CUDA_R_16F, k, &beta, y, CUDA_R_32F, m, CUBLAS_COMPUTE_32F,
                                         CUBLAS_GEMM_DEFAULT));
        return;
    }
    const float* wf = nullptr;
    if (w.stored == dm::kF32) {
        wf = reinterpret_cast<const float*>(w.data.get());
    } else {
        wscratch_.ensure(static_cast<std::size_t>(w.n_in * w.n_out));
        kernels::dequantize_rows(w.stored, w.data.get(), w.n_in, nullptr, w.n_out, wscratch_.get(), stream_);
        wf = wscratch_.get();
    }
    PARITY_CUBLAS_CHECK(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, wf, k, rounded(w.act), k, &beta, y, m));
}

}  // namespace parity::cuda
