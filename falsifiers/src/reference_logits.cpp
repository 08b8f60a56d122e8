// reference_logits: a path's logits agree with a stored reference — typically what llama.cpp
// computed on the same model file (`llamacpp/refs/llamacpp_F32.json` of the fixtures).
//
// The reference is a JSON object with `tokens` (the input ids) and `logits_last` ([n_vocab])
// and/or `logits_all` ([n_tokens][n_vocab]). A name may end in "#/json/pointer" to pick the
// object inside the file (`float64_F32.json#/modes/dequant_f64`; `tokens` is then looked up in
// that object, then at the top level). The path is fed the reference's tokens. The file name
// goes through Evidence::resolve_file (${PARITY_FIXTURES_DIR} etc., relative to the contract);
// a file that does not exist makes the test SKIPPED (fixtures are optional), one that cannot be
// parsed makes it ERROR.
//
// Rows: per position, "logits" / "logits[p]" with the share of atol + rtol*|ref| used
// (<= 1 passes), and "... cosine" >= min_cosine, each when given.

#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "common.h"
#include "falsifiers/metrics.h"

namespace parity::falsifiers::detail {

namespace {

std::vector<float> float_row(const nlohmann::json& j, const std::string& what) {
    if (!j.is_array()) throw std::runtime_error(what + " is not an array of numbers");
    std::vector<float> out;
    out.reserve(j.size());
    for (const auto& v : j) {
        if (!v.is_number()) throw std::runtime_error(what + " holds a value that is not a number");
        out.push_back(v.get<float>());
    }
    return out;
}

class ReferenceLogits final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const std::string& path = params().at("path").text;
        std::string name = params().at("reference").text;
        std::string pointer;
        if (const auto hash = name.find("#/"); hash != std::string::npos) {
            pointer = name.substr(hash + 1);
            name.resize(hash);
        }
        const std::filesystem::path file = ev.resolve_file(name);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            r.status = reports::Status::Skipped;
            r.message = "reference file " + file.string() + " not found (set PARITY_FIXTURES_DIR to the fixtures)";
            return r;
        }
        std::ifstream in(file, std::ios::binary);
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
        }
        const nlohmann::json* obj = &doc;
        if (!pointer.empty()) {
            try {
                obj = &doc.at(nlohmann::json::json_pointer(pointer));
            } catch (const nlohmann::json::exception& e) {
                throw std::runtime_error(file.string() + ": no object at #" + pointer + " (" + e.what() + ")");
            }
        }
        const std::string where = file.filename().string() + (pointer.empty() ? "" : "#" + pointer);
        const nlohmann::json* toks = obj->contains("tokens") ? &(*obj)["tokens"] : (doc.contains("tokens") ? &doc["tokens"] : nullptr);
        if (toks == nullptr || !toks->is_array() || toks->empty()) {
            throw std::runtime_error(where + ": no `tokens` list (the input the reference was computed on)");
        }
        std::vector<std::int32_t> tokens;
        for (const auto& t : *toks) {
            if (!t.is_number_integer() || t.get<std::int64_t>() < 0 || t.get<std::int64_t>() > INT32_MAX) {
                throw std::runtime_error(where + ": `tokens` holds a value that is not a token id");
            }
            tokens.push_back(t.get<std::int32_t>());
        }
        const auto n_tokens = static_cast<std::int64_t>(tokens.size());

        // The reference rows wanted.
        const ParamValue& pos = params().at("positions");
        std::vector<std::int64_t> positions;
        if (pos.last) {
            positions.push_back(n_tokens - 1);
        } else if (pos.all) {
            for (std::int64_t p = 0; p < n_tokens; ++p) positions.push_back(p);
        } else {
            positions = pos.indices;
        }
        std::vector<std::vector<float>> ref_rows;
        for (const std::int64_t p : positions) {
            if (p >= n_tokens) {
                throw std::runtime_error("positions: " + std::to_string(p) + " is past the reference input (" +
                                         std::to_string(n_tokens) + " tokens)");
            }
            if (p == n_tokens - 1 && obj->contains("logits_last")) {
                ref_rows.push_back(float_row((*obj)["logits_last"], where + ": logits_last"));
            } else if (obj->contains("logits_all")) {
                const auto& all = (*obj)["logits_all"];
                if (!all.is_array() || static_cast<std::int64_t>(all.size()) != n_tokens) {
                    throw std::runtime_error(where + ": logits_all does not have one row per token");
                }
                ref_rows.push_back(float_row(all[static_cast<std::size_t>(p)],
                                             where + ": logits_all[" + std::to_string(p) + "]"));
            } else {
                throw std::runtime_error(where + ": no logits for position " + std::to_string(p) +
                                         " (needs logits_all, or logits_last for the last position)");
            }
        }

        const auto n_vocab = static_cast<std::size_t>(ev.config(path).n_vocab);
        const std::vector<float>& got = ev.logits(path, tokens);
        const Tolerance tol{opt_number(params(), "atol"), opt_number(params(), "rtol"), std::nullopt};
        const auto min_cos = opt_number(params(), "min_cosine");
        r.metric_name = "tolerance used (" + (tol.elementwise() ? tol.describe() : std::string("none")) +
                        "; <= 1 passes) / cosine";
        double worst_abs = 0.0, worst_cos = 1.0, worst_use = 0.0;
        std::size_t checks = 0, failing = 0;
        std::optional<reports::Divergence> first;
        for (std::size_t i = 0; i < positions.size(); ++i) {
            const std::int64_t p = positions[i];
            if (ref_rows[i].size() != n_vocab) {
                throw std::runtime_error(where + ": reference has " + std::to_string(ref_rows[i].size()) +
                                         " logits per position, " + path + "'s model " + std::to_string(n_vocab));
            }
            const std::span<const float> mine = std::span<const float>(got).subspan(static_cast<std::size_t>(p) * n_vocab, n_vocab);
            const ToleranceCheck t = check_tolerance(mine, ref_rows[i], tol);
            const std::string slot = pos.last ? "logits" : "logits[" + std::to_string(p) + "]";
            auto add = [&](const std::string& s, double value, std::optional<double> lo, std::optional<double> hi,
                           bool pass, const std::string& detail) {
                reports::LayerMetric m;
                m.layer = -1;
                m.slot = s;
                m.value = value;
                m.lo = lo;
                m.hi = hi;
                m.pass = pass;
                r.per_layer.push_back(m);
                ++checks;
                if (!pass) {
                    ++failing;
                    if (!first) first = reports::Divergence{-1, s, "position " + std::to_string(p) + ": " + detail};
                }
            };
            if (tol.elementwise()) add(slot, t.usage, std::nullopt, 1.0, t.pass, t.detail);
            if (min_cos) {
                add(slot + " cosine", t.cosine, *min_cos, std::nullopt, t.cosine >= *min_cos,
                    "cosine " + num(t.cosine) + " < " + num(*min_cos));
            }
            if (std::isnan(t.max_abs) || t.max_abs > worst_abs) worst_abs = t.max_abs;
            if (std::isnan(t.cosine) || t.cosine < worst_cos) worst_cos = t.cosine;
            if (std::isnan(t.usage) || t.usage > worst_use) worst_use = t.usage;
        }
        r.metrics = {{"positions", static_cast<double>(positions.size())},
                     {"max_abs_diff", worst_abs},
                     {"min_cosine", worst_cos},
                     {"max_tolerance_used", worst_use}};
        const std::string summary = "max |delta| " + num(worst_abs) + ", cosine " + num(worst_cos) + " over " +
                                    std::to_string(positions.size()) + (positions.size() == 1 ? " position" : " positions") +
                                    " vs " + where;
        if (first) {
            fail(r, *first, std::to_string(failing) + " of " + std::to_string(checks) + " checks fail; first: " +
                                first->slot + ", " + first->detail + " [" + summary + "]");
        } else {
            r.message = path + " matches the reference: " + summary;
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_reference_logits(const BoundParams& p) { return std::make_shared<ReferenceLogits>(p); }

}  // namespace parity::falsifiers::detail
