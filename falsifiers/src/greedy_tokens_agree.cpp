// greedy_tokens_agree: greedy generation of n_tokens after the same prompt gives identical
// token ids on every path (each compared with paths[0]).
//
// Rows: one per other path, layer -1, slot "tokens <path> vs <paths[0]>", value = how many
// leading tokens agree, held to >= n_tokens. first_failure: the first differing position, with
// both tokens' ids and texts.

#include <algorithm>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class GreedyTokensAgree final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const auto names = paths();
        const int n = static_cast<int>(params().at("n_tokens").integer);
        const InputRequest req = input_request(params());
        const std::string& base = names.at(0);
        const std::vector<std::int32_t> prompt = ev.input(base, req);
        const Generation& g0 = ev.generate(base, prompt, n);
        r.metric_name = "leading generated tokens that agree";
        std::size_t min_agree = g0.tokens.size();
        std::optional<reports::Divergence> first;
        std::string first_msg;
        for (std::size_t i = 1; i < names.size(); ++i) {
            const std::string& p = names[i];
            const std::vector<std::int32_t> in = ev.input(p, req);
            if (in != prompt) {
                throw std::runtime_error("cannot compare like with like: " + base + " was fed " + ids_text(prompt) +
                                         " and " + p + " " + ids_text(in));
            }
            const Generation& g = ev.generate(p, in, n);
            std::size_t agree = 0;
            while (agree < g.tokens.size() && agree < g0.tokens.size() && g.tokens[agree] == g0.tokens[agree]) ++agree;
            reports::LayerMetric row;
            row.layer = -1;
            row.slot = "tokens " + p + " vs " + base;
            row.value = static_cast<double>(agree);
            row.lo = static_cast<double>(n);
            row.pass = agree >= static_cast<std::size_t>(n);
            r.per_layer.push_back(row);
            min_agree = std::min(min_agree, agree);
            if (!row.pass && !first) {
                auto piece = [](const Generation& gen, std::size_t k) {
                    return k < gen.pieces.size() ? " " + quote_text(gen.pieces[k], 24) : std::string();
                };
                std::string detail;
                if (agree < g0.tokens.size() && agree < g.tokens.size()) {
                    detail = base + " " + std::to_string(g0.tokens[agree]) + piece(g0, agree) + " vs " + p + " " +
                             std::to_string(g.tokens[agree]) + piece(g, agree);
                } else {
                    detail = p + " generated " + std::to_string(g.tokens.size()) + " tokens, " + base + " " +
                             std::to_string(g0.tokens.size());
                }
                first = reports::Divergence{-1, "generated token " + std::to_string(agree), detail};
                first_msg = p + " departs from " + base + " at generated token " + std::to_string(agree) + ": " + detail +
                            " (" + base + ": " + quote_text(g0.text, 60) + ", " + p + ": " + quote_text(g.text, 60) + ")";
            }
        }
        r.metrics = {{"n_tokens", static_cast<double>(n)},
                     {"prompt_tokens", static_cast<double>(prompt.size())},
                     {"min_agreeing_prefix", static_cast<double>(min_agree)}};
        if (first) {
            fail(r, *first, first_msg);
        } else {
            r.message = std::to_string(names.size()) + " paths generate the same " + std::to_string(n) +
                        (n == 1 ? " token " : " tokens ") +
                        ids_text(g0.tokens, 12) + " " + quote_text(g0.text, 60);
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_greedy_tokens_agree(const BoundParams& p) {
    return std::make_shared<GreedyTokensAgree>(p);
}

}  // namespace parity::falsifiers::detail
