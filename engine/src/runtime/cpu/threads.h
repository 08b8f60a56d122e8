#pragma once
// Splitting work across the session's threads, through the one OpenMP helper (parallel_for).
// Private to the CPU backend.

#include <algorithm>
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

/// Calls body(c) for c in [0, n_chunks) on at most n_threads threads, each taking the next chunk
/// when it is done with one (no chunk-to-thread mapping: body must not keep per-thread state).
template <class Body>
void run_chunks_shared(int n_chunks, int n_threads, Body&& body) {
    if (n_chunks <= 1 || n_threads <= 1) {
        for (int c = 0; c < n_chunks; ++c) body(c);
        return;
    }
    parallel_for(n_chunks, [&](std::int64_t c) { body(static_cast<int>(c)); }, std::min(n_threads, n_chunks));
}

/// [begin, end) of chunk c of n split into `chunks` near-equal parts.
inline std::int64_t chunk_begin(std::int64_t n, int chunks, int c) noexcept { return n * c / chunks; }

}  // namespace parity::cpu
