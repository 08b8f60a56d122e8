#include "common.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "falsifiers/metrics.h"
#include "reports/text.h"

namespace parity::falsifiers::detail {

std::optional<SlotRef> slot_ref(std::string_view name) {
    SlotRef r;
    r.name = std::string(name);
    for (const TraceSlot s : all_trace_slots()) {
        if (slot_name(s) == name) {
            r.slot = s;
            return r;
        }
    }
    r.model_level = true;
    if (name == "embed") {
        r.model = ModelSlot::Embed;
    } else if (name == "final_norm") {
        r.model = ModelSlot::FinalNorm;
    } else if (name == "logits") {
        r.model = ModelSlot::Logits;
    } else {
        return std::nullopt;
    }
    return r;
}

SlotSelection select_slots(const BoundParams& params) {
    SlotSelection sel;
    std::vector<std::string> names;
    if (const ParamValue* one = params.find("slot")) {
        names.push_back(one->text);
    } else if (const ParamValue* many = params.find("slots")) {
        sel.all = many->all;
        names = many->names;
    }
    auto wanted = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    if (wanted("embed")) sel.before.push_back(*slot_ref("embed"));
    for (const TraceSlot s : all_trace_slots()) {
        if (wanted(slot_name(s))) sel.layer.push_back(*slot_ref(slot_name(s)));
    }
    if (wanted("final_norm")) sel.after.push_back(*slot_ref("final_norm"));
    if (wanted("logits")) sel.after.push_back(*slot_ref("logits"));
    return sel;
}

std::vector<int> select_layers(const BoundParams& params, int n_layers) {
    const ParamValue* p = params.find("layers");
    std::vector<int> out;
    if (p == nullptr || p->all) {
        for (int i = 0; i < n_layers; ++i) out.push_back(i);
        return out;
    }
    for (const std::int64_t i : p->indices) {
        if (i >= n_layers) {
            throw std::runtime_error("layers: layer " + std::to_string(i) + " does not exist (the model has " +
                                     std::to_string(n_layers) + " layers, 0.." + std::to_string(n_layers - 1) + ")");
        }
        out.push_back(static_cast<int>(i));
    }
    std::sort(out.begin(), out.end());
    return out;
}

const ActivationStats* find_stats(const ForwardTrace& trace, int layer, const SlotRef& slot, bool last_token) {
    if (slot.model_level) {
        switch (slot.model) {
            case ModelSlot::Embed: return last_token ? nullptr : &trace.embed;
            case ModelSlot::FinalNorm: return last_token ? nullptr : &trace.final_norm;
            case ModelSlot::Logits: return &trace.logits_stats;
        }
        return nullptr;
    }
    if (layer < 0 || static_cast<std::size_t>(layer) >= trace.layers.size()) return nullptr;
    const LayerActivation& la = trace.layers[static_cast<std::size_t>(layer)];
    return last_token ? &la.last(slot.slot) : &la[slot.slot];
}

std::span<const float> find_values(const ForwardTrace& trace, int layer, const SlotRef& slot) {
    if (slot.model_level) {
        if (slot.model == ModelSlot::Logits) return trace.logits;
        return {};
    }
    if (layer < 0 || static_cast<std::size_t>(layer) >= trace.layers.size()) return {};
    return trace.layers[static_cast<std::size_t>(layer)].values(slot.slot);
}

double stat_value(const ActivationStats& s, std::string_view stat) {
    if (stat == "count") return static_cast<double>(s.count);
    if (stat == "min") return s.min;
    if (stat == "max") return s.max;
    if (stat == "mean") return s.mean;
    if (stat == "std_dev") return s.std_dev;
    if (stat == "nan_count") return static_cast<double>(s.nan_count);
    if (stat == "inf_count") return static_cast<double>(s.inf_count);
    if (stat == "zero_count") return static_cast<double>(s.zero_count);
    throw std::invalid_argument("unknown statistic `" + std::string(stat) + "`");
}

// ---------------------------------------------------------------------------------------------

std::string Tolerance::describe() const {
    std::string s;
    if (atol) s += "atol " + num(*atol);
    if (rtol) s += std::string(s.empty() ? "" : ", ") + "rtol " + num(*rtol);
    if (nmse) s += std::string(s.empty() ? "" : ", ") + "NMSE <= " + num(*nmse);
    return s;
}

ToleranceCheck check_tolerance(std::span<const float> a, std::span<const float> b, const Tolerance& tol) {
    ToleranceCheck c;
    if (a.size() != b.size()) {
        c.pass = false;
        c.usage = std::numeric_limits<double>::infinity();
        c.max_abs = std::numeric_limits<double>::quiet_NaN();
        c.detail = "lengths differ (" + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " values)";
        return c;
    }
    const double atol = tol.atol.value_or(0.0);
    const double rtol = tol.rtol.value_or(0.0);
    std::size_t worst = 0;
    double worst_usage = -1.0;
    bool nan_seen = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (std::isnan(d)) {
            if (!nan_seen) worst = i;
            nan_seen = true;
            continue;
        }
        c.max_abs = std::max(c.max_abs, d);
        if (tol.elementwise()) {
            const double bound = atol + rtol * std::fabs(static_cast<double>(b[i]));
            const double u = bound > 0.0 ? d / bound : (d == 0.0 ? 0.0 : std::numeric_limits<double>::infinity());
            if (!nan_seen && u > worst_usage) {
                worst_usage = u;
                worst = i;
            }
        }
    }
    c.nmse = nmse(a, b);
    c.cosine = cosine_similarity(a, b);
    if (nan_seen) {
        c.pass = false;
        c.usage = std::numeric_limits<double>::quiet_NaN();
        c.max_abs = std::numeric_limits<double>::quiet_NaN();
        c.detail = "element " + std::to_string(worst) + " is NaN (" + num(a[worst]) + " vs " + num(b[worst]) + ")";
        return c;
    }
    c.usage = std::max(worst_usage, 0.0);
    if (tol.elementwise() && worst_usage > 1.0) {
        c.pass = false;
        const double bound = atol + rtol * std::fabs(static_cast<double>(b[worst]));
        c.detail = "element " + std::to_string(worst) + ": |" + num(a[worst]) + " - " + num(b[worst]) +
                   "| = " + num(std::fabs(static_cast<double>(a[worst]) - static_cast<double>(b[worst]))) +
                   " > atol + rtol*|ref| = " + num(bound);
    }
    if (tol.nmse) {
        const double u = *tol.nmse > 0.0 ? c.nmse / *tol.nmse
                                          : (c.nmse == 0.0 ? 0.0 : std::numeric_limits<double>::infinity());
        c.usage = std::max(c.usage, u);
        if (!(c.nmse <= *tol.nmse)) {
            if (c.pass) c.detail = "NMSE " + num(c.nmse) + " > " + num(*tol.nmse);
            c.pass = false;
        }
    }
    return c;
}

Tolerance tolerance_from(const BoundParams& params) {
    Tolerance t;
    t.atol = opt_number(params, "atol");
    t.rtol = opt_number(params, "rtol");
    t.nmse = opt_number(params, "nmse");
    return t;
}

// ---------------------------------------------------------------------------------------------

std::string num(double v) { return reports::format_number(v, 6); }

std::optional<double> opt_number(const BoundParams& params, std::string_view name) {
    if (const ParamValue* v = params.find(name)) return v->number;
    return std::nullopt;
}

std::string ids_text(std::span<const std::int32_t> ids, std::size_t max) {
    std::string s = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i == max) {
            s += ", ...";
            break;
        }
        if (i > 0) s += ", ";
        s += std::to_string(ids[i]);
    }
    return s + "]";
}

std::string quote_text(std::string_view text, std::size_t max) {
    std::string s = "\"";
    std::size_t n = 0;
    for (const char ch : text) {
        // Cut after `max` bytes, but never inside a UTF-8 sequence.
        if (n++ >= max && (static_cast<unsigned char>(ch) & 0xC0) != 0x80) {
            s += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '\n') {
            s += "\\n";
        } else if (ch == '\t') {
            s += "\\t";
        } else if (ch == '"' || ch == '\\') {
            s += '\\';
            s += ch;
        } else if (u < 0x20 || u == 0x7f) {
            static const char* hex = "0123456789abcdef";
            s += "\\x";
            s += hex[u >> 4];
            s += hex[u & 15];
        } else {
            s += ch;
        }
    }
    return s + "\"";
}

void require_same_input(const ForwardTrace& a, const ForwardTrace& b, const std::string& pa, const std::string& pb) {
    if (a.input_tokens != b.input_tokens) {
        throw std::runtime_error("cannot compare like with like: " + pa + " was fed " + ids_text(a.input_tokens) +
                                 " and " + pb + " " + ids_text(b.input_tokens) +
                                 " (different tokenizers? give the suite `tokens:`)");
    }
}

std::optional<reports::Divergence> check_layer_entries(const ForwardTrace& trace, int n_layers, const std::string& path) {
    const auto have = trace.layers.size();
    for (std::size_t i = 0; i < have; ++i) {
        if (trace.layers[i].layer_idx != static_cast<int>(i)) {
            return reports::Divergence{static_cast<int>(i), "",
                                       path + ": trace entry " + std::to_string(i) + " is layer " +
                                           std::to_string(trace.layers[i].layer_idx)};
        }
    }
    if (have != static_cast<std::size_t>(n_layers)) {
        const int first_bad = static_cast<int>(std::min<std::size_t>(have, static_cast<std::size_t>(n_layers)));
        return reports::Divergence{first_bad, "",
                                   path + ": the trace has " + std::to_string(have) +
                                       " layer entries, the model has " + std::to_string(n_layers) +
                                       " layers (one entry per layer is required)"};
    }
    return std::nullopt;
}

PathPair path_pair(const Falsifier& f) {
    const auto names = f.paths();
    return {names.at(0), names.at(1)};
}

TracePair trace_pair(Evidence& ev, const PathPair& p, bool same_input) {
    TracePair t{ev.trace(p.a, ev.input(p.a, {})), ev.trace(p.b, ev.input(p.b, {})), ev.config(p.a).n_layers,
                ev.config(p.b).n_layers};
    if (same_input) require_same_input(t.a, t.b, p.a, p.b);
    return t;
}

bool layer_entries_complete(const TracePair& t, const PathPair& p, reports::TestResult& r) {
    auto bad = check_layer_entries(t.a, t.n_layers_a, p.a);
    if (!bad) bad = check_layer_entries(t.b, t.n_layers_b, p.b);
    if (bad) fail(r, *bad, bad->detail);
    return !bad;
}

reports::TestResult start_result(const Falsifier& f) {
    reports::TestResult r;
    r.falsifier = f.name();
    r.paths = f.paths();
    r.status = reports::Status::Pass;
    return r;
}

void fail(reports::TestResult& r, reports::Divergence where, std::string message) {
    r.status = reports::Status::Fail;
    r.first_failure = std::move(where);
    r.message = std::move(message);
}

InputRequest input_request(const BoundParams& params) {
    InputRequest in;
    if (const ParamValue* p = params.find("prompt")) in.prompt = p->text;
    if (const ParamValue* t = params.find("tokens")) {
        std::vector<std::int32_t> ids;
        for (const std::int64_t id : t->indices) {
            if (id > std::numeric_limits<std::int32_t>::max()) {
                throw std::runtime_error("tokens: id " + std::to_string(id) + " is out of range");
            }
            ids.push_back(static_cast<std::int32_t>(id));
        }
        in.tokens = std::move(ids);
    }
    return in;
}

// ---------------------------------------------------------------------------------------------

void compare_values(const ValueComparison& c, reports::TestResult& r) {
    const ForwardTrace& a = *c.candidate;
    const ForwardTrace& b = *c.reference;
    r.metric_name = "tolerance used (" + c.tol.describe() + "; <= 1 passes)";
    std::size_t compared = 0, failing = 0;
    double max_abs = 0.0, max_usage = 0.0, worst_nmse = 0.0, min_cos = 1.0;
    std::vector<std::string> left_out;
    std::optional<reports::Divergence> first;
    std::string first_summary;

    auto one = [&](int layer, const SlotRef& s) {
        const auto va = find_values(a, layer, s);
        const auto vb = find_values(b, layer, s);
        if (va.empty() || vb.empty()) {
            if (s.model_level && s.model != ModelSlot::Logits) {
                if (!c.slots.all) {
                    throw std::runtime_error("slot " + s.name +
                                             ": a trace keeps no values for it (compare its statistics instead)");
                }
                if (std::find(left_out.begin(), left_out.end(), s.name) == left_out.end()) left_out.push_back(s.name);
                return;
            }
            throw std::runtime_error("layer " + std::to_string(layer) + ", slot " + s.name + ": no last-token values in the " +
                                     (va.empty() ? c.candidate_name : c.reference_name) + " trace");
        }
        const ToleranceCheck t = check_tolerance(va, vb, c.tol);
        ++compared;
        const int row_layer = s.model_level ? -1 : layer;
        reports::LayerMetric row;
        row.layer = row_layer;
        row.slot = s.name;
        row.value = t.usage;
        row.hi = 1.0;
        row.pass = t.pass;
        r.per_layer.push_back(row);
        // Worst values; a NaN, once seen, sticks.
        auto worse = [](double& acc, double v, bool higher_is_worse) {
            if (std::isnan(acc)) return;
            if (std::isnan(v) || (higher_is_worse ? v > acc : v < acc)) acc = v;
        };
        worse(max_abs, t.max_abs, true);
        worse(max_usage, t.usage, true);
        worse(worst_nmse, t.nmse, true);
        worse(min_cos, t.cosine, false);
        if (!t.pass) {
            ++failing;
            if (!first) {
                first = reports::Divergence{row_layer, s.name, c.candidate_name + " vs " + c.reference_name + ": " + t.detail};
            }
        }
    };
    for (const auto& s : c.slots.before) one(-1, s);
    for (const int layer : c.layers) {
        for (const auto& s : c.slots.layer) one(layer, s);
    }
    for (const auto& s : c.slots.after) one(-1, s);

    r.metrics = {{"compared", static_cast<double>(compared)},
                 {"failing", static_cast<double>(failing)},
                 {"max_tolerance_used", max_usage},
                 {"max_abs_diff", max_abs},
                 {"max_nmse", worst_nmse},
                 {"min_cosine", min_cos}};
    std::string note;
    if (!left_out.empty()) {
        note = " (";
        for (std::size_t i = 0; i < left_out.size(); ++i) note += (i ? ", " : "") + left_out[i];
        note += ": no values in a trace, not compared)";
    }
    if (compared == 0) throw std::runtime_error("nothing to compare: no layer and slot selected" + note);
    if (first) {
        const std::string where = first->layer < 0 ? "model level" : "layer " + std::to_string(first->layer);
        fail(r, *first,
             std::to_string(failing) + " of " + std::to_string(compared) + " (layer, slot) vectors outside " +
                 c.tol.describe() + "; first: " + where + ", slot " + first->slot + note);
    } else {
        r.status = reports::Status::Pass;
        r.message = "all " + std::to_string(compared) + " (layer, slot) vectors within " + c.tol.describe() +
                    " (max |delta| " + num(max_abs) + ", " + num(max_usage * 100.0) + "% of the tolerance used)" + note;
    }
}

}  // namespace parity::falsifiers::detail
