// logits_agreement: the logits of two paths (candidate paths[0], reference paths[1]) agree at
// the selected positions: cosine >= min_cosine, KL(reference || candidate) <= max_kl,
// max |delta| <= max_abs, and at least min_overlap of the top_k tokens shared — each checked
// when given (upstream's `apr parity` gates: cosine 0.999, KL 0.01, max |delta| 1.0).
//
// positions: last (default; read from the paths' traces, shared with the trace-based tests),
// all, or a list. Rows: one per (position, given metric), layer -1, slot "logits <metric>" or
// "logits[p] <metric>". Metrics: the worst of each over the positions (all four, given or not).
// With `arbiter:` each row also says how far each side's logits are from the arbiter's (arbiter.h).

#include <algorithm>
#include <cmath>
#include <limits>

#include "arbiter.h"
#include "common.h"
#include "falsifiers/metrics.h"

namespace parity::falsifiers::detail {

namespace {

class LogitsAgreement final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const std::string& pa = pp.a;
        const std::string& pb = pp.b;
        const ParamValue& pos = params().at("positions");
        const auto min_cos = opt_number(params(), "min_cosine");
        const auto max_kl = opt_number(params(), "max_kl");
        const auto max_abs = opt_number(params(), "max_abs");
        const ParamValue* top_k_p = params().find("top_k");
        const std::size_t k = top_k_p ? static_cast<std::size_t>(top_k_p->integer) : 5;
        const std::size_t min_overlap = top_k_p ? static_cast<std::size_t>(params().at("min_overlap").integer) : 0;

        const auto in_a = ev.input(pa, {});
        const auto in_b = ev.input(pb, {});
        // Rows of logits to compare: (position, candidate, reference).
        struct Row {
            std::int64_t position;
            std::span<const float> a, b;
            std::span<const float> arbiter = {};  ///< empty without an arbiter
        };
        const std::optional<std::string> arb = arbiter_path(params());
        if (arb && ev.input(*arb, {}) != in_a) {
            throw std::runtime_error("cannot compare like with like: arbiter " + *arb + " was fed " +
                                     ids_text(ev.input(*arb, {})) + " and " + pa + " " + ids_text(in_a));
        }
        std::vector<Row> rows;
        const std::int64_t n_tokens = static_cast<std::int64_t>(in_a.size());
        if (pos.last) {
            const TracePair traces = trace_pair(ev, pp, /*same_input=*/true);
            rows.push_back({n_tokens - 1, traces.a.logits, traces.b.logits});
            if (arb) rows.back().arbiter = ev.trace(*arb, in_a).logits;
        } else {
            if (in_a != in_b) {
                throw std::runtime_error("cannot compare like with like: " + pa + " was fed " + ids_text(in_a) + " and " +
                                         pb + " " + ids_text(in_b));
            }
            const std::vector<float>& la = ev.logits(pa, in_a);
            const std::vector<float>& lb = ev.logits(pb, in_b);
            const auto na = ev.config(pa).n_vocab, nb = ev.config(pb).n_vocab;
            if (na != nb) {
                throw std::runtime_error("vocabularies differ: " + pa + " has " + std::to_string(na) + " logits, " + pb +
                                         " " + std::to_string(nb));
            }
            const auto nv = static_cast<std::size_t>(na);
            std::vector<std::int64_t> positions;
            if (pos.all) {
                for (std::int64_t p = 0; p < n_tokens; ++p) positions.push_back(p);
            } else {
                positions = pos.indices;
            }
            for (const std::int64_t p : positions) {
                if (p >= n_tokens) {
                    throw std::runtime_error("positions: " + std::to_string(p) + " is past the input (" +
                                             std::to_string(n_tokens) + " tokens)");
                }
                const auto off = static_cast<std::size_t>(p) * nv;
                rows.push_back({p, std::span<const float>(la).subspan(off, nv), std::span<const float>(lb).subspan(off, nv)});
                if (arb) {
                    const std::vector<float>& lr = ev.logits(*arb, in_a);
                    if (lr.size() != la.size()) {
                        throw std::runtime_error("vocabularies differ: arbiter " + *arb + " gives " +
                                                 std::to_string(lr.size()) + " logits for the input, " + pa + " " +
                                                 std::to_string(la.size()));
                    }
                    rows.back().arbiter = std::span<const float>(lr).subspan(off, nv);
                }
            }
        }

        double worst_cos = 1.0, worst_kl = 0.0, worst_abs = 0.0;
        double worst_overlap = static_cast<double>(k);
        std::size_t failing = 0, checks = 0;
        std::optional<reports::Divergence> first;
        std::optional<Closeness> first_closeness;
        r.metric_name = "logit agreement metric (see slot)";
        const bool only_last = pos.last;
        for (const Row& row : rows) {
            if (row.a.size() != row.b.size() || row.a.empty()) {
                throw std::runtime_error("logit vectors differ in length (" + std::to_string(row.a.size()) + " vs " +
                                         std::to_string(row.b.size()) + ")");
            }
            const double cos = cosine_similarity(row.a, row.b);
            const double kl = kl_divergence(row.a, row.b);
            const double mad = max_abs_diff(row.a, row.b);
            const auto overlap = static_cast<double>(top_k_overlap(row.a, row.b, k));
            auto worse = [](double& acc, double v, bool higher_is_worse) {
                if (std::isnan(acc)) return;
                if (std::isnan(v) || (higher_is_worse ? v > acc : v < acc)) acc = v;
            };
            worse(worst_cos, cos, false);
            worse(worst_kl, kl, true);
            worse(worst_abs, mad, true);
            worse(worst_overlap, overlap, false);
            const std::string where = only_last ? "logits" : "logits[" + std::to_string(row.position) + "]";
            std::optional<Closeness> close;
            if (arb) close = closeness(row.a, row.b, row.arbiter);
            auto add = [&](const std::string& metric, double value, std::optional<double> lo, std::optional<double> hi,
                           const std::string& detail) {
                reports::LayerMetric m;
                m.layer = -1;
                m.slot = where + " " + metric;
                m.value = value;
                m.lo = lo;
                m.hi = hi;
                m.pass = !std::isnan(value) && (!lo || value >= *lo) && (!hi || value <= *hi);
                if (close) add_arbiter_details(m, *close);
                r.per_layer.push_back(m);
                ++checks;
                if (!m.pass) {
                    ++failing;
                    if (!first) {
                        first = reports::Divergence{-1, m.slot, "position " + std::to_string(row.position) + ": " + detail};
                        first_closeness = close;
                    }
                }
            };
            if (min_cos) add("cosine", cos, *min_cos, std::nullopt, "cosine " + num(cos) + " < " + num(*min_cos));
            if (max_kl) add("KL", kl, std::nullopt, *max_kl, "KL " + num(kl) + " > " + num(*max_kl));
            if (max_abs) add("max |delta|", mad, std::nullopt, *max_abs, "max |delta| " + num(mad) + " > " + num(*max_abs));
            if (top_k_p) {
                const auto ta = top_k(row.a, k), tb = top_k(row.b, k);
                add("top-" + std::to_string(k) + " overlap", overlap, static_cast<double>(min_overlap), std::nullopt,
                    "top-" + std::to_string(k) + " overlap " + num(overlap) + " < " + std::to_string(min_overlap) + " (" +
                        pa + " argmax " + std::to_string(ta.empty() ? -1 : ta[0]) + ", " + pb + " argmax " +
                        std::to_string(tb.empty() ? -1 : tb[0]) + ")");
            }
        }
        r.metrics = {{"positions", static_cast<double>(rows.size())},
                     {"cosine", worst_cos},
                     {"kl", worst_kl},
                     {"max_abs_diff", worst_abs},
                     {"top" + std::to_string(k) + "_overlap", worst_overlap}};
        const std::string summary = "cosine " + num(worst_cos) + ", KL " + num(worst_kl) + ", max |delta| " +
                                    num(worst_abs) + ", top-" + std::to_string(k) + " overlap " + num(worst_overlap) +
                                    (rows.size() > 1 ? " (worst of " + std::to_string(rows.size()) + " positions)" : "");
        if (first) {
            fail(r, *first,
                 std::to_string(failing) + " of " + std::to_string(checks) + " checks fail; first: " + first->detail +
                     " [" + summary + "]");
        } else {
            r.message = pa + " vs " + pb + ": " + summary;
        }
        if (arb) summarize_arbiter(r, pp, *arb, first_closeness);
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_logits_agreement(const BoundParams& p) { return std::make_shared<LogitsAgreement>(p); }

}  // namespace parity::falsifiers::detail
