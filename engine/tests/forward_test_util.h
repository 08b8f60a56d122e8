#pragma once
// Shared helpers of the forward-pass tests: the llama.cpp reference fixtures (parsed once per
// process) and deviation metrics.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/quant/file_type.h"
#include "engine/synth/synth.h"
#include "test_support.h"

namespace parity::testing {

/// The 8 token ids every llama.cpp reference uses.
inline const std::vector<std::int32_t>& reference_tokens() {
    static const std::vector<std::int32_t> ids = {1021, 17, 263, 500, 42, 777, 1000, 128};
    return ids;
}

/// "qwen2" or "llama" and "F32" / "Q8_0" / "Q4_K_M".
struct FixtureCase {
    std::string family;
    std::string variant;

    std::string model() const { return "llamacpp/models/tiny-" + family + "-ref-" + variant + ".gguf"; }
    std::string prefix() const { return family == "llama" ? "llama_" : ""; }
    std::string llamacpp_ref() const { return "llamacpp/refs/llamacpp_" + prefix() + variant + ".json"; }
    std::string float64_ref() const { return "llamacpp/refs/float64_" + prefix() + variant + ".json"; }
    std::string name() const { return family + "_" + param_name(variant); }
};

/// A fixture JSON file, parsed once per process (nullptr when the fixture is absent).
inline const nlohmann::json* fixture_json(const std::string& relative) {
    static std::map<std::string, nlohmann::json> cache;
    if (auto it = cache.find(relative); it != cache.end()) return &it->second;
    const auto path = fixture(relative);
    if (!path) return nullptr;
    std::ifstream in(*path);
    auto [it, inserted] = cache.emplace(relative, nlohmann::json::parse(in));
    return &it->second;
}

/// Rows of a [n][m] JSON array as floats.
inline std::vector<std::vector<float>> json_matrix(const nlohmann::json& j) {
    std::vector<std::vector<float>> rows;
    for (const auto& r : j) rows.push_back(r.get<std::vector<float>>());
    return rows;
}

/// The last-token values of llama.cpp graph node `name` (the last node of that name whose op is
/// one of `ops`, or of any op when `ops` is empty).
inline std::optional<std::vector<float>> llamacpp_node(const nlohmann::json& ref, const std::string& name,
                                                      const std::vector<std::string>& ops = {}) {
    std::optional<std::vector<float>> found;
    for (const auto& t : ref.at("tensors")) {
        if (t.at("name") != name) continue;
        if (!ops.empty() && std::find(ops.begin(), ops.end(), t.at("op").get<std::string>()) == ops.end()) continue;
        if (!t.contains("last_token") || !t.at("last_token").is_array()) continue;
        found = t.at("last_token").get<std::vector<float>>();
    }
    return found;
}

struct Deviation {
    double max_abs = 0.0;
    std::size_t worst_index = 0;
};

inline Deviation max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    Deviation d;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (!(e <= d.max_abs)) {
            d.max_abs = e;
            d.worst_index = i;
        }
    }
    return d;
}

inline std::size_t argmax_of(const float* v, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i) {
        if (v[i] > v[best]) best = i;
    }
    return best;
}

/// A deterministic synthetic model (pv synth's generator, preset "tiny", seed 42) written once per
/// process into a temporary directory.
inline std::string synth_model(const std::string& arch, FileType type) {
    static TempDir dir;
    static std::map<std::pair<std::string, FileType>, std::string> made;
    const auto key = std::make_pair(arch, type);
    if (auto it = made.find(key); it != made.end()) return it->second;
    const std::string path =
        (dir / ("synth-" + arch + "-" + std::to_string(static_cast<unsigned>(type)) + ".gguf")).string();
    synth::write_gguf(synth::preset(arch, "tiny"), 42, type, path);
    made.emplace(key, path);
    return path;
}

}  // namespace parity::testing
