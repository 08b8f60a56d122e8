#pragma once
// PARITY_REQUIRE_GPU(): ends a GPU test with CTest's skip code when there is no CUDA device.

#include <cstdio>
#include <cstdlib>

#include "engine/runtime/cuda_device.h"

/// Exits with 77 (CTest's SKIP_RETURN_CODE: reported as skipped, never as passed) when no CUDA
/// device is visible; gtest_discover_tests runs each test in a process of its own.
#define PARITY_REQUIRE_GPU()                                                          \
    do {                                                                              \
        if (::parity::cuda::device_count() == 0) {                                    \
            std::fprintf(stderr, "SKIPPED: no CUDA device (built with CUDA: %s)\n",   \
                         ::parity::cuda::built_with_cuda() ? "yes" : "no");           \
            std::exit(77);                                                            \
        }                                                                             \
    } while (0)
