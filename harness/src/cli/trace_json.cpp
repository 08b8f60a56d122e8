// ForwardTrace -> JSON and text.

#include "trace_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace parity::cli {

namespace {

/// A float as a JSON number with the float's shortest decimal form (0.1f -> 0.1, not
/// 0.10000000149011612); null when not finite.
nlohmann::ordered_json number(float v) {
    if (!std::isfinite(v)) return nullptr;
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    double d = 0.0;
    std::from_chars(buf, r.ptr, d);
    return d;
}

double l2_norm(const std::vector<float>& v) {
    double s = 0.0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
}

nlohmann::ordered_json slots_json(const SlotStats& slots) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (TraceSlot s : all_trace_slots()) j[std::string(slot_name(s))] = stats_json(slots[static_cast<std::size_t>(s)]);
    return j;
}

std::string layer_status(const LayerActivation& la) {
    for (TraceSlot s : all_trace_slots()) {
        if (la[s].has_anomaly()) return "ANOMALY";
    }
    if (la[TraceSlot::Output].std_dev > 100.0f) return "HIGH-VAR";
    return "OK";
}

std::string stat_line(const std::string& label, const ActivationStats& s) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "mean=%8.4f std=%8.4f", static_cast<double>(s.mean), static_cast<double>(s.std_dev));
    std::string line = "    " + label + ": " + buf;
    if (s.nan_count != 0 || s.inf_count != 0) {
        line += " NaN:" + std::to_string(s.nan_count) + " Inf:" + std::to_string(s.inf_count);
    }
    return line;
}

}  // namespace

nlohmann::ordered_json stats_json(const ActivationStats& s) {
    nlohmann::ordered_json j;
    j["count"] = s.count;
    j["min"] = number(s.min);
    j["max"] = number(s.max);
    j["mean"] = number(s.mean);
    j["std_dev"] = number(s.std_dev);
    j["nan_count"] = s.nan_count;
    j["inf_count"] = s.inf_count;
    j["zero_count"] = s.zero_count;
    return j;
}

std::vector<std::pair<std::int32_t, float>> top_k(const std::vector<float>& logits, std::size_t k) {
    std::vector<std::pair<std::int32_t, float>> all;
    all.reserve(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) {
        if (!std::isnan(logits[i])) all.emplace_back(static_cast<std::int32_t>(i), logits[i]);
    }
    const std::size_t n = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
    all.resize(n);
    return all;
}

nlohmann::ordered_json trace_json(const TraceInfo& info, const ForwardTrace& trace, bool full_logits, bool values) {
    nlohmann::ordered_json j;
    j["format"] = info.format;
    j["architecture"] = info.architecture;
    j["num_layers"] = info.num_layers;
    j["hidden_dim"] = info.hidden_dim;
    j["vocab_size"] = info.vocab_size;
    j["num_heads"] = info.num_heads;
    j["num_kv_heads"] = info.num_kv_heads;
    j["prompt"] = info.prompt ? nlohmann::ordered_json(*info.prompt) : nlohmann::ordered_json(nullptr);
    j["encoded_tokens"] = trace.input_tokens;
    j["mode"] = info.mode;
    j["matmul"] = info.matmul;
    j["kv_type"] = info.kv_type;
    j["backend"] = info.backend;
    j["embedding"] = stats_json(trace.embed);
    j["layers"] = nlohmann::ordered_json::array();
    for (const LayerActivation& la : trace.layers) {
        nlohmann::ordered_json l;
        l["layer_idx"] = la.layer_idx;
        for (TraceSlot s : all_trace_slots()) l[std::string(slot_name(s))] = stats_json(la[s]);
        l["last_token"] = slots_json(la.last_token);
        if (values) {
            nlohmann::ordered_json v = nlohmann::ordered_json::object();
            for (TraceSlot s : all_trace_slots()) {
                nlohmann::ordered_json arr = nlohmann::ordered_json::array();
                for (float x : la.values(s)) arr.push_back(number(x));
                v[std::string(slot_name(s))] = std::move(arr);
            }
            l["last_token_values"] = std::move(v);
        }
        j["layers"].push_back(std::move(l));
    }
    j["final_norm"] = stats_json(trace.final_norm);
    j["logits_stats"] = stats_json(trace.logits_stats);
    nlohmann::ordered_json lg;
    lg["vocab_size"] = trace.logits.size();
    lg["l2_norm"] = l2_norm(trace.logits);
    lg["top_k"] = nlohmann::ordered_json::array();
    for (const auto& [id, logit] : top_k(trace.logits, 5)) lg["top_k"].push_back({{"token_id", id}, {"logit", number(logit)}});
    if (full_logits) {
        nlohmann::ordered_json arr = nlohmann::ordered_json::array();
        for (float x : trace.logits) arr.push_back(number(x));
        lg["values"] = std::move(arr);
    }
    j["logits"] = std::move(lg);
    return j;
}

void write_trace_text(std::ostream& os, const TraceInfo& info, const ForwardTrace& trace) {
    os << "Model: " << info.architecture << " (" << info.format << "), " << info.num_layers << " layers, hidden "
       << info.hidden_dim << ", vocab " << info.vocab_size << ", heads " << info.num_heads << "/" << info.num_kv_heads
       << "\n";
    os << "Path: " << info.mode << ", matmul " << info.matmul << ", kv " << info.kv_type << ", backend "
       << info.backend << "\n";
    if (info.prompt) os << "Prompt: \"" << *info.prompt << "\"\n";
    os << "Tokens (" << trace.input_tokens.size() << "):";
    for (std::int32_t id : trace.input_tokens) os << " " << id;
    os << "\n\n";
    os << stat_line("embedding", trace.embed).substr(4) << "\n";
    const int n = static_cast<int>(trace.layers.size());
    for (const LayerActivation& la : trace.layers) {
        char head[64];
        std::snprintf(head, sizeof head, "Layer %2d/%d", la.layer_idx, n);
        os << head << " [" << layer_status(la) << "]\n";
        for (TraceSlot s : all_trace_slots()) os << stat_line(std::string(slot_name(s)), la[s]) << "\n";
    }
    os << stat_line("final_norm", trace.final_norm).substr(4) << "\n";
    os << stat_line("logits", trace.logits_stats).substr(4) << "\n";
    os << "Top-5:";
    for (const auto& [id, logit] : top_k(trace.logits, 5)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %d (%.4f)", id, static_cast<double>(logit));
        os << buf;
    }
    os << "\n";
}

}  // namespace parity::cli
