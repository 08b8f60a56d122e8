// per_op: upstream's per-op divergence table (contract apr-parity-per-op-v1). Both paths' stage
// tensors (an engine path's dumped through the stage hook, or a `dumps:` path's APRT tree) are
// paired per (stage, layer) and position; each row holds the min cosine and the max |A - B| over
// the selected positions and the position of the worst cosine.
//
// Rows run in forward order: embedding, each layer's stages in execution order, final_norm,
// lm_head. The first row whose min cosine is under min_cosine (or whose max |A - B| is over
// max_abs, when given) is named as `STAGE layer N`; a downstream row never is. A position whose
// vectors differ in length (or that one side lacks) scores cosine 0. A stage present on one side
// only is listed as not compared; when nothing is compared at all the test is UNMEASURED.
// Input: the suite's, or the binding's `prompt` / `tokens` (upstream asks for >= 64 positions).
// With `arbiter:` each row also says how far each side is from the arbiter (arbiter.h).

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "arbiter.h"
#include "common.h"
#include "engine/trace/stage_dump.h"
#include "falsifiers/metrics.h"

namespace parity::falsifiers::detail {

namespace {

/// "ffn_gate layer 2", or "lm_head" for a whole-model stage.
std::string row_name(const StageKey& key) {
    if (key.layer == aprt::kWholeModelLayer) return key.stage;
    return key.stage + " layer " + std::to_string(key.layer);
}

struct Row {
    StageKey key;
    double min_cos = 1.0;
    double max_abs = 0.0;
    std::int64_t worst_pos = -1;
    std::size_t compared = 0;
    std::optional<Closeness> arbiter = std::nullopt;  ///< with an arbiter that has the stage
};

/// One position of one row: cosine 0 and max |Δ| inf for vectors of different lengths.
void score(Row& row, std::span<const float> a, std::span<const float> b, std::int64_t pos) {
    double cos = 0.0, abs = std::numeric_limits<double>::infinity();
    if (a.size() == b.size()) {
        cos = cosine_similarity(a, b);
        abs = max_abs_diff(a, b);
    }
    ++row.compared;
    // A NaN (cosine or |delta| of a NaN value) is the worst there is and sticks.
    if (row.worst_pos < 0 || (!std::isnan(row.min_cos) && (std::isnan(cos) || cos < row.min_cos))) {
        row.min_cos = cos;
        row.worst_pos = pos;
    }
    if (!std::isnan(row.max_abs) && (std::isnan(abs) || abs > row.max_abs)) row.max_abs = abs;
}

/// The first position's width of a series (0 when it holds none).
std::size_t width(const StageDump::Series& s) {
    for (const auto& v : s) {
        if (!v.empty()) return v.size();
    }
    return 0;
}

/// Throws when every stage both sides hold differs in width: then the two were not computed on
/// the same input (a concatenated dump tree of another position count splits into rows of the
/// wrong width) or by the same model, and no row would mean anything. One stage of the wrong
/// width among others of the right one is a divergence (cosine 0), not this.
void require_same_widths(const StageDump& da, const StageDump& db, const std::map<StageKey, int>& keys,
                         const PathPair& pp) {
    std::size_t both = 0, differ = 0;
    std::string example;
    for (const auto& [key, sides] : keys) {
        if (sides != 3) continue;
        ++both;
        const std::size_t wa = width(*da.find(key)), wb = width(*db.find(key));
        if (wa == wb) continue;
        ++differ;
        if (example.empty()) {
            example = row_name(key) + ": " + std::to_string(wa) + " values per position in " + pp.a + ", " +
                      std::to_string(wb) + " in " + pp.b;
        }
    }
    if (both >= 2 && differ == both) {
        throw std::runtime_error("cannot compare like with like: every stage differs in width (" + example +
                                 "): a dump tree written for another number of positions, or another model");
    }
}

class PerOp final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const InputRequest request = input_request(params());
        const std::vector<std::int32_t> in_a = ev.input(pp.a, request), in_b = ev.input(pp.b, request);
        if (in_a.size() != in_b.size()) {
            throw std::runtime_error("cannot compare like with like: " + pp.a + " has " + std::to_string(in_a.size()) +
                                     " input tokens, " + pp.b + " " + std::to_string(in_b.size()));
        }
        const StageDump& da = ev.stages(pp.a, in_a);
        const StageDump& db = ev.stages(pp.b, in_b);
        const std::optional<std::string> arb = arbiter_path(params());
        const StageDump* dr = nullptr;
        if (arb) {
            const std::vector<std::int32_t> in_r = ev.input(*arb, request);
            if (in_r != in_a) {
                throw std::runtime_error("cannot compare like with like: arbiter " + *arb + " was fed " + ids_text(in_r) +
                                         " and " + pp.a + " " + ids_text(in_a));
            }
            dr = &ev.stages(*arb, in_r);
        }
        const double min_cos = params().at("min_cosine").number;
        const std::optional<double> max_abs = opt_number(params(), "max_abs");
        const std::vector<std::int64_t> positions = select_positions(static_cast<std::int64_t>(in_a.size()));
        const ParamValue& stages = params().at("stages");
        const auto selected = [&](const std::string& stage) {
            return std::find(stages.names.begin(), stages.names.end(), stage) != stages.names.end();
        };

        // Keys of both sides in forward order (std::map orders StageKey so).
        std::map<StageKey, int> keys;  // bit 1: A, bit 2: B
        for (const auto& [k, s] : da.series()) {
            if (selected(k.stage)) keys[k] |= 1;
        }
        for (const auto& [k, s] : db.series()) {
            if (selected(k.stage)) keys[k] |= 2;
        }
        require_same_widths(da, db, keys, pp);
        std::vector<Row> rows;
        std::vector<std::string> one_sided;
        for (const auto& [key, sides] : keys) {
            if (sides != 3) {
                one_sided.push_back(row_name(key) + " (only in " + (sides == 1 ? pp.a : pp.b) + ")");
                continue;
            }
            const StageDump::Series& sa = *da.find(key);
            const StageDump::Series& sb = *db.find(key);
            const StageDump::Series* sr = dr != nullptr ? dr->find(key) : nullptr;
            Row row{key};
            for (const std::int64_t p : positions) {
                const auto at = [p](const StageDump::Series& s) {
                    return static_cast<std::size_t>(p) < s.size() ? std::span<const float>(s[static_cast<std::size_t>(p)])
                                                                  : std::span<const float>();
                };
                const auto va = at(sa), vb = at(sb);
                if (va.empty() && vb.empty()) continue;  // neither side computed it (lm_head of a prefix)
                score(row, va, vb, p);
                if (sr != nullptr) {
                    const Closeness c = closeness(va, vb, at(*sr));
                    if (row.arbiter) {
                        row.arbiter->merge(c);
                    } else {
                        row.arbiter = c;
                    }
                }
            }
            if (row.compared > 0) rows.push_back(std::move(row));
        }

        r.metric_name = "min cosine over positions (>= " + num(min_cos) + " passes)";
        const Row* first = nullptr;
        std::size_t red = 0;
        double worst_cos = 1.0, worst_abs = 0.0;
        for (const Row& row : rows) {
            const bool cos_ok = row.min_cos >= min_cos;  // false for NaN
            const bool abs_ok = !max_abs || row.max_abs <= *max_abs;
            reports::LayerMetric m;
            m.layer = row.key.layer == aprt::kWholeModelLayer ? -1 : static_cast<int>(row.key.layer);
            m.slot = row.key.stage;
            m.value = row.min_cos;
            m.lo = min_cos;
            m.pass = cos_ok && abs_ok;
            m.details = {{"max_abs", row.max_abs},
                         {"worst_position", static_cast<double>(row.worst_pos)},
                         {"positions", static_cast<double>(row.compared)}};
            if (row.arbiter) add_arbiter_details(m, *row.arbiter);
            r.per_layer.push_back(std::move(m));
            if (!std::isnan(worst_cos) && (std::isnan(row.min_cos) || row.min_cos < worst_cos)) worst_cos = row.min_cos;
            if (!std::isnan(worst_abs) && (std::isnan(row.max_abs) || row.max_abs > worst_abs)) worst_abs = row.max_abs;
            if (!(cos_ok && abs_ok)) {
                ++red;
                if (first == nullptr) first = &row;
            }
        }
        r.metrics = {{"rows", static_cast<double>(rows.size())},
                     {"red_rows", static_cast<double>(red)},
                     {"not_compared", static_cast<double>(one_sided.size())},
                     {"positions", static_cast<double>(positions.size())},
                     {"min_cosine", worst_cos},
                     {"max_abs_diff", worst_abs}};
        std::string note;
        for (const auto& s : one_sided) r.notes.push_back("not compared: " + s);
        if (!one_sided.empty()) {
            note = "; not compared: " + std::to_string(one_sided.size()) + " stage(s) present on one side only (" +
                   one_sided.front() + (one_sided.size() > 1 ? ", ..." : "") + ")";
        }
        if (rows.empty()) {
            // The paths did not produce the data the test needs: neither a pass nor a plain failure.
            r.status = reports::Status::Unmeasured;
            r.message = "nothing compared: no selected stage is present on both " + pp.a + " and " + pp.b + note;
            return r;
        }
        if (first != nullptr) {
            std::string why = "min cosine " + num(first->min_cos) + " @pos " + std::to_string(first->worst_pos);
            if (first->min_cos >= min_cos) why = "max |delta| " + num(first->max_abs) + " > " + num(*max_abs);
            const int layer = first->key.layer == aprt::kWholeModelLayer ? -1 : static_cast<int>(first->key.layer);
            fail(r, reports::Divergence{layer, first->key.stage, pp.a + " vs " + pp.b + ": " + why},
                 "first divergence: " + row_name(first->key) + " (" + why + ", threshold " + num(min_cos) + "); " +
                     std::to_string(red) + " of " + std::to_string(rows.size()) + " rows red" + note);
            if (arb) summarize_arbiter(r, pp, *arb, first->arbiter);
            return r;
        }
        r.message = "no diverging op: all " + std::to_string(rows.size()) + " (stage, layer) rows over " +
                    std::to_string(positions.size()) + " positions have cosine >= " + num(min_cos) + " (min " +
                    num(worst_cos) + ", max |delta| " + num(worst_abs) + ")" + note;
        if (arb) summarize_arbiter(r, pp, *arb, std::nullopt);
        return r;
    }

private:
    std::vector<std::int64_t> select_positions(std::int64_t n) const {
        const ParamValue& pos = params().at("positions");
        std::vector<std::int64_t> out;
        if (pos.last) return {n - 1};
        if (pos.all) {
            for (std::int64_t p = 0; p < n; ++p) out.push_back(p);
            return out;
        }
        for (const std::int64_t p : pos.indices) {
            if (p >= n) {
                throw std::runtime_error("positions: " + std::to_string(p) + " is past the input (" + std::to_string(n) +
                                         " tokens)");
            }
            out.push_back(p);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_per_op(const BoundParams& p) { return std::make_shared<PerOp>(p); }

}  // namespace parity::falsifiers::detail
