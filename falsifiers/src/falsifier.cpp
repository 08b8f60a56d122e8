#include "falsifiers/falsifier.h"

#include <mutex>
#include <stdexcept>

#include "common.h"

namespace parity::falsifiers {

std::vector<std::string> Falsifier::paths() const {
    std::vector<std::string> out;
    if (const ParamValue* p = params_.find("path")) out.push_back(p->text);
    if (const ParamValue* ps = params_.find("paths")) {
        for (const auto& n : ps->names) out.push_back(n);
    }
    if (const ParamValue* arbiter = params_.find("arbiter")) out.push_back(arbiter->text);
    return out;
}

const StageDump& Evidence::stages(const std::string& path, std::span<const std::int32_t>) {
    throw std::runtime_error("path " + path + ": this evidence holds no stage tensors");
}

ContractFindings Evidence::contract_findings() {
    throw std::runtime_error("this evidence has no contract to validate");
}

std::vector<float> Evidence::logits_once(const std::string& path, std::span<const std::int32_t> tokens) {
    return logits(path, tokens);
}

std::optional<std::int32_t> Evidence::bos_token(const std::string&) { return std::nullopt; }

void attach_builtin_falsifiers(Registry& registry) {
    registry.attach("sample_count_parity", detail::make_sample_count_parity);
    registry.attach("stat_ratio_band", detail::make_stat_ratio_band);
    registry.attach("slot_tolerance", detail::make_slot_tolerance);
    registry.attach("finite", detail::make_finite);
    registry.attach("logits_agreement", detail::make_logits_agreement);
    registry.attach("greedy_tokens_agree", detail::make_greedy_tokens_agree);
    registry.attach("prefill_vs_decode", detail::make_prefill_vs_decode);
    registry.attach("output_matches", detail::make_output_matches);
    registry.attach("reference_logits", detail::make_reference_logits);
    registry.attach("per_op", detail::make_per_op);
    registry.attach("contract_valid", detail::make_contract_valid);
    registry.attach("kl_divergence", detail::make_kl_divergence);
}

Registry& runtime_registry() {
    static std::once_flag once;
    Registry& r = Registry::builtin();
    std::call_once(once, [&] { attach_builtin_falsifiers(r); });
    return r;
}

std::shared_ptr<Falsifier> make_falsifier(const Registry& registry, const BoundParams& params) {
    const FalsifierFactory* f = registry.factory(params.falsifier());
    if (f == nullptr || !*f) {
        throw std::invalid_argument("falsifier `" + params.falsifier() + "` has no implementation attached");
    }
    return (*f)(params);
}

}  // namespace parity::falsifiers
