// contract_valid: the contract a test is in passes the contract validator. The runner validates
// the file again from disk (Evidence::contract_findings; the validator lives in the harness,
// above this library); the test fails with the validator's messages when it reports an error,
// or a warning with `strict: true`. Binds upstream's "`pv validate CONTRACT` exits 0" tests.

#include <string>
#include <vector>

#include "common.h"

namespace parity::falsifiers::detail {

namespace {

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
    return out;
}

class ContractValid final : public Falsifier {
public:
    using Falsifier::Falsifier;

    reports::TestResult run(Evidence& ev) const override {
        reports::TestResult r = start_result(*this);
        const ContractFindings f = ev.contract_findings();
        const bool strict = params().at("strict").boolean;
        r.metrics = {{"errors", static_cast<double>(f.errors.size())},
                     {"warnings", static_cast<double>(f.warnings.size())}};
        r.notes = f.errors;
        r.notes.insert(r.notes.end(), f.warnings.begin(), f.warnings.end());
        std::vector<std::string> failing = f.errors;
        if (strict) failing.insert(failing.end(), f.warnings.begin(), f.warnings.end());
        if (!failing.empty()) {
            r.status = reports::Status::Fail;
            r.message = f.file + ": the validator reports " + std::to_string(f.errors.size()) + " error(s), " +
                        std::to_string(f.warnings.size()) + " warning(s)" + (strict ? " (strict)" : "") + ": " +
                        join(failing);
            return r;
        }
        r.message = f.file + " is valid: 0 errors, " + std::to_string(f.warnings.size()) + " warning(s)" +
                    (strict || f.warnings.empty() ? "" : " (warnings allowed)");
        return r;
    }
};

}  // namespace

std::shared_ptr<Falsifier> make_contract_valid(const BoundParams& p) { return std::make_shared<ContractValid>(p); }

}  // namespace parity::falsifiers::detail
