// stat_ratio_band: per layer, stat(paths[0]) / stat(paths[1]) of one slot lies inside
// band = [lo, hi], bounds included (upstream's PARITY-001..003).
//
// Every ratio must be finite and > 0; a denominator <= min_denominator (default 1e-9) makes the
// ratio undefined, which fails naming the layer. The list must have one entry per layer: a
// trace with missing or extra layer entries fails. Both paths must have seen the same input
// tokens (else ERROR: the comparison would not be like with like). Rows: one per selected layer
// (or one model-level row for embed / final_norm / logits), value = the ratio, bounds = band.

#include <cmath>
#include <limits>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class StatRatioBand final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const std::string& pa = pp.a;
        const std::string& pb = pp.b;
        const bool last = params().at("sample").text == "last_token";
        const std::string& stat = params().at("stat").text;
        const ParamValue& band = params().at("band");
        const double min_den = params().at("min_denominator").number;
        const auto slot = slot_ref(params().at("slot").text);
        if (!slot) throw std::runtime_error("unknown slot `" + params().at("slot").text + "`");

        const TracePair traces = trace_pair(ev, pp, /*same_input=*/true);
        const ForwardTrace& ta = traces.a;
        const ForwardTrace& tb = traces.b;
        const int n_layers = traces.n_layers_a;
        if (slot->model_level && last && slot->model != ModelSlot::Logits) {
            throw std::runtime_error("slot " + slot->name + " has no last-token statistics in a trace; use sample: full");
        }
        r.metric_name = stat + " ratio " + pa + "/" + pb + " of " + slot->name + " (" +
                        (last ? "last_token" : "full") + " sample)";
        if (!layer_entries_complete(traces, pp, r)) return r;

        const std::vector<int> layers = slot->model_level ? std::vector<int>{-1} : select_layers(params(), n_layers);
        std::size_t failing = 0;
        double lo_seen = std::numeric_limits<double>::infinity(), hi_seen = -lo_seen;
        int worst_layer = -1;
        double worst_dev = -1.0;  // |log ratio|
        std::optional<reports::Divergence> first;
        for (const int layer : layers) {
            const ActivationStats* sa = find_stats(ta, layer, *slot, last);
            const ActivationStats* sb = find_stats(tb, layer, *slot, last);
            // A slot with no elements on a side was never measured there (a dump tree without
            // that stage, a dense slot of an MoE layer): no ratio can be believed.
            for (const auto& [st, name] : {std::pair{sa, pa}, std::pair{sb, pb}}) {
                if (st != nullptr && st->count == 0) {
                    throw NotMeasured("path " + name + " has no values for " + slot->name +
                                      (layer >= 0 ? " in layer " + std::to_string(layer) : std::string()));
                }
            }
            reports::LayerMetric row;
            row.layer = layer;
            row.slot = slot->name;
            row.lo = band.lo;
            row.hi = band.hi;
            const double num_v = sa ? stat_value(*sa, stat) : std::numeric_limits<double>::quiet_NaN();
            const double den_v = sb ? stat_value(*sb, stat) : std::numeric_limits<double>::quiet_NaN();
            std::string detail;
            if (sa == nullptr || sb == nullptr) {
                row.value = std::numeric_limits<double>::quiet_NaN();
                row.pass = false;
                detail = "layer " + std::to_string(layer) + " is missing from the " + (sa ? pb : pa) + " trace";
            } else if (!(den_v > min_den)) {
                row.value = std::numeric_limits<double>::quiet_NaN();
                row.pass = false;
                detail = stat + " ratio undefined: " + pb + "'s " + stat + " is " + num(den_v) +
                         " (<= min_denominator " + num(min_den) + ")";
            } else {
                row.value = num_v / den_v;
                row.pass = std::isfinite(row.value) && row.value > 0.0 && row.value >= band.lo && row.value <= band.hi;
                if (!row.pass) {
                    detail = stat + " ratio " + num(row.value) + " (" + num(num_v) + " / " + num(den_v) + ") outside [" +
                             num(band.lo) + ", " + num(band.hi) + "]";
                    if (std::isfinite(row.value) && row.value <= 0.0) detail += "; a ratio must be > 0";
                }
                if (std::isfinite(row.value)) {
                    lo_seen = std::min(lo_seen, row.value);
                    hi_seen = std::max(hi_seen, row.value);
                    if (row.value > 0.0) {
                        const double dev = std::fabs(std::log(row.value));
                        if (dev > worst_dev) {
                            worst_dev = dev;
                            worst_layer = layer;
                        }
                    }
                }
            }
            r.per_layer.push_back(row);
            if (!row.pass) {
                ++failing;
                if (!first) first = reports::Divergence{layer, slot->name, detail};
            }
        }
        r.metrics = {{"layers", static_cast<double>(layers.size())},
                     {"failing", static_cast<double>(failing)},
                     {"min_ratio", std::isfinite(lo_seen) ? lo_seen : std::numeric_limits<double>::quiet_NaN()},
                     {"max_ratio", std::isfinite(hi_seen) ? hi_seen : std::numeric_limits<double>::quiet_NaN()},
                     {"worst_layer", static_cast<double>(worst_layer)}};
        const std::string band_text = "[" + num(band.lo) + ", " + num(band.hi) + "]";
        if (first) {
            fail(r, *first,
                 std::to_string(failing) + " of " + std::to_string(layers.size()) + " layers outside " + band_text +
                     "; first: " + (first->layer < 0 ? std::string("model level") : "layer " + std::to_string(first->layer)) +
                     ": " + first->detail);
        } else {
            if (layers.size() == 1) {
                r.message = (layers[0] < 0 ? std::string("model level") : "layer " + std::to_string(layers[0])) + ": " +
                            stat + " ratio " + num(lo_seen) + ", inside " + band_text;
            } else {
                r.message = std::to_string(layers.size()) + " layers: " + stat + " ratio in [" + num(lo_seen) + ", " +
                            num(hi_seen) + "], inside " + band_text;
            }
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_stat_ratio_band(const BoundParams& p) { return std::make_shared<StatRatioBand>(p); }

}  // namespace parity::falsifiers::detail
