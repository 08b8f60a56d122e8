#pragma once
// The one checked wrapper around CUDA runtime and cuBLAS calls: a failure becomes an exception
// that names the call site and CUDA's own message. And the RAII owners of every device
// resource the backend holds: DeviceBuffer (cudaMalloc), Stream, CublasHandle.
//
// C++17 (nvcc compiles the .cu files that include this header in C++17 mode).

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace parity::cuda {

inline void check(cudaError_t status, const char* what, const char* file, int line) {
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + " failed: " +
                                 cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
    }
}

inline void check(cublasStatus_t status, const char* what, const char* file, int line) {
    if (status != CUBLAS_STATUS_SUCCESS) {
        throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what +
                                 " failed: " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) +
                                 ")");
    }
}

/// RAII device buffer of `n` elements of T (uninitialised). Move-only; a default-constructed
/// or moved-from buffer holds nothing (get() == nullptr, size() == 0).
template <typename T>
class DeviceBuffer {
public:
    DeviceBuffer() noexcept = default;
    explicit DeviceBuffer(std::size_t n) : n_(n) {
        void* p = nullptr;
        check(cudaMalloc(&p, n * sizeof(T) + (n == 0 ? 1 : 0)), "cudaMalloc", __FILE__, __LINE__);
        ptr_ = static_cast<T*>(p);
    }
    ~DeviceBuffer() {
        if (ptr_ != nullptr) cudaFree(ptr_);
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            if (ptr_ != nullptr) cudaFree(ptr_);
            ptr_ = std::exchange(o.ptr_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    T* get() const noexcept { return ptr_; }
    std::size_t size() const noexcept { return n_; }
    std::size_t bytes() const noexcept { return n_ * sizeof(T); }
    bool empty() const noexcept { return ptr_ == nullptr; }

    /// Makes room for at least n elements (contents are not kept when it reallocates).
    void ensure(std::size_t n) {
        if (ptr_ != nullptr && n <= n_) return;
        *this = DeviceBuffer();  // free first: the peak stays at the new size
        *this = DeviceBuffer(n);
    }

private:
    T* ptr_ = nullptr;
    std::size_t n_ = 0;
};

/// RAII CUDA stream (non-blocking with respect to the legacy default stream).
class Stream {
public:
    Stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate", __FILE__, __LINE__); }
    ~Stream() {
        if (s_ != nullptr) cudaStreamDestroy(s_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    cudaStream_t get() const noexcept { return s_; }
    void synchronize() const { check(cudaStreamSynchronize(s_), "cudaStreamSynchronize", __FILE__, __LINE__); }

private:
    cudaStream_t s_ = nullptr;
};

/// RAII cuBLAS handle bound to one stream. Math mode: CUBLAS_DEFAULT_MATH, so f32 GEMMs stay
/// f32 (no TF32 tensor-op rounding of the inputs).
class CublasHandle {
public:
    explicit CublasHandle(cudaStream_t stream) {
        check(cublasCreate(&h_), "cublasCreate", __FILE__, __LINE__);
        try {
            check(cublasSetStream(h_, stream), "cublasSetStream", __FILE__, __LINE__);
            check(cublasSetMathMode(h_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode", __FILE__, __LINE__);
        } catch (...) {
            cublasDestroy(h_);
            throw;
        }
    }
    ~CublasHandle() {
        if (h_ != nullptr) cublasDestroy(h_);
    }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
    cublasHandle_t get() const noexcept { return h_; }

private:
    cublasHandle_t h_ = nullptr;
};

}  // namespace parity::cuda

/// Checks a cudaError_t or cublasStatus_t result; throws std::runtime_error naming the call.
#define PARITY_CUDA_CHECK(call) ::parity::cuda::check((call), #call, __FILE__, __LINE__)
/// After a kernel launch: a bad configuration surfaces here, not at the next call.
#define PARITY_CUDA_CHECK_LAUNCH() ::parity::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
/// The same check, spelled for cuBLAS calls where that reads better.
#define PARITY_CUBLAS_CHECK(call) ::parity::cuda::check((call), #call, __FILE__, __LINE__)
