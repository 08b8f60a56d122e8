#pragma once
// The one place OpenMP appears: run body(i) for i in [0, n) across threads. Exceptions thrown
// by the body are caught per iteration and the first one is rethrown after the loop (an
// exception may not leave an OpenMP region).

#include <cstdint>
#include <exception>
#include <mutex>

#include <omp.h>

namespace parity {

/// max_threads > 0 caps the team (a session's --threads); 0 uses OpenMP's default (every
/// hardware thread, or OMP_NUM_THREADS).
template <typename Body>
void parallel_for(std::int64_t n, Body&& body, int max_threads = 0) {
    const int threads = max_threads > 0 ? max_threads : omp_get_max_threads();
    std::exception_ptr first_error;
    std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t i = 0; i < n; ++i) {
        try {
            body(i);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace parity
