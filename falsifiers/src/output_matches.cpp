// output_matches: greedy generation of n_tokens on one path decodes to text in which `regex`
// (ECMAScript) is found — the "What is 2+2?" ship check (upstream: "equals" or "4" within the
// first tokens). The text is what a user would see: the generated tokens before the first
// end-of-generation token, decoded.
//
// No per-layer rows; first_failure for a FAIL is the model-level "output text".

// GCC 12 with the sanitizers reports -Wmaybe-uninitialized inside libstdc++'s <regex> (a false
// positive in std::function inside the regex automaton); keep the build warning-free.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

class OutputMatches final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const std::string& path = params().at("path").text;
        const int n = static_cast<int>(params().at("n_tokens").integer);
        const std::string& pattern = params().at("regex").text;
        const std::vector<std::int32_t> prompt = ev.input(path, input_request(params()));
        const Generation& g = ev.generate(path, prompt, n);
        const std::regex re(pattern, std::regex::ECMAScript);
        const bool match = std::regex_search(g.text, re);
        const std::size_t shown = g.eog_index >= 0 ? static_cast<std::size_t>(g.eog_index) : g.tokens.size();
        r.metrics = {{"prompt_tokens", static_cast<double>(prompt.size())},
                     {"generated_tokens", static_cast<double>(shown)},
                     {"stopped_at_eog", g.eog_index >= 0 ? 1.0 : 0.0}};
        const std::string what = path + " generated " + quote_text(g.text, 120) + " (" + std::to_string(shown) +
                                 " tokens" + (g.eog_index >= 0 ? ", then end of generation" : "") + ")";
        if (match) {
            r.message = what + ", matching /" + pattern + "/";
        } else {
            fail(r, reports::Divergence{-1, "output text", quote_text(g.text, 120) + " does not match /" + pattern + "/"},
                 what + ", which does not match /" + pattern + "/");
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_output_matches(const BoundParams& p) { return std::make_shared<OutputMatches>(p); }

}  // namespace parity::falsifiers::detail
