#pragma once
// Splitting work across the session's threads, through the one OpenMP helper (parallel_for).
// Private to the CPU backend.

#include <cstdint>

#include "engine/parallel_for.h"

namespace parity::cpu {

/// Calls body(c) for c in [0, n_chunks); with more than one chunk they run on parallel_for's
/// threads, one thread per chunk, so n_chunks = n_threads uses exactly n_threads threads.
template <class Body>
void run_chunks(int n_chunks, Body&& body) {
    if (n_chunks <= 1) {
        body(0);
        return;
    }
    parallel_for(n_chunks, [&](std::int64_t c) { body(static_cast<int>(c)); }, n_chunks);
}

/// [begin, end) of chunk c of n split into `chunks` near-equal parts.
inline std::int64_t chunk_begin(std::int64_t n, int chunks, int c) noexcept { return n * c / chunks; }

}  // namespace parity::cpu
