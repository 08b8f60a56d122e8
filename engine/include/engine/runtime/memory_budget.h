#pragma once
// Memory checks made before a session or a pass allocates: what it needs against what the machine
// has, refused in one line (what, bytes needed, bytes available, the option that lowers it)
// instead of an allocation failure halfway through.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace parity {

/// Not enough memory for a session or a pass. A UsageError: `pv` exits 2.
class MemoryError : public UsageError {
public:
    using UsageError::UsageError;
};

/// Bytes the process can still allocate: /proc/meminfo's MemAvailable, lowered to what RLIMIT_AS
/// leaves above the current address space when that limit is set; nullopt when unknown (no
/// check is made then).
std::optional<std::uint64_t> available_memory();

/// MemAvailable of a /proc/meminfo text, in bytes; nullopt when absent.
std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo);

/// "1.50 GiB (1610612736 bytes)".
std::string format_bytes(std::uint64_t bytes);

/// The one-line refusal: "WHAT needs N bytes, A available (MemAvailable): lower it with LOWER".
std::string memory_refusal(std::string_view what, std::uint64_t needed, std::uint64_t available,
                           std::string_view lower);

/// The line that replaces an allocation failure's raw text (std::bad_alloc, std::length_error):
/// "not enough memory: WHAT: an allocation failed with A available; lower it with LOWER".
std::string allocation_failure(std::string_view what, std::string_view lower);

/// Throws MemoryError(memory_refusal(...)) when `needed` exceeds `available` (or
/// available_memory() when not given; nothing is checked when that is unknown).
void require_memory(std::string_view what, std::uint64_t needed, std::string_view lower,
                    std::optional<std::uint64_t> available = std::nullopt);

}  // namespace parity
