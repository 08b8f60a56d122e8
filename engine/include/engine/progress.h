#pragma once
// Progress reporting for long file operations (synth, convert): called after each tensor
// with (tensors done, tensors total, bytes written so far).

#include <cstddef>
#include <cstdint>
#include <functional>

namespace parity {

using Progress = std::function<void(std::size_t done, std::size_t total, std::uint64_t bytes)>;

}  // namespace parity
