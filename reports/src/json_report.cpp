#include "reports/json_report.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "reports/text.h"

namespace parity::reports {

namespace {

using Json = nlohmann::ordered_json;

Json number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
}

Json bound(const std::optional<double>& v) { return v ? number(*v) : Json(nullptr); }

Json text(std::string_view s) { return to_valid_utf8(s); }

Json texts(const std::vector<std::string>& list) {
    Json out = Json::array();
    for (const auto& s : list) out.push_back(text(s));
    return out;
}

Json test_json(const TestResult& r) {
    Json metrics = Json::array();
    for (const auto& [name, value] : r.metrics) {
        metrics.push_back({{"name", text(name)}, {"value", number(value)}});
    }
    Json per_layer = Json::array();
    for (const auto& row : r.per_layer) {
        per_layer.push_back({{"layer", row.layer},
                             {"slot", text(row.slot)},
                             {"value", number(row.value)},
                             {"lo", bound(row.lo)},
                             {"hi", bound(row.hi)},
                             {"pass", row.pass}});
        if (!row.details.empty()) {
            Json details = Json::object();
            for (const auto& [name, value] : row.details) details[name] = number(value);
            per_layer.back()["details"] = std::move(details);
        }
    }
    Json first_failure = nullptr;
    if (r.first_failure) {
        first_failure = {{"layer", r.first_failure->layer},
                         {"slot", text(r.first_failure->slot)},
                         {"detail", text(r.first_failure->detail)}};
    }
    Json doc = {{"id", text(r.id)},
            {"contract", text(r.contract)},
            {"rule", text(r.rule)},
            {"prediction", text(r.prediction)},
            {"if_fails", text(r.if_fails)},
            {"falsifier", text(r.falsifier)},
            {"paths", texts(r.paths)},
            {"labels", texts(r.labels)},
            {"status", std::string(to_string(r.status))},
            {"message", text(r.message)},
            {"metrics", std::move(metrics)},
            {"metric_name", text(r.metric_name)},
            {"per_layer", std::move(per_layer)},
            {"first_failure", std::move(first_failure)},
            {"repro", text(r.repro)},
            {"seconds", number(r.seconds)}};
    if (!r.notes.empty()) doc["notes"] = texts(r.notes);
    if (r.status == Status::Unmeasured) doc["allow_unmeasured"] = r.allow_unmeasured;
    return doc;
}

Json build_json(const BuildInfo& b) {
    return {{"version", text(b.version)},
            {"commit", text(b.commit)},
            {"build_type", text(b.build_type)},
            {"compiler", text(b.compiler)},
            {"cpu_features", texts(b.cpu_features)},
            {"cuda",
             {{"built", b.cuda_built},
              {"devices", texts(b.cuda_devices)},
              {"module", text(b.cuda_module)},
              {"loaded", b.cuda_loaded},
              {"problem", text(b.cuda_problem)}}}};
}

}  // namespace

void write_json(const RunReport& report, std::ostream& out) {
    const Summary s = report.summary();
    Json tests = Json::array();
    for (const auto& r : report.results) tests.push_back(test_json(r));
    const Json doc = {
        {"schema", std::string(kJsonSchema)},
        {"run",
         {{"tool", text(report.tool)},
          {"tool_version", text(report.tool_version)},
          {"started_at", text(report.started_at)},
          {"seconds", number(report.seconds)},
          {"command", text(report.command)}}},
        {"build", build_json(report.build)},
        {"summary",
         {{"total", s.total},
          {"evaluated", s.evaluated()},
          {"passed", s.passed},
          {"failed", s.failed},
          {"errors", s.errors},
          {"skipped", s.skipped},
          {"unbound", s.unbound},
          {"unmeasured", s.unmeasured},
          {"unmeasured_allowed", s.unmeasured_allowed},
          {"exit_code", exit_code(report)}}},
        {"tests", std::move(tests)},
    };
    // Text was made valid UTF-8 above; `replace` is a second guard that can never throw.
    out << doc.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace parity::reports
