#pragma once
// The CPU backend's Session (cpu_session.cpp). Private to the CPU backend.

#include <memory>

#include "engine/runtime/forward.h"

namespace parity::cpu {

std::unique_ptr<Session> make_cpu_session(const Model& model, const SessionOptions& options);

/// Worker threads for a requested count (0: every hardware thread).
int resolve_threads(int requested) noexcept;

}  // namespace parity::cpu
