// slot_tolerance: element-wise agreement of the last-token values of two paths (typically CPU
// vs GPU), per layer and slot: |a - b| <= atol + rtol * |b| for every element (b = paths[1],
// the reference) and/or NMSE(a, b) <= nmse.
//
// Rows: one per (layer, slot) in trace order, value = the share of the tolerance used
// (max over elements of |a-b| / (atol + rtol*|b|), and NMSE / nmse), <= 1 passes. The first
// failing row in trace order is where the paths part ways. embed and final_norm keep no values
// in a trace: left out under `slots: all`, an error when named. With `arbiter:` each row also
// says how far each side is from the arbiter's values (arbiter.h).

#include "arbiter.h"
#include "common.h"

namespace parity::falsifiers::detail {

namespace {

/// Adds each row's distances to the arbiter's last-token values (rows the arbiter's trace has
/// no values for are left as they are).
void judge_rows(Evidence& ev, const PathPair& pp, const std::string& arb, const ForwardTrace& ta,
                const ForwardTrace& tb, reports::TestResult& r) {
    const ForwardTrace& tr = ev.trace(arb, ta.input_tokens);
    require_same_input(ta, tr, pp.a, arb);
    std::optional<Closeness> first;
    for (reports::LayerMetric& m : r.per_layer) {
        const std::optional<SlotRef> slot = slot_ref(m.slot);
        if (!slot) continue;
        const auto va = find_values(ta, m.layer, *slot), vb = find_values(tb, m.layer, *slot),
                   vr = find_values(tr, m.layer, *slot);
        if (vr.empty()) continue;
        const Closeness c = closeness(va, vb, vr);
        add_arbiter_details(m, c);
        if (!m.pass && !first) first = c;
    }
    summarize_arbiter(r, pp, arb, first);
}

class SlotTolerance final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const std::string& pa = pp.a;
        const std::string& pb = pp.b;
        const TracePair traces = trace_pair(ev, pp, /*same_input=*/true);
        const ForwardTrace& ta = traces.a;
        const ForwardTrace& tb = traces.b;
        const int n_layers = traces.n_layers_a;
        if (!layer_entries_complete(traces, pp, r)) return r;
        ValueComparison c;
        c.candidate = &ta;
        c.reference = &tb;
        c.candidate_name = pa;
        c.reference_name = pb;
        c.slots = select_slots(params());
        c.layers = select_layers(params(), n_layers);
        c.tol = tolerance_from(params());
        compare_values(c, r);
        if (const std::optional<std::string> arb = arbiter_path(params())) judge_rows(ev, pp, *arb, ta, tb, r);
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_slot_tolerance(const BoundParams& p) { return std::make_shared<SlotTolerance>(p); }

}  // namespace parity::falsifiers::detail
