#pragma once
// The one checked wrapper around CUDA runtime calls: a failure becomes an exception that
// names the call site and CUDA's own message.

#include <cstddef>
#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

namespace parity::cuda {

inline void check(cudaError_t status, const char* what, const char* file, int line) {
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + " failed: " +
                                 cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
    }
}

/// RAII device buffer of `n` elements of T.
template <typename T>
class DeviceBuffer {
public:
    explicit DeviceBuffer(std::size_t n) : n_(n) {
        void* p = nullptr;
        check(cudaMalloc(&p, n * sizeof(T) + (n == 0 ? 1 : 0)), "cudaMalloc", __FILE__, __LINE__);
        ptr_ = static_cast<T*>(p);
    }
    ~DeviceBuffer() { cudaFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    T* get() const noexcept { return ptr_; }
    std::size_t size() const noexcept { return n_; }

private:
    T* ptr_ = nullptr;
    std::size_t n_;
};

}  // namespace parity::cuda

#define PARITY_CUDA_CHECK(call) ::parity::cuda::check((call), #call, __FILE__, __LINE__)
