// finite: no NaN or Inf anywhere in the traced slots of one or more paths, and every selected
// slot of every layer present (traced: count > 0; one trace entry per model layer). The
// presence half is what upstream's PARITY-006 asks ("the trace emits ffn_swiglu_inner for each
// layer").
//
// Rows: one per (path, layer, slot) in trace order, value = nan_count + inf_count, held to
// <= 0; a count of 0 (not traced) fails too. With sample: last_token, embed and final_norm
// are checked over their whole sample (a trace keeps no last-token statistics for them; for an
// incremental path that is the last token anyway).

#include <limits>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class Finite final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const auto names = paths();
        const bool last = params().at("sample").text == "last_token";
        const SlotSelection slots = select_slots(params());
        r.metric_name = "non-finite values (nan_count + inf_count)";
        std::size_t checked = 0, failing = 0;
        std::uint64_t nan_total = 0, inf_total = 0;
        std::optional<reports::Divergence> first;
        std::string first_path;

        for (const auto& path : names) {
            const ForwardTrace& t = ev.trace(path, ev.input(path, {}));
            const int n_layers = ev.config(path).n_layers;
            if (const auto bad = check_layer_entries(t, n_layers, path)) {
                fail(r, *bad, bad->detail);
                return r;
            }
            const std::vector<int> layers = select_layers(params(), n_layers);
            auto one = [&](int layer, const SlotRef& s) {
                const ActivationStats* st = find_stats(t, layer, s, last);
                if (st == nullptr) st = find_stats(t, layer, s, false);  // embed / final_norm
                const int row_layer = s.model_level ? -1 : layer;
                reports::LayerMetric row;
                row.layer = row_layer;
                row.slot = names.size() > 1 ? s.name + " (" + path + ")" : s.name;
                row.hi = 0.0;
                std::string detail;
                if (st == nullptr || st->count == 0) {
                    row.value = std::numeric_limits<double>::quiet_NaN();
                    row.pass = false;
                    detail = path + ": not traced (count 0)";
                } else {
                    row.value = static_cast<double>(st->nan_count + st->inf_count);
                    row.pass = st->nan_count == 0 && st->inf_count == 0;
                    nan_total += st->nan_count;
                    inf_total += st->inf_count;
                    if (!row.pass) {
                        detail = path + ": " + std::to_string(st->nan_count) + " NaN and " +
                                 std::to_string(st->inf_count) + " Inf of " + std::to_string(st->count) + " values";
                    }
                }
                ++checked;
                r.per_layer.push_back(row);
                if (!row.pass) {
                    ++failing;
                    if (!first) {
                        first = reports::Divergence{row_layer, s.name, detail};
                        first_path = path;
                    }
                }
            };
            for (const auto& s : slots.before) one(-1, s);
            for (const int layer : layers) {
                for (const auto& s : slots.layer) one(layer, s);
            }
            for (const auto& s : slots.after) one(-1, s);
        }
        r.metrics = {{"checked", static_cast<double>(checked)},
                     {"failing", static_cast<double>(failing)},
                     {"nan_count", static_cast<double>(nan_total)},
                     {"inf_count", static_cast<double>(inf_total)}};
        if (checked == 0) throw std::runtime_error("nothing to check: no layer and slot selected");
        if (first) {
            fail(r, *first,
                 std::to_string(failing) + " of " + std::to_string(checked) +
                     " slots not finite or not traced; first: " +
                     (first->layer < 0 ? std::string("model level") : "layer " + std::to_string(first->layer)) +
                     ", slot " + first->slot + " (" + first->detail + ")");
        } else {
            std::string who;
            for (std::size_t i = 0; i < names.size(); ++i) who += (i ? ", " : "") + names[i];
            r.message = "all " + std::to_string(checked) + " slots traced and finite on " + who + " (" +
                        (last ? "last_token" : "full") + " sample)";
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_finite(const BoundParams& p) { return std::make_shared<Finite>(p); }

}  // namespace parity::falsifiers::detail
