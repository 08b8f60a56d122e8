#pragma once
// What `pv diff` found, and its two renderings: text and JSON (the schema is in
// docs/stage-diff.md).

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor_diff.h"

namespace parity::cli {

/// One compared pair of files.
struct PairResult {
    std::string key;      ///< the place in the trees ("pos-0000/layer-3/ffn_gate.bin"); the file names for two files
    std::string a_path;
    std::string b_path;
    std::uint32_t layer = 0;  ///< the header's layer (0xFFFFFFFF: whole model)
    TensorDiff diff;
};

struct DiffReport {
    std::string a;                      ///< the paths as given
    std::string b;
    bool trees = false;                 ///< two dump trees (else two files)
    std::optional<std::string> layout;  ///< the trees' layout name
    Tolerance tolerance;
    std::size_t top = 5;
    std::vector<PairResult> pairs;      ///< forward order
    std::vector<std::string> only_a;    ///< keys present in a only
    std::vector<std::string> only_b;

    std::size_t differing_pairs() const;
    /// Every pair within tolerance and no file on one side only.
    bool all_within() const { return differing_pairs() == 0 && only_a.empty() && only_b.empty(); }
};

void write_diff_text(std::ostream& out, const DiffReport& report);
nlohmann::json diff_json(const DiffReport& report);

}  // namespace parity::cli
