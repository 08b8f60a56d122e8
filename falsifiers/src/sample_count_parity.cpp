// sample_count_parity (PARITY-007): both paths saw equally large samples — equal `count` for
// every selected layer and slot — before any ratio between them is believed.
//
// Rows: one per (layer, slot) in trace order, value = count(paths[0]) / count(paths[1]), held to
// [1, 1]. Both counts 0 fails too (the slot was not traced: nothing to compare). With
// sample: last_token, embed and final_norm are left out (a trace keeps only whole-sample
// statistics for them) and the message says so.

#include <limits>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class SampleCountParity final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const std::string& pa = pp.a;
        const std::string& pb = pp.b;
        const bool last = params().at("sample").text == "last_token";
        const TracePair traces = trace_pair(ev, pp, /*same_input=*/false);
        const ForwardTrace& ta = traces.a;
        const ForwardTrace& tb = traces.b;
        const int n_layers = traces.n_layers_a;
        const SlotSelection slots = select_slots(params());
        const std::vector<int> layers = select_layers(params(), n_layers);
        r.metric_name = "count ratio " + pa + "/" + pb + " (" + (last ? "last_token" : "full") + " sample)";

        std::size_t compared = 0, differing = 0;
        std::vector<std::string> left_out;
        std::optional<reports::Divergence> first;

        auto one = [&](int layer, const SlotRef& s) {
            const ActivationStats* sa = find_stats(ta, layer, s, last);
            const ActivationStats* sb = find_stats(tb, layer, s, last);
            const int row_layer = s.model_level ? -1 : layer;
            if (s.model_level && s.model != ModelSlot::Logits && last) {
                left_out.push_back(s.name);
                return;
            }
            ++compared;
            reports::LayerMetric row;
            row.layer = row_layer;
            row.slot = s.name;
            row.lo = 1.0;
            row.hi = 1.0;
            std::string detail;
            if (sa == nullptr || sb == nullptr) {
                row.value = std::numeric_limits<double>::quiet_NaN();
                row.pass = false;
                detail = "layer " + std::to_string(layer) + " is missing from the " + (sa == nullptr ? pa : pb) +
                         " trace";
            } else {
                const auto ca = sa->count, cb = sb->count;
                row.value = cb == 0 ? (ca == 0 ? 1.0 : std::numeric_limits<double>::infinity())
                                    : static_cast<double>(ca) / static_cast<double>(cb);
                row.pass = ca == cb && ca != 0;
                if (ca == 0 && cb == 0) {
                    detail = "count 0 on both paths: the slot was not traced, nothing was compared";
                } else if (ca != cb) {
                    detail = "count " + std::to_string(ca) + " (" + pa + ") vs " + std::to_string(cb) + " (" + pb +
                             "): " + pa + " saw " + num(row.value) + "x the elements of " + pb +
                             " — the statistics cover different samples";
                }
            }
            r.per_layer.push_back(row);
            if (!row.pass) {
                ++differing;
                if (!first) first = reports::Divergence{row_layer, s.name, detail};
            }
        };
        for (const auto& s : slots.before) one(-1, s);
        for (const int layer : layers) {
            for (const auto& s : slots.layer) one(layer, s);
        }
        for (const auto& s : slots.after) one(-1, s);

        r.metrics = {{"compared", static_cast<double>(compared)},
                     {"differing", static_cast<double>(differing)},
                     {"tokens_" + pa, static_cast<double>(ta.input_tokens.size())},
                     {"tokens_" + pb, static_cast<double>(tb.input_tokens.size())}};
        if (!layer_entries_complete(traces, pp, r)) return r;
        std::string note;
        if (!left_out.empty()) {
            note = " (";
            for (std::size_t i = 0; i < left_out.size(); ++i) note += (i ? ", " : "") + left_out[i];
            note += ": no last-token statistics in a trace, not compared)";
        }
        if (compared == 0) throw std::runtime_error("nothing to compare: no layer and slot selected" + note);
        if (first) {
            fail(r, *first,
                 std::to_string(differing) + " of " + std::to_string(compared) + " counts differ; first: " +
                     (first->layer < 0 ? std::string("model level") : "layer " + std::to_string(first->layer)) +
                     ", slot " + first->slot + ": " + first->detail + note);
        } else {
            r.message = "equal element counts in all " + std::to_string(compared) + " (layer, slot) pairs (" +
                        std::string(last ? "last_token" : "full") + " sample)" + note;
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_sample_count_parity(const BoundParams& p) {
    return std::make_shared<SampleCountParity>(p);
}

}  // namespace parity::falsifiers::detail
