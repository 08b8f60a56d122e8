// kl_divergence: llama.cpp's `llama-perplexity --kl-divergence` as a falsifier. The corpus (a
// `prompt_file`, a `prompt`, `tokens`, or the suite's input) is tokenized by both paths (the
// ids must agree) and cut into chunks of n_ctx tokens; each chunk is evaluated on its own (a
// fresh context, every position's logits), its first token replaced by BOS when the tokenizer
// adds one. As llama.cpp, only the second half of each chunk is scored — positions n_ctx/2 ..
// n_ctx-2, each predicting the next token of the text — so every scored token has at least
// n_ctx/2 tokens of context. Per position: KL(A || B), Δp of the next token and same top token
// (falsifiers/token_kld.h); bounds on the summary statistics.
//
// Rows: one per given bound, layer -1, slot "KLD mean" etc.; metrics: every statistic.

#include <cmath>
#include <fstream>
#include <sstream>

#include "common.h"
#include "falsifiers/token_kld.h"

namespace parity::falsifiers::detail {

namespace {

constexpr std::uintmax_t kMaxCorpusBytes = 64u << 20;

std::string read_corpus(Evidence& ev, const std::string& name) {
    const std::filesystem::path file = ev.resolve_file(name);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        throw std::runtime_error("prompt_file " + file.string() + ": not found");
    }
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) throw std::runtime_error("prompt_file " + file.string() + ": cannot read its size: " + ec.message());
    if (size > kMaxCorpusBytes) {
        throw std::runtime_error("prompt_file " + file.string() + ": " + std::to_string(size) + " bytes, more than the " +
                                 std::to_string(kMaxCorpusBytes) + " a corpus may have");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error("prompt_file " + file.string() + ": cannot read it");
    if (text.str().empty()) throw std::runtime_error("prompt_file " + file.string() + ": empty");
    return text.str();
}

std::string pct(double fraction) { return num(100.0 * fraction) + " %"; }

class KlDivergence final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const PathPair pp = path_pair(*this);
        const std::string& pa = pp.a;  // the reference
        const std::string& pb = pp.b;  // the candidate
        const auto n_ctx = static_cast<std::size_t>(params().at("n_ctx").integer);

        InputRequest request = input_request(params());
        if (const ParamValue* f = params().find("prompt_file")) request.prompt = read_corpus(ev, f->text);
        const std::vector<std::int32_t> tokens = ev.input(pa, request);
        if (ev.input(pb, request) != tokens) {
            throw std::runtime_error("cannot compare like with like: " + pa + " and " + pb +
                                     " tokenize the corpus differently (" + ids_text(tokens) + " vs " +
                                     ids_text(ev.input(pb, request)) + ")");
        }
        const auto bos = ev.bos_token(pa);
        if (ev.bos_token(pb) != bos) {
            throw std::runtime_error("cannot compare like with like: " + pa + " and " + pb + " differ in the BOS token");
        }
        std::size_t n_chunks = tokens.size() / n_ctx;
        if (n_chunks == 0) {
            throw std::runtime_error("the corpus makes " + std::to_string(tokens.size()) +
                                     " tokens, fewer than one chunk of n_ctx " + std::to_string(n_ctx));
        }
        if (const ParamValue* c = params().find("n_chunks")) {
            n_chunks = std::min(n_chunks, static_cast<std::size_t>(c->integer));
        }

        TokenKldAccumulator acc;
        std::vector<std::size_t> text_index;  // the corpus index of each scored position
        std::size_t n_vocab = 0;
        for (std::size_t c = 0; c < n_chunks; ++c) {
            const auto first = tokens.begin() + static_cast<std::ptrdiff_t>(c * n_ctx);
            std::vector<std::int32_t> chunk(first, first + static_cast<std::ptrdiff_t>(n_ctx));
            if (bos) chunk[0] = *bos;
            const std::vector<float> la = ev.logits_once(pa, chunk);
            const std::vector<float> lb = ev.logits_once(pb, chunk);
            if (la.size() != lb.size() || la.empty() || la.size() % n_ctx != 0) {
                throw std::runtime_error("logits differ in shape: " + pa + " gives " + std::to_string(la.size()) + ", " + pb +
                                         " " + std::to_string(lb.size()) + " values for " + std::to_string(n_ctx) +
                                         " positions (vocabularies differ?)");
            }
            n_vocab = la.size() / n_ctx;
            for (std::size_t j = n_ctx / 2; j + 1 < n_ctx; ++j) {
                const std::size_t at = c * n_ctx + j;
                const auto row_a = std::span<const float>(la).subspan(j * n_vocab, n_vocab);
                const auto row_b = std::span<const float>(lb).subspan(j * n_vocab, n_vocab);
                acc.add(compare_token_distributions(row_a, row_b, tokens[at + 1]));
                text_index.push_back(at);
            }
        }

        const TokenKldSummary s = acc.summary();
        const std::size_t worst_at = text_index[s.max_kld_index];
        r.metrics = {{"positions", static_cast<double>(s.count)},
                     {"chunks", static_cast<double>(n_chunks)},
                     {"n_ctx", static_cast<double>(n_ctx)},
                     {"mean_kld", s.mean_kld},
                     {"mean_kld_uncertainty", s.mean_kld_uncertainty},
                     {"median_kld", s.median_kld},
                     {"p99_kld", s.p99_kld},
                     {"max_kld", s.max_kld},
                     {"max_kld_token_index", static_cast<double>(worst_at)},
                     {"rms_dp_pct", 100.0 * s.rms_dp},
                     {"rms_dp_pct_uncertainty", 100.0 * s.rms_dp_uncertainty},
                     {"same_top_pct", 100.0 * s.same_top},
                     {"same_top_pct_uncertainty", 100.0 * s.same_top_uncertainty}};
        r.metric_name = "token distribution statistic (see slot)";

        std::size_t failing = 0, checks = 0;
        std::optional<reports::Divergence> first;
        auto check = [&](const char* param, const std::string& slot, double value, bool upper) {
            const auto bound = opt_number(params(), param);
            if (!bound) return;
            reports::LayerMetric m;
            m.layer = -1;
            m.slot = slot;
            m.value = value;
            (upper ? m.hi : m.lo) = *bound;
            m.pass = !std::isnan(value) && (upper ? value <= *bound : value >= *bound);
            r.per_layer.push_back(m);
            ++checks;
            if (m.pass) return;
            ++failing;
            if (!first) {
                std::string detail = slot + " " + num(value) + (upper ? " > " : " < ") + num(*bound) + " (" + param + ")";
                if (std::string_view(param).ends_with("kld")) {
                    detail += "; max KLD " + num(s.max_kld) + " at token " + std::to_string(worst_at) + " of the corpus";
                }
                first = reports::Divergence{-1, slot, detail};
            }
        };
        check("max_mean_kld", "KLD mean", s.mean_kld, true);
        check("max_median_kld", "KLD median", s.median_kld, true);
        check("max_p99_kld", "KLD p99", s.p99_kld, true);
        check("max_kld", "KLD max", s.max_kld, true);
        check("max_rms_dp_pct", "RMS delta-p %", 100.0 * s.rms_dp, true);
        check("min_same_top_pct", "same top %", 100.0 * s.same_top, false);

        const std::string summary =
            "mean KLD " + num(s.mean_kld) + " +/- " + num(s.mean_kld_uncertainty) + ", median " + num(s.median_kld) +
            ", p99 " + num(s.p99_kld) + ", max " + num(s.max_kld) + " (token " + std::to_string(worst_at) +
            "), RMS delta-p " + pct(s.rms_dp) + " +/- " + pct(s.rms_dp_uncertainty) + ", same top " + pct(s.same_top) + " +/- " +
            pct(s.same_top_uncertainty) + " over " + std::to_string(s.count) + " positions (" +
            std::to_string(n_chunks) + " chunks of " + std::to_string(n_ctx) + ", second halves)";
        if (first) {
            fail(r, *first,
                 std::to_string(failing) + " of " + std::to_string(checks) + " bounds fail; first: " + first->detail +
                     " [" + pb + " vs " + pa + ": " + summary + "]");
        } else {
            r.message = pb + " vs " + pa + ": " + summary;
        }
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_kl_divergence(const BoundParams& p) { return std::make_shared<KlDivergence>(p); }

}  // namespace parity::falsifiers::detail
