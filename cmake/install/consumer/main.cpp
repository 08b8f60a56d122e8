// Uses the installed engine (a ggml type's traits) and falsifiers (the registry, a metric).
// Prints one line per fact; exit 0 when every fact is as expected.

#include <array>
#include <filesystem>
#include <iostream>

#include "engine/quant/ggml_type.h"
#include "falsifiers/metrics.h"
#include "falsifiers/registry.h"

int main() {
    const auto q8 = parity::ggml_type_from_name("q8_0");
    const std::array<float, 3> a{1.0F, 2.0F, 3.0F};
    const double cos = parity::falsifiers::cosine_similarity(a, a);
    const bool has_band = parity::falsifiers::Registry::builtin().find("stat_ratio_band") != nullptr;
    const bool contracts = std::filesystem::is_directory(CONTRACTS_DIR);
    std::cout << "q8_0: " << (q8 ? parity::type_name(*q8) : "missing") << "\n"
              << "cosine: " << cos << "\n"
              << "stat_ratio_band: " << (has_band ? "registered" : "missing") << "\n"
              << "contracts: " << CONTRACTS_DIR << (contracts ? "" : " (missing)") << "\n";
    return q8 && cos > 0.999999 && has_band && contracts ? 0 : 1;
}
