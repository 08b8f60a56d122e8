#include "falsifiers/registry.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <stdexcept>
#include <system_error>

namespace parity::falsifiers {

// ---------------------------------------------------------------------------------------------
// ParamNode

ParamNode ParamNode::scalar(std::string text, SourcePos pos, bool quoted) {
    ParamNode n;
    n.kind = Kind::Scalar;
    n.text = std::move(text);
    n.quoted = quoted;
    n.pos = pos;
    return n;
}

ParamNode ParamNode::sequence(std::vector<ParamNode> items, SourcePos pos) {
    ParamNode n;
    n.kind = Kind::Sequence;
    n.items = std::move(items);
    n.pos = pos;
    return n;
}

ParamNode ParamNode::mapping(std::vector<ParamMember> members, SourcePos pos) {
    ParamNode n;
    n.kind = Kind::Mapping;
    n.members = std::move(members);
    n.pos = pos;
    return n;
}

const ParamNode* ParamNode::find(std::string_view key) const {
    for (const auto& m : members) {
        if (m.key == key) return &m.value;
    }
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

namespace {

constexpr std::array<std::string_view, 10> kLayerSlots = {
    "attn_norm", "qkv",    "attn_out",      "ffn_norm",         "ffn_gate",
    "ffn_up",    "ffn_silu_gate", "ffn_swiglu_inner", "ffn_out", "output"};
constexpr std::array<std::string_view, 3> kModelSlots = {"embed", "final_norm", "logits"};
constexpr std::array<std::string_view, 8> kStats = {"count",     "min",       "max",       "mean",
                                                    "std_dev",   "nan_count", "inf_count", "zero_count"};
constexpr std::array<std::string_view, 2> kSamples = {"last_token", "full"};

constexpr std::size_t kMaxRegexChars = 1000;

bool is_slot_name(std::string_view s) {
    return std::find(kLayerSlots.begin(), kLayerSlots.end(), s) != kLayerSlots.end() ||
           std::find(kModelSlots.begin(), kModelSlots.end(), s) != kModelSlots.end();
}

std::vector<std::string> all_slot_names() {
    std::vector<std::string> v(kLayerSlots.begin(), kLayerSlots.end());
    v.insert(v.end(), kModelSlots.begin(), kModelSlots.end());
    return v;
}

}  // namespace

std::span<const std::string_view> layer_slot_names() { return kLayerSlots; }
std::span<const std::string_view> model_slot_names() { return kModelSlots; }
std::span<const std::string_view> stat_names() { return kStats; }
std::span<const std::string_view> sample_names() { return kSamples; }

bool is_path_name(std::string_view name) {
    if (name.empty()) return false;
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-'; });
}

// ---------------------------------------------------------------------------------------------
// Text helpers

namespace {

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

template <class Range>
std::string join(const Range& names, std::string_view sep = ", ") {
    std::string s;
    for (const auto& n : names) {
        if (!s.empty()) s += sep;
        s += std::string(n);
    }
    return s;
}

std::string quoted(std::string_view s) { return "`" + std::string(s) + "`"; }

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

/// The candidate closest to `s`, when it is close enough to be a likely typo.
template <class Range>
std::string closest_of(std::string_view s, const Range& candidates) {
    // Close: a few edits away (relative to the length), or one name a prefix of the other.
    std::string best;
    std::size_t best_d = static_cast<std::size_t>(-1);
    for (const auto& c : candidates) {
        const std::string_view cv(c);
        const bool prefix = s.size() >= 3 && cv.size() >= 3 && (cv.starts_with(s) || s.starts_with(cv));
        const std::size_t d = edit_distance(s, cv);
        const std::size_t limit = std::max<std::size_t>(2, std::max(s.size(), cv.size()) / 3);
        if ((d <= limit || prefix) && d < best_d) {
            best_d = d;
            best = std::string(c);
        }
    }
    return best;
}

template <class Range>
std::string did_you_mean(std::string_view s, const Range& candidates) {
    const std::string c = closest_of(s, candidates);
    return c.empty() ? std::string() : " (did you mean " + quoted(c) + "?)";
}

std::string node_kind_text(const ParamNode& n) {
    switch (n.kind) {
        case ParamNode::Kind::Null: return "nothing";
        case ParamNode::Kind::Scalar: return quoted(n.text);
        case ParamNode::Kind::Sequence: return "a list";
        case ParamNode::Kind::Mapping: return "a mapping";
    }
    return "?";
}

std::optional<double> parse_number(const ParamNode& n) {
    if (n.kind != ParamNode::Kind::Scalar || n.quoted) return std::nullopt;
    std::string_view t = n.text;
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    if (t.empty()) return std::nullopt;
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, std::chars_format::general);
    if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
    return v;
}

std::optional<std::int64_t> parse_int(const ParamNode& n) {
    if (n.kind != ParamNode::Kind::Scalar || n.quoted) return std::nullopt;
    std::string_view t = n.text;
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    if (t.empty()) return std::nullopt;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 10);
    if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
    return v;
}

std::string range_text(const ParamSpec& p) {
    if (p.min && p.max) return " in [" + format_number(*p.min) + ", " + format_number(*p.max) + "]";
    if (p.min) return std::string(p.min_exclusive ? " > " : " >= ") + format_number(*p.min);
    if (p.max) return " <= " + format_number(*p.max);
    return "";
}

}  // namespace

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
    return closest_of(name, candidates);
}

std::string describe_kind(ParamKind kind) {
    switch (kind) {
        case ParamKind::String: return "string";
        case ParamKind::Regex: return "regular expression";
        case ParamKind::File: return "file name";
        case ParamKind::Number: return "number";
        case ParamKind::Int: return "integer";
        case ParamKind::Bool: return "true or false";
        case ParamKind::Choice: return "choice";
        case ParamKind::Path: return "path name";
        case ParamKind::PathList: return "list of path names";
        case ParamKind::Slot: return "slot name";
        case ParamKind::SlotList: return "`all` or a list of slot names";
        case ParamKind::Stat: return "stat name";
        case ParamKind::Band: return "band [lo, hi]";
        case ParamKind::Layers: return "`all`, a layer index or a list of layer indices";
        case ParamKind::Positions: return "`last`, `all` or a list of token positions";
        case ParamKind::IntList: return "list of integers >= 0";
        case ParamKind::StageList: return "`all` or a list of stage names";
    }
    return "?";
}

std::string ParamSpec::type_text() const {
    switch (kind) {
        case ParamKind::Number: return "number" + range_text(*this);
        case ParamKind::Int: return "integer" + range_text(*this);
        case ParamKind::Choice: return "one of " + join(choices);
        case ParamKind::PathList: {
            if (max_items == min_items) return "list of " + std::to_string(min_items) + " path names";
            if (max_items == 0 && min_items <= 1) return "list of path names (at least one)";
            if (max_items == 0) return "list of at least " + std::to_string(min_items) + " path names";
            return "list of " + std::to_string(min_items) + " to " + std::to_string(max_items) + " path names";
        }
        case ParamKind::Band: return "[lo, hi] with lo <= hi";
        default: return describe_kind(kind);
    }
}

const ParamSpec* FalsifierSpec::param(std::string_view param_name) const {
    for (const auto& p : params) {
        if (p.name == param_name) return &p;
    }
    return nullptr;
}

const ParamValue* BoundParams::find(std::string_view name) const noexcept {
    for (const auto& [n, v] : values_) {
        if (n == name) return &v;
    }
    return nullptr;
}

const ParamValue& BoundParams::at(std::string_view name) const {
    if (const auto* v = find(name)) return *v;
    throw std::out_of_range("falsifier " + falsifier_ + " has no parameter `" + std::string(name) + "`");
}

// ---------------------------------------------------------------------------------------------
// The built-in schemas (DESIGN.md "Falsifiers").

namespace {

struct SpecBuilder {
    FalsifierSpec spec;

    SpecBuilder(std::string name, std::string summary) {
        spec.name = std::move(name);
        spec.summary = std::move(summary);
    }
    ParamSpec& add(std::string name, ParamKind kind, bool required, std::string default_text, std::string description) {
        ParamSpec p;
        p.name = std::move(name);
        p.kind = kind;
        p.required = required;
        p.default_text = std::move(default_text);
        p.description = std::move(description);
        spec.params.push_back(std::move(p));
        return spec.params.back();
    }
    ParamSpec& two_paths(std::string description) {
        auto& p = add("paths", ParamKind::PathList, true, "", std::move(description));
        p.min_items = 2;
        p.max_items = 2;
        return p;
    }
    ParamSpec& nonneg(std::string name, std::string default_text, std::string description) {
        auto& p = add(std::move(name), ParamKind::Number, false, std::move(default_text), std::move(description));
        p.min = 0.0;
        return p;
    }
    ParamSpec& cosine(std::string name, std::string default_text, std::string description) {
        auto& p = add(std::move(name), ParamKind::Number, false, std::move(default_text), std::move(description));
        p.min = -1.0;
        p.max = 1.0;
        return p;
    }
    ParamSpec& sample(bool required, std::string default_text, std::string description) {
        auto& p = add("sample", ParamKind::Choice, required, std::move(default_text), std::move(description));
        p.choices.assign(kSamples.begin(), kSamples.end());
        return p;
    }
    ParamSpec& count(std::string name, bool required, std::string description) {
        auto& p = add(std::move(name), ParamKind::Int, required, "", std::move(description));
        p.min = 1.0;
        return p;
    }
    void prompt_or_tokens() {
        add("prompt", ParamKind::String, false, "", "prompt text to tokenize (default: the suite's prompt)");
        add("tokens", ParamKind::IntList, false, "", "token ids to use instead of a prompt");
        spec.constraints.push_back({Constraint::Kind::AtMostOne, {"prompt", "tokens"}});
    }
    void layers() {
        add("layers", ParamKind::Layers, false, "all", "layers to check");
    }
    void constraint(Constraint::Kind kind, std::vector<std::string> params) {
        spec.constraints.push_back({kind, std::move(params)});
    }
};

std::vector<FalsifierSpec> builtin_specs() {
    std::vector<FalsifierSpec> out;
    const std::string slots_desc = "slots to check (layer slots and embed, final_norm, logits)";
    {
        SpecBuilder b("sample_count_parity",
                      "PARITY-007: both paths saw equally large samples (equal `count`) for every layer and "
                      "slot, checked before any ratio is believed");
        b.two_paths("the two paths whose element counts must be equal");
        b.sample(true, "", "which sample's counts to compare: last_token or full (the sample your ratios use)");
        b.add("slots", ParamKind::SlotList, false, "all", slots_desc);
        b.layers();
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("stat_ratio_band",
                      "per layer, stat(paths[0]) / stat(paths[1]) of one slot lies inside a band (bounds "
                      "included); every ratio must be finite and > 0");
        b.two_paths("[numerator, denominator]");
        b.sample(true, "", "which sample the statistic covers on both paths: last_token or full");
        b.add("slot", ParamKind::Slot, true, "", "the slot whose statistic is compared");
        b.add("stat", ParamKind::Stat, true, "", "the ActivationStats field compared");
        b.add("band", ParamKind::Band, true, "", "inclusive [lo, hi] every ratio must lie in");
        b.layers();
        b.nonneg("min_denominator", "1e-9", "a denominator at or below this makes the ratio undefined (fails)");
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("slot_tolerance",
                      "element-wise tolerance on the last-token values of two paths (e.g. CPU vs GPU): "
                      "|a-b| <= atol + rtol*|b| and/or NMSE <= nmse, per layer and slot");
        b.two_paths("[candidate, reference]");
        b.add("slot", ParamKind::Slot, false, "", "one slot to compare");
        b.add("slots", ParamKind::SlotList, false, "", "several slots to compare (`all` for every slot)");
        b.nonneg("atol", "", "absolute tolerance per element");
        b.nonneg("rtol", "", "tolerance relative to the reference value's magnitude, per element");
        b.nonneg("nmse", "", "maximum normalized mean squared error per slot vector");
        b.layers();
        b.add("arbiter", ParamKind::Path, false, "",
              "a third path (typically backend f64) each row is also compared with: says which side is closer");
        b.constraint(Constraint::Kind::ExactlyOne, {"slot", "slots"});
        b.constraint(Constraint::Kind::AtLeastOne, {"atol", "rtol", "nmse"});
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("finite", "no NaN or Inf anywhere in the traced slots (nan_count and inf_count are 0)");
        b.add("path", ParamKind::Path, false, "", "the path to check");
        auto& p = b.add("paths", ParamKind::PathList, false, "", "several paths to check");
        p.min_items = 1;
        b.add("slots", ParamKind::SlotList, false, "all", slots_desc);
        b.layers();
        b.sample(false, "full", "which sample to check: full or last_token");
        b.constraint(Constraint::Kind::ExactlyOne, {"path", "paths"});
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("logits_agreement",
                      "the logits of two paths agree: cosine, KL divergence, max |delta| and top-k overlap");
        b.two_paths("[candidate, reference]");
        b.cosine("min_cosine", "", "minimum cosine similarity of the logit vectors");
        b.nonneg("max_kl", "", "maximum KL divergence of the candidate's softmax from the reference's");
        b.nonneg("max_abs", "", "maximum absolute difference of any logit");
        b.count("top_k", false, "compare the top-k token sets (with min_overlap)");
        auto& mo = b.add("min_overlap", ParamKind::Int, false, "", "how many of the top-k tokens must be shared");
        mo.min = 0.0;
        b.add("positions", ParamKind::Positions, false, "last", "token positions whose logits are compared");
        b.add("arbiter", ParamKind::Path, false, "",
              "a third path (typically backend f64) each row is also compared with: says which side is closer");
        b.constraint(Constraint::Kind::AtLeastOne, {"min_cosine", "max_kl", "max_abs", "top_k"});
        b.constraint(Constraint::Kind::Together, {"top_k", "min_overlap"});
        b.constraint(Constraint::Kind::NotGreater, {"min_overlap", "top_k"});
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("greedy_tokens_agree", "greedy generation of n_tokens gives identical token ids on every path");
        auto& p = b.add("paths", ParamKind::PathList, true, "", "the paths that must generate the same tokens");
        p.min_items = 2;
        b.count("n_tokens", true, "how many tokens to generate");
        b.prompt_or_tokens();
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("prefill_vs_decode",
                      "one path run full_sequence and incremental on its backend: last-token values and logits "
                      "agree within atol + rtol*|full_sequence|");
        b.add("path", ParamKind::Path, true, "", "the path (model, backend, matmul) run in both modes");
        b.add("slots", ParamKind::SlotList, false, "all", slots_desc);
        b.layers();
        b.nonneg("atol", "1e-4", "absolute tolerance per element");
        b.nonneg("rtol", "1e-3", "relative tolerance per element");
        b.prompt_or_tokens();
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("output_matches",
                      "greedy generation of n_tokens decodes to text matching a regex (the \"2+2\" ship check)");
        b.add("path", ParamKind::Path, true, "", "the path that generates");
        b.count("n_tokens", true, "how many tokens to generate");
        b.add("regex", ParamKind::Regex, true, "", "ECMAScript regex searched in the generated text");
        b.prompt_or_tokens();
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("reference_logits",
                      "the logits of a path agree with a stored reference file (e.g. produced by llama.cpp)");
        b.add("path", ParamKind::Path, true, "", "the path whose logits are checked");
        b.add("reference", ParamKind::File, true, "",
              "reference logits file (relative to the contract's directory or absolute)");
        b.add("positions", ParamKind::Positions, false, "last", "token positions compared");
        b.nonneg("atol", "", "absolute tolerance per logit");
        b.nonneg("rtol", "", "tolerance relative to the reference logit's magnitude");
        b.cosine("min_cosine", "", "minimum cosine similarity per position");
        b.constraint(Constraint::Kind::AtLeastOne, {"atol", "rtol", "min_cosine"});
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("per_op",
                      "stage tensors of two paths (engines or dump trees) agree per (stage, layer) over the "
                      "positions; the first row in forward order under min_cosine is named");
        b.two_paths("[A, B]: engine paths, or `dumps:` paths holding APRT trees");
        b.cosine("min_cosine", "0.999", "minimum cosine per (stage, layer) and position");
        b.nonneg("max_abs", "", "maximum |A - B| of any element (optional)");
        b.add("stages", ParamKind::StageList, false, "all", "stages compared (upstream's stage names)");
        b.add("positions", ParamKind::Positions, false, "all", "prompt positions compared");
        b.add("arbiter", ParamKind::Path, false, "",
              "a third path (typically backend f64) each row is also compared with: says which side is closer");
        b.prompt_or_tokens();
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("contract_valid",
                      "the contract file the test is in passes the contract validator (`pv validate`): no "
                      "error; fails with the validator's messages");
        b.add("strict", ParamKind::Bool, false, "false", "warnings fail the test too");
        out.push_back(std::move(b.spec));
    }
    {
        SpecBuilder b("kl_divergence",
                      "llama.cpp's `llama-perplexity --kl-divergence` over a text corpus in chunks of n_ctx tokens: "
                      "KLD of B's token distributions from A's, RMS delta-p and same top token, with bounds");
        b.two_paths("[A, B]: A the reference (llama.cpp's base model), B the candidate");
        b.add("prompt_file", ParamKind::File, false, "",
              "the corpus: a text file (relative to the contract's directory), tokenized by the paths");
        b.add("prompt", ParamKind::String, false, "", "corpus text to tokenize (default: the suite's input)");
        b.add("tokens", ParamKind::IntList, false, "", "token ids to use instead of a text");
        b.constraint(Constraint::Kind::AtMostOne, {"prompt_file", "prompt", "tokens"});
        auto& ctx = b.add("n_ctx", ParamKind::Int, false, "512", "tokens per chunk; the second half of each is scored");
        ctx.min = 4.0;
        b.count("n_chunks", false, "score at most this many chunks (default: every whole chunk of the corpus)");
        b.nonneg("max_mean_kld", "", "maximum mean KLD over the scored positions (nats)");
        b.nonneg("max_median_kld", "", "maximum median KLD");
        b.nonneg("max_p99_kld", "", "maximum 99th percentile of KLD");
        b.nonneg("max_kld", "", "maximum KLD of any scored position");
        auto& dp = b.nonneg("max_rms_dp_pct", "", "maximum RMS delta-p, in percent (probability of the next text token)");
        dp.max = 100.0;
        auto& top = b.nonneg("min_same_top_pct", "", "minimum share of positions whose top token is the same, in percent");
        top.max = 100.0;
        b.constraint(Constraint::Kind::AtLeastOne, {"max_mean_kld", "max_median_kld", "max_p99_kld", "max_kld",
                                                    "max_rms_dp_pct", "min_same_top_pct"});
        out.push_back(std::move(b.spec));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Checking one binding.

class Checker {
public:
    Checker(const FalsifierSpec& spec, const CheckOptions& options, std::vector<Issue>& issues)
        : spec_(spec), options_(options), issues_(issues) {}

    /// Parses `value` as `p`; nullopt after recording an issue.
    std::optional<ParamValue> parse(const ParamSpec& p, const ParamNode& value, SourcePos key_pos) {
        at_ = value.pos.known() ? value.pos : key_pos;
        param_ = &p;
        ParamValue v;
        v.kind = p.kind;
        v.pos = at_;
        if (value.kind == ParamNode::Kind::Null) return fail(IssueCode::InvalidValue, "has no value");
        switch (p.kind) {
            case ParamKind::String:
            case ParamKind::File: {
                if (!text(value, v.text)) return std::nullopt;
                if (v.text.empty()) return fail(IssueCode::InvalidValue, "must not be empty");
                return v;
            }
            case ParamKind::Regex: {
                if (!text(value, v.text)) return std::nullopt;
                // libstdc++ compiles (and matches) regexes recursively: bound the input.
                if (v.text.size() > kMaxRegexChars) {
                    return fail(IssueCode::InvalidValue,
                                "is longer than " + std::to_string(kMaxRegexChars) + " characters");
                }
                try {
                    const std::regex re(v.text, std::regex::ECMAScript);
                    (void)re;
                } catch (const std::regex_error& e) {
                    return fail(IssueCode::InvalidValue,
                                quoted(v.text) + " is not a valid regular expression (" + e.what() + ")");
                }
                return v;
            }
            case ParamKind::Number: {
                const auto d = number(value);
                if (!d) return std::nullopt;
                v.number = *d;
                return v;
            }
            case ParamKind::Int: {
                const auto i = integer(value, p.min, p.max, p.min_exclusive);
                if (!i) return std::nullopt;
                v.integer = *i;
                return v;
            }
            case ParamKind::Bool: {
                if (value.kind == ParamNode::Kind::Scalar && !value.quoted) {
                    const std::string& t = value.text;
                    if (t == "true" || t == "True" || t == "TRUE") {
                        v.boolean = true;
                        return v;
                    }
                    if (t == "false" || t == "False" || t == "FALSE") return v;
                }
                return wrong_type(value);
            }
            case ParamKind::Choice: {
                if (!text(value, v.text)) return std::nullopt;
                if (std::find(p.choices.begin(), p.choices.end(), v.text) == p.choices.end()) {
                    return fail(IssueCode::UnknownChoice, "must be one of " + join(p.choices) + ", got " +
                                                              quoted(v.text) + did_you_mean(v.text, p.choices));
                }
                return v;
            }
            case ParamKind::Path: {
                if (!path_name(value, v.text)) return std::nullopt;
                return v;
            }
            case ParamKind::PathList: return path_list(value, v);
            case ParamKind::Slot: {
                if (!slot(value, v.text)) return std::nullopt;
                return v;
            }
            case ParamKind::SlotList: return slot_list(value, v);
            case ParamKind::StageList: return stage_list(value, v);
            case ParamKind::Stat: {
                if (!text(value, v.text)) return std::nullopt;
                if (std::find(kStats.begin(), kStats.end(), v.text) == kStats.end()) {
                    return fail(IssueCode::UnknownStat, "names no statistic: " + quoted(v.text) +
                                                            did_you_mean(v.text, kStats) + "; stats are " +
                                                            join(kStats));
                }
                return v;
            }
            case ParamKind::Band: return band(value, v);
            case ParamKind::Layers:
            case ParamKind::Positions:
            case ParamKind::IntList: return index_list(value, v);
        }
        return std::nullopt;
    }

private:
    std::nullopt_t fail(IssueCode code, const std::string& what, std::optional<SourcePos> pos = std::nullopt) {
        issues_.push_back({code, param_->name,
                           "falsifier " + spec_.name + ": " + quoted(param_->name) + " " + what, pos.value_or(at_)});
        return std::nullopt;
    }

    std::nullopt_t wrong_type(const ParamNode& value) {
        return fail(IssueCode::InvalidValue,
                    "must be a " + param_->type_text() + ", got " + node_kind_text(value), value.pos.known() ? value.pos : at_);
    }

    bool text(const ParamNode& value, std::string& out) {
        if (value.kind != ParamNode::Kind::Scalar) {
            wrong_type(value);
            return false;
        }
        out = value.text;
        return true;
    }

    std::optional<double> number(const ParamNode& value) {
        const auto d = parse_number(value);
        if (!d || !std::isfinite(*d)) return wrong_type(value);
        const ParamSpec& p = *param_;
        const bool below = p.min && (p.min_exclusive ? *d <= *p.min : *d < *p.min);
        const bool above = p.max && *d > *p.max;
        if (below || above) {
            return fail(IssueCode::InvalidValue, "must be a " + p.type_text() + ", got " + value.text, value.pos);
        }
        return d;
    }

    std::optional<std::int64_t> integer(const ParamNode& value, std::optional<double> min, std::optional<double> max,
                                        bool min_exclusive) {
        const auto i = parse_int(value);
        if (!i) return wrong_type(value);
        const auto d = static_cast<double>(*i);
        const bool below = min && (min_exclusive ? d <= *min : d < *min);
        const bool above = max && d > *max;
        if (below || above) {
            return fail(IssueCode::InvalidValue, "must be an integer" + range_text(*param_) + ", got " + value.text,
                        value.pos);
        }
        return i;
    }

    bool path_name(const ParamNode& value, std::string& out) {
        if (!text(value, out)) return false;
        if (!is_path_name(out)) {
            fail(IssueCode::BadPathName,
                 quoted(out) + " is not a path name (a letter or '_', then letters, digits, '_' or '-')", value.pos);
            return false;
        }
        if (options_.known_paths) {
            const auto& known = *options_.known_paths;
            if (std::find(known.begin(), known.end(), out) == known.end()) {
                fail(IssueCode::BadPathName,
                     "names path " + quoted(out) + ", which the suite does not define" + did_you_mean(out, known) +
                         "; defined paths: " + (known.empty() ? std::string("none") : join(known)),
                     value.pos);
                return false;
            }
        }
        return true;
    }

    std::optional<ParamValue> path_list(const ParamNode& value, ParamValue& v) {
        const ParamSpec& p = *param_;
        if (value.kind != ParamNode::Kind::Sequence) return wrong_type(value);
        const std::size_t n = value.items.size();
        if (n < p.min_items || (p.max_items != 0 && n > p.max_items)) {
            return fail(IssueCode::InvalidValue,
                        "must be a " + p.type_text() + ", got " + std::to_string(n) + " item" + (n == 1 ? "" : "s"));
        }
        bool ok = true;
        for (const auto& item : value.items) {
            std::string name;
            if (!path_name(item, name)) {
                ok = false;
                continue;
            }
            if (std::find(v.names.begin(), v.names.end(), name) != v.names.end()) {
                fail(IssueCode::InvalidValue, "names path " + quoted(name) + " twice", item.pos);
                ok = false;
                continue;
            }
            v.names.push_back(name);
        }
        if (!ok) return std::nullopt;
        return v;
    }

    bool slot(const ParamNode& value, std::string& out) {
        if (!text(value, out)) return false;
        if (!is_slot_name(out)) {
            const auto names = all_slot_names();
            fail(IssueCode::UnknownSlot,
                 "names no slot: " + quoted(out) + did_you_mean(out, names) + "; slots are " + join(names), value.pos);
            return false;
        }
        return true;
    }

    bool stage(const ParamNode& value, std::string& out) {
        if (!text(value, out)) return false;
        const auto names = stage_names();
        if (std::find(names.begin(), names.end(), out) == names.end()) {
            fail(IssueCode::UnknownSlot,
                 "names no stage: " + quoted(out) + did_you_mean(out, names) + "; stages are " + join(names),
                 value.pos);
            return false;
        }
        return true;
    }

    std::optional<ParamValue> stage_list(const ParamNode& value, ParamValue& v) {
        if (value.kind == ParamNode::Kind::Scalar && value.text == "all") {
            v.all = true;
            const auto names = stage_names();
            v.names.assign(names.begin(), names.end());
            return v;
        }
        if (value.kind != ParamNode::Kind::Sequence) return wrong_type(value);
        if (value.items.empty()) return fail(IssueCode::InvalidValue, "must not be an empty list");
        bool ok = true;
        for (const auto& item : value.items) {
            std::string name;
            if (!stage(item, name)) {
                ok = false;
                continue;
            }
            if (std::find(v.names.begin(), v.names.end(), name) != v.names.end()) {
                fail(IssueCode::InvalidValue, "names stage " + quoted(name) + " twice", item.pos);
                ok = false;
                continue;
            }
            v.names.push_back(name);
        }
        if (!ok) return std::nullopt;
        return v;
    }

    std::optional<ParamValue> slot_list(const ParamNode& value, ParamValue& v) {
        if (value.kind == ParamNode::Kind::Scalar && value.text == "all") {
            v.all = true;
            v.names = all_slot_names();
            return v;
        }
        if (value.kind == ParamNode::Kind::Scalar) {
            std::string name;
            if (!slot(value, name)) return std::nullopt;
            v.names.push_back(name);
            return v;
        }
        if (value.kind != ParamNode::Kind::Sequence) return wrong_type(value);
        if (value.items.empty()) return fail(IssueCode::InvalidValue, "must not be an empty list");
        bool ok = true;
        for (const auto& item : value.items) {
            std::string name;
            if (!slot(item, name)) {
                ok = false;
                continue;
            }
            if (std::find(v.names.begin(), v.names.end(), name) != v.names.end()) {
                fail(IssueCode::InvalidValue, "names slot " + quoted(name) + " twice", item.pos);
                ok = false;
                continue;
            }
            v.names.push_back(name);
        }
        if (!ok) return std::nullopt;
        return v;
    }

    std::optional<ParamValue> band(const ParamNode& value, ParamValue& v) {
        if (value.kind != ParamNode::Kind::Sequence || value.items.size() != 2) {
            return fail(IssueCode::InvalidValue, "must be a band [lo, hi] of two numbers, got " +
                                                     (value.kind == ParamNode::Kind::Sequence
                                                          ? std::to_string(value.items.size()) + " items"
                                                          : node_kind_text(value)));
        }
        const auto lo = parse_number(value.items[0]);
        const auto hi = parse_number(value.items[1]);
        if (!lo || !std::isfinite(*lo)) {
            return fail(IssueCode::InvalidValue, "lower bound must be a finite number, got " + node_kind_text(value.items[0]),
                        value.items[0].pos);
        }
        if (!hi || !std::isfinite(*hi)) {
            return fail(IssueCode::InvalidValue, "upper bound must be a finite number, got " + node_kind_text(value.items[1]),
                        value.items[1].pos);
        }
        if (*lo > *hi) {
            return fail(IssueCode::InvalidValue, "is empty: lower bound " + value.items[0].text +
                                                     " is above upper bound " + value.items[1].text);
        }
        v.lo = *lo;
        v.hi = *hi;
        return v;
    }

    /// Layers, Positions and IntList: keywords, one index or a list of indices >= 0.
    std::optional<ParamValue> index_list(const ParamNode& value, ParamValue& v) {
        const ParamKind k = param_->kind;
        if (value.kind == ParamNode::Kind::Scalar && !value.quoted) {
            if (value.text == "all" && k != ParamKind::IntList) {
                v.all = true;
                return v;
            }
            if (value.text == "last" && k == ParamKind::Positions) {
                v.last = true;
                return v;
            }
        }
        std::vector<const ParamNode*> items;
        if (value.kind == ParamNode::Kind::Scalar) {
            items.push_back(&value);
        } else if (value.kind == ParamNode::Kind::Sequence) {
            if (value.items.empty()) return fail(IssueCode::InvalidValue, "must not be an empty list");
            for (const auto& item : value.items) items.push_back(&item);
        } else {
            return wrong_type(value);
        }
        bool ok = true;
        for (const ParamNode* item : items) {
            const auto i = parse_int(*item);
            if (!i || *i < 0) {
                fail(IssueCode::InvalidValue,
                     "must be " + describe_kind(k) + "; " + node_kind_text(*item) + " is not an integer >= 0",
                     item->pos.known() ? item->pos : at_);
                ok = false;
                continue;
            }
            if (k != ParamKind::IntList && std::find(v.indices.begin(), v.indices.end(), *i) != v.indices.end()) {
                fail(IssueCode::InvalidValue, "names " + item->text + " twice", item->pos);
                ok = false;
                continue;
            }
            v.indices.push_back(*i);
        }
        if (!ok) return std::nullopt;
        return v;
    }

    const FalsifierSpec& spec_;
    const CheckOptions& options_;
    std::vector<Issue>& issues_;
    const ParamSpec* param_ = nullptr;
    SourcePos at_;
};

std::string names_of(const FalsifierSpec& spec) {
    std::vector<std::string> v;
    for (const auto& p : spec.params) v.push_back(p.name);
    return join(v);
}

std::string backticked(const std::vector<std::string>& params, std::string_view last_sep) {
    std::string s;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i > 0) s += (i + 1 == params.size()) ? std::string(last_sep) : std::string(", ");
        s += quoted(params[i]);
    }
    return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registry

Registry Registry::with_builtin_specs() {
    Registry r;
    r.specs_ = builtin_specs();
    r.factories_.resize(r.specs_.size());
    return r;
}

Registry& Registry::builtin() {
    static Registry registry = with_builtin_specs();
    return registry;
}

const FalsifierSpec* Registry::find(std::string_view name) const noexcept {
    for (const auto& s : specs_) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::string Registry::closest(std::string_view name) const {
    std::vector<std::string> names;
    for (const auto& s : specs_) names.push_back(s.name);
    return closest_of(name, names);
}

void Registry::attach(std::string_view name, FalsifierFactory factory) {
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        if (specs_[i].name == name) {
            factories_[i] = std::move(factory);
            return;
        }
    }
    throw std::invalid_argument("cannot attach an implementation: no falsifier named `" + std::string(name) +
                                "` is registered");
}

const FalsifierFactory* Registry::factory(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        if (specs_[i].name == name) return factories_[i] ? &factories_[i] : nullptr;
    }
    return nullptr;
}

CheckResult Registry::check(const ParamNode& block, const CheckOptions& options) const {
    CheckResult result;
    std::vector<std::string> known;
    for (const auto& s : specs_) known.push_back(s.name);
    if (block.kind != ParamNode::Kind::Mapping) {
        result.issues.push_back({IssueCode::NotAMapping, "",
                                 "harness must be a mapping with `falsifier:` and its parameters, got " +
                                     node_kind_text(block),
                                 block.pos});
        return result;
    }
    const ParamMember* falsifier = nullptr;
    for (const auto& m : block.members) {
        if (m.key != "falsifier") continue;
        if (falsifier == nullptr) {
            falsifier = &m;
        } else {
            result.issues.push_back({IssueCode::Conflict, "falsifier", "`falsifier` is given twice", m.key_pos});
        }
    }
    if (falsifier == nullptr) {
        result.issues.push_back({IssueCode::UnknownFalsifier, "falsifier",
                                 "harness names no falsifier: add `falsifier: NAME` (one of " + join(known) + ")",
                                 block.pos});
        return result;
    }
    const ParamNode& name = falsifier->value;
    const SourcePos at = name.pos.known() ? name.pos : falsifier->key_pos;
    if (name.kind != ParamNode::Kind::Scalar || name.text.empty()) {
        result.issues.push_back({IssueCode::UnknownFalsifier, "falsifier",
                                 "`falsifier` must be a falsifier name (one of " + join(known) + "), got " +
                                     node_kind_text(name),
                                 at});
        return result;
    }
    const FalsifierSpec* spec = find(name.text);
    if (spec == nullptr) {
        result.issues.push_back({IssueCode::UnknownFalsifier, "falsifier",
                                 "unknown falsifier " + quoted(name.text) + did_you_mean(name.text, known) +
                                     "; registered falsifiers: " + join(known),
                                 at});
        return result;
    }
    CheckResult checked = check(*spec, block, options);
    checked.issues.insert(checked.issues.begin(), result.issues.begin(), result.issues.end());
    return checked;
}

CheckResult Registry::check(const FalsifierSpec& spec, const ParamNode& params, const CheckOptions& options) const {
    CheckResult result;
    result.params.falsifier_ = spec.name;
    if (params.kind != ParamNode::Kind::Mapping && params.kind != ParamNode::Kind::Null) {
        result.issues.push_back({IssueCode::NotAMapping, "",
                                 "falsifier " + spec.name + ": parameters must be a mapping, got " +
                                     node_kind_text(params),
                                 params.pos});
        return result;
    }
    Checker checker(spec, options, result.issues);
    std::vector<std::string> written;                 // every parameter key written (valid or not)
    std::vector<std::pair<std::string, SourcePos>> written_at;
    for (const auto& m : params.members) {
        if (m.key == "falsifier") continue;
        if (std::find(written.begin(), written.end(), m.key) != written.end()) {
            result.issues.push_back({IssueCode::Conflict, m.key,
                                     "falsifier " + spec.name + ": " + quoted(m.key) + " is given twice", m.key_pos});
            continue;
        }
        written.push_back(m.key);
        written_at.emplace_back(m.key, m.key_pos);
        const ParamSpec* p = spec.param(m.key);
        if (p == nullptr) {
            std::vector<std::string> names;
            for (const auto& ps : spec.params) names.push_back(ps.name);
            result.issues.push_back({IssueCode::UnknownParameter, m.key,
                                     "falsifier " + spec.name + " takes no parameter " + quoted(m.key) +
                                         did_you_mean(m.key, names) + "; it takes " + names_of(spec),
                                     m.key_pos});
            continue;
        }
        if (auto v = checker.parse(*p, m.value, m.key_pos)) result.params.values_.emplace_back(p->name, std::move(*v));
    }
    const SourcePos block_pos = params.pos;
    const auto is_written = [&](const std::string& n) {
        return std::find(written.begin(), written.end(), n) != written.end();
    };
    const auto pos_of = [&](const std::string& n) {
        for (const auto& [k, pos] : written_at) {
            if (k == n) return pos;
        }
        return block_pos;
    };
    for (const auto& p : spec.params) {
        if (is_written(p.name)) continue;
        if (p.required) {
            result.issues.push_back({IssueCode::MissingParameter, p.name,
                                     "falsifier " + spec.name + " requires " + quoted(p.name) + " (" + p.type_text() +
                                         "): " + p.description,
                                     block_pos});
        } else if (!p.default_text.empty()) {
            std::vector<Issue> ignored;
            Checker defaults(spec, CheckOptions{}, ignored);
            if (auto v = defaults.parse(p, ParamNode::scalar(p.default_text), {})) {
                v->from_default = true;
                v->pos = {};
                result.params.values_.emplace_back(p.name, std::move(*v));
            }
        }
    }
    for (const auto& c : spec.constraints) {
        std::vector<std::string> given;
        for (const auto& n : c.params) {
            if (is_written(n)) given.push_back(n);
        }
        switch (c.kind) {
            case Constraint::Kind::ExactlyOne:
                if (given.empty()) {
                    result.issues.push_back({IssueCode::MissingParameter, c.params.front(),
                                             "falsifier " + spec.name + " needs one of " + backticked(c.params, " or "),
                                             block_pos});
                } else if (given.size() > 1) {
                    result.issues.push_back({IssueCode::Conflict, given[1],
                                             "falsifier " + spec.name + ": give only one of " +
                                                 backticked(c.params, " or "),
                                             pos_of(given[1])});
                }
                break;
            case Constraint::Kind::AtLeastOne:
                if (given.empty()) {
                    result.issues.push_back({IssueCode::MissingParameter, c.params.front(),
                                             "falsifier " + spec.name + " needs at least one of " +
                                                 backticked(c.params, " or "),
                                             block_pos});
                }
                break;
            case Constraint::Kind::AtMostOne:
                if (given.size() > 1) {
                    result.issues.push_back({IssueCode::Conflict, given[1],
                                             "falsifier " + spec.name + ": give only one of " +
                                                 backticked(c.params, " or "),
                                             pos_of(given[1])});
                }
                break;
            case Constraint::Kind::Together:
                if (!given.empty() && given.size() < c.params.size()) {
                    for (const auto& n : c.params) {
                        if (is_written(n)) continue;
                        result.issues.push_back({IssueCode::MissingParameter, n,
                                                 "falsifier " + spec.name + ": " + quoted(given.front()) + " needs " +
                                                     quoted(n),
                                                 pos_of(given.front())});
                    }
                }
                break;
            case Constraint::Kind::NotGreater: {
                const ParamValue* a = result.params.find(c.params[0]);
                const ParamValue* b = result.params.find(c.params[1]);
                if (a == nullptr || b == nullptr || a->from_default || b->from_default) break;
                const double av = a->kind == ParamKind::Int ? static_cast<double>(a->integer) : a->number;
                const double bv = b->kind == ParamKind::Int ? static_cast<double>(b->integer) : b->number;
                if (av > bv) {
                    result.issues.push_back({IssueCode::Conflict, c.params[0],
                                             "falsifier " + spec.name + ": " + quoted(c.params[0]) + " (" +
                                                 format_number(av) + ") must not exceed " + quoted(c.params[1]) +
                                                 " (" + format_number(bv) + ")",
                                             a->pos});
                }
                break;
            }
        }
    }
    std::stable_sort(result.issues.begin(), result.issues.end(), [](const Issue& x, const Issue& y) {
        return std::pair(x.pos.line, x.pos.column) < std::pair(y.pos.line, y.pos.column);
    });
    return result;
}

}  // namespace parity::falsifiers
