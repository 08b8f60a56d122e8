// slot_tolerance: element-wise agreement of the last-token values of two paths (typically CPU
// vs GPU), per layer and slot: |a - b| <= atol + rtol * |b| for every element (b = paths[1],
// the reference) and/or NMSE(a, b) <= nmse.
//
// Rows: one per (layer, slot) in trace order, value = the share of the tolerance used
// (max over elements of |a-b| / (atol + rtol*|b|), and NMSE / nmse), <= 1 passes. The first
// failing row in trace order is where the paths part ways. embed and final_norm keep no values
// in a trace: left out under `slots: all`, an error when named.

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

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
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_slot_tolerance(const BoundParams& p) { return std::make_shared<SlotTolerance>(p); }

}  // namespace parity::falsifiers::detail
