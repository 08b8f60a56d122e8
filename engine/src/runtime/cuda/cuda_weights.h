#pragma once
// Weights on the device and the matmul dispatch of the CUDA backend. Private to engine/src/runtime/cuda
// (host code, C++20).
//
// Per weight matrix:
//   stored       uploaded once per session in the file's type when the kernels decode it
//                (F32, F16, Q4_0, Q8_0, Q4_K, Q6_K). Any other type (Q4_1, Q5_0, Q5_1, Q2_K,
//                Q3_K, Q5_K, IQ4_NL, IQ4_XS, BF16) is dequantized to f32 on the host at upload
//                (the CPU's dequantize_row, exact) and stored as F32.
//   one token    (incremental decode; the last row's logits) the GEMV kernel on the stored
//                bytes, decoded on the fly.
//   a batch      (full_sequence prefill, all logits) cuBLAS:
//                  dequant policy  F32: cublasSgemm on the stored bytes; other types:
//                                  dequantized into a scratch buffer right before cublasSgemm,
//                                  by the same decoder (no f32 copy is kept);
//                  ggml policy     F16 weights: cublasGemmEx, fp16 x fp16 with f32 accumulation,
//                                  on the stored bytes; F32 and quantized types as dequant
//                                  does, on the rounded activation.
//   activations  dequant: used as they are (f32). ggml: rounded through the weight type's dot
//                type first (Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the
//                K-quants and IQ4_XS, F16 for F16, BF16 for BF16) exactly as ggml's scalar
//                reference quantizers and the CPU backend do. (An AVX2 build of llama.cpp
//                rounds Q8_0/Q8_1 activations differently: 127/amax and round-half-even.)
//                The products are then f32 products of exact
//                weight and activation values, so the result differs from ggml's integer block
//                sums only by float rounding order (docs/cuda.md, "Matmul policies").

#include <cstdint>
#include <string>

#include "cuda_check.h"
#include "engine/runtime/forward.h"
#include "engine/model/model.h"

namespace parity::cuda {

/// One weight matrix on the device, prepared for one policy (y = W . x, W [n_out, n_in]).
struct DeviceMatrix {
    std::string name;
    GgmlType file_type = GgmlType::F32;  ///< the type in the model file
    int stored = 0;                      ///< ggml type id of `data` (device_math.h dm::k*)
    int act = 0;                         ///< ggml policy: dot type the activation is rounded through (0 = F32: none)
    bool gemm_f16 = false;               ///< batches use cublasGemmEx on the fp16 `data`
    std::int64_t n_in = 0;
    std::int64_t n_out = 0;
    DeviceBuffer<std::uint8_t> data;     ///< n_out rows of `stored`
};

/// Device bytes upload_matrix() will allocate for `w` (its stored rows; no policy keeps a copy).
std::size_t matrix_device_bytes(const WeightMatrix& w);

/// Device bytes of the f32 scratch a batch (more than one row) through `w` decodes it into for
/// cuBLAS under `policy`: 0 when cuBLAS reads the stored rows (F32, and F16 under ggml).
std::size_t batch_weight_scratch_bytes(const WeightMatrix& w, MatmulPolicy policy);

/// Uploads `w` for `policy`. for_matmul: the matrix is multiplied with (token_embd of an untied
/// model is only looked up). Enqueued on `stream`; the host data may be
/// released when this returns.
DeviceMatrix upload_matrix(const WeightMatrix& w, MatmulPolicy policy, bool for_matmul, cudaStream_t stream);

/// The matmuls of one input (q/k/v share one, gate/up another): y [n_rows, n_out] = x . W^T.
/// The rounded activations are made on first use and reused until set_input(), as the CPU's
/// ActivationPack. Not thread-safe; everything runs on one stream.
class Matmul {
public:
    Matmul(cudaStream_t stream, cublasHandle_t blas) noexcept : stream_(stream), blas_(blas) {}

    /// Scratch for inputs of up to max_rows rows of max_in values (so decoding allocates nothing).
    void reserve(std::int64_t max_rows, std::int64_t max_in);
    /// A new input: x [n_rows, n_in] on the device (not copied; must stay valid while used).
    void set_input(const float* x, std::int64_t n_rows, std::int64_t n_in) noexcept;
    /// y [n_rows, w.n_out] on the device. One row: the GEMV kernel; more: cuBLAS.
    void run(const DeviceMatrix& w, float* y);

private:
    const float* rounded(int act);
    const std::uint16_t* halves();

    cudaStream_t stream_;
    cublasHandle_t blas_;
    const float* x_ = nullptr;
    std::int64_t n_rows_ = 0;
    std::int64_t n_in_ = 0;
    int rounded_type_ = -1;  ///< type act_ holds for the current input (-1: none)
    bool halves_valid_ = false;
    DeviceBuffer<float> act_;
    DeviceBuffer<std::uint16_t> act16_;
    DeviceBuffer<float> wscratch_;  ///< ggml policy batches: a dequantized weight
};

}  // namespace parity::cuda
