#pragma once
// Hostile YAML texts for the readers' limits (harness/contract/yaml_limits.h): alias bombs and
// very deep nesting. Each must be refused or read in well under a second.

#include <string>

namespace parity::testing {

/// "billion laughs": a0 lists 10 scalars, each a<i> lists 10 aliases of a<i-1>; `*a8` stands
/// for 10^9 scalars. `prefix` goes before the anchors' list (e.g. "key: ").
inline std::string laughs(const std::string& prefix) {
    std::string s = prefix + "[&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
    for (int i = 1; i < 9; ++i) {
        s += ", &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) s += (j ? ", *a" : "*a") + std::to_string(i - 1);
        s += "]";
    }
    return s + ", *a8]\n";
}

/// One 64 KiB scalar (`fill` repeated) and `repeats` aliases of it: 640 MB of text if expanded.
inline std::string repeated_scalar(const std::string& prefix, char fill, int repeats = 10000) {
    std::string s = prefix + "[&s " + std::string(65536, fill);
    for (int i = 0; i < repeats; ++i) s += ", *s";
    return s + "]\n";
}

/// `open` n times, then `middle`, then `close` n times.
inline std::string nested(const std::string& open, const std::string& middle, const std::string& close, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += middle;
    for (int i = 0; i < n; ++i) s += close;
    return s + "\n";
}

}  // namespace parity::testing
