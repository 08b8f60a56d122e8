#include "reports/describe.h"

#include <algorithm>

#include "reports/text.h"

namespace parity::reports {

std::string describe_location(int layer, std::string_view slot) {
    std::string out = layer < 0 ? std::string("model level") : "layer " + std::to_string(layer);
    if (!slot.empty()) {
        out += ", slot ";
        out += slot;
    }
    return out;
}

std::string describe_bounds(const LayerMetric& row) {
    if (row.lo && row.hi) return "[" + format_number(*row.lo) + ", " + format_number(*row.hi) + "]";
    if (row.lo) return ">= " + format_number(*row.lo);
    if (row.hi) return "<= " + format_number(*row.hi);
    return "";
}

std::optional<Divergence> first_divergence(const TestResult& result) {
    if (result.first_failure) return result.first_failure;
    if (result.status != Status::Fail) return std::nullopt;
    const auto it = std::find_if(result.per_layer.begin(), result.per_layer.end(),
                                 [](const LayerMetric& row) { return !row.pass; });
    if (it == result.per_layer.end()) return std::nullopt;
    Divergence d;
    d.layer = it->layer;
    d.slot = it->slot;
    d.detail = (result.metric_name.empty() ? std::string("value") : result.metric_name) + " " +
               format_number(it->value);
    const std::string bounds = describe_bounds(*it);
    if (!bounds.empty()) d.detail += " outside " + bounds;
    return d;
}

std::string describe_divergence(const Divergence& divergence) {
    std::string out = describe_location(divergence.layer, divergence.slot);
    if (!divergence.detail.empty()) out += ": " + divergence.detail;
    return out;
}

std::string describe_build(const BuildInfo& build) {
    if (build.version.empty()) return {};
    std::string out = "pv " + build.version + ", commit " + build.commit + ", " + build.build_type + ", " + build.compiler;
    out += ", CPU";
    if (build.cpu_features.empty()) out += " baseline";
    for (const auto& f : build.cpu_features) out += " " + f;
    if (!build.cuda_built) {
        out += ", CUDA not built";
    } else if (build.cuda_devices.empty()) {
        if (build.cuda_module.empty()) {
            out += ", CUDA module not found";
        } else if (!build.cuda_loaded && !build.cuda_problem.empty()) {
            out += ", CUDA module not loaded: " + build.cuda_problem;
        } else if (!build.cuda_loaded) {
            out += ", CUDA module not loaded (no cuda path ran)";
        } else {
            out += ", CUDA module loaded, no device";
        }
    } else {
        out += ", CUDA:";
        for (std::size_t i = 0; i < build.cuda_devices.size(); ++i) out += (i == 0 ? " " : "; ") + build.cuda_devices[i];
    }
    return out;
}

std::size_t count_failing_rows(const TestResult& result) {
    return static_cast<std::size_t>(std::count_if(result.per_layer.begin(), result.per_layer.end(),
                                                  [](const LayerMetric& r) { return !r.pass; }));
}

}  // namespace parity::reports
