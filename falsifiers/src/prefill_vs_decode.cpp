// prefill_vs_decode: one path (model, backend, matmul) run both ways — full_sequence (the
// prompt in one batched pass) and incremental (one token at a time through the KV cache) —
// must give the same last token: every selected slot's last-token values and the last
// position's logits within |incremental - full_sequence| <= atol + rtol * |full_sequence|.
// A KV-cache bug (wrong position, stale entry, wrong rope offset) shows up as the first layer
// whose attention output parts ways.
//
// Rows as slot_tolerance's (candidate incremental, reference full_sequence).

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class PrefillVsDecode final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const std::string& path = params().at("path").text;
        const std::vector<std::int32_t> tokens = ev.input(path, input_request(params()));
        const ForwardTrace& full = ev.trace(path, tokens, ForwardMode::FullSequence);
        const ForwardTrace& inc = ev.trace(path, tokens, ForwardMode::Incremental);
        const int n_layers = ev.config(path).n_layers;
        for (const auto* t : {&full, &inc}) {
            if (const auto bad = check_layer_entries(*t, n_layers, path)) {
                fail(r, *bad, bad->detail);
                return r;
            }
        }
        ValueComparison c;
        c.candidate = &inc;
        c.reference = &full;
        c.candidate_name = path + " incremental";
        c.reference_name = path + " full_sequence";
        c.slots = select_slots(params());
        c.layers = select_layers(params(), n_layers);
        c.tol = tolerance_from(params());
        compare_values(c, r);
        r.metrics.insert(r.metrics.begin(), {"tokens", static_cast<double>(tokens.size())});
        if (tokens.size() < 2) r.message += " (one token: both modes run the same single pass)";
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_prefill_vs_decode(const BoundParams& p) { return std::make_shared<PrefillVsDecode>(p); }

}  // namespace parity::falsifiers::detail
