// Available memory (/proc/meminfo, RLIMIT_AS) and the one-line refusal when a need exceeds it.

#include "engine/runtime/memory_budget.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace parity {

std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo) {
    constexpr std::string_view key = "MemAvailable:";
    const auto at = meminfo.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::size_t i = at + key.size();
    while (i < meminfo.size() && meminfo[i] == ' ') ++i;
    std::uint64_t kib = 0;
    const auto [end, ec] = std::from_chars(meminfo.data() + i, meminfo.data() + meminfo.size(), kib);
    if (ec != std::errc{} || end == meminfo.data() + i) return std::nullopt;
    return kib * 1024;
}

namespace {

std::optional<std::uint64_t> address_space_left() {
    rlimit lim{};
    if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return std::nullopt;
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    if (!(statm >> pages)) return std::nullopt;
    const std::uint64_t used = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    return lim.rlim_cur > used ? lim.rlim_cur - used : 0;
}

}  // namespace

std::optional<std::uint64_t> available_memory() {
    std::ifstream in("/proc/meminfo");
    std::ostringstream text;
    text << in.rdbuf();
    std::optional<std::uint64_t> avail = parse_mem_available(text.str());
    if (const auto left = address_space_left()) avail = avail ? std::min(*avail, *left) : *left;
    return avail;
}

std::string format_bytes(std::uint64_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f GiB (%llu bytes)", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0),
                  static_cast<unsigned long long>(bytes));
    return buf;
}

std::string memory_refusal(std::string_view what, std::uint64_t needed, std::uint64_t available,
                           std::string_view lower) {
    return "not enough memory: " + std::string(what) + " needs " + format_bytes(needed) + ", " +
           format_bytes(available) + " available; lower it with " + std::string(lower);
}

std::string allocation_failure(std::string_view what, std::string_view lower) {
    const auto avail = available_memory();
    return "not enough memory: " + std::string(what) + ": an allocation failed with " +
           (avail ? format_bytes(*avail) : std::string("an unknown amount")) + " available; lower it with " +
           std::string(lower);
}

void require_memory(std::string_view what, std::uint64_t needed, std::string_view lower,
                    std::optional<std::uint64_t> available) {
    if (!available) available = available_memory();
    if (available && needed > *available) throw MemoryError(memory_refusal(what, needed, *available, lower));
}

}  // namespace parity
