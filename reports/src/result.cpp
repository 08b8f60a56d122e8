#include "reports/result.h"

namespace parity::reports {

std::string describe_summary(const Summary& s) {
    std::string out = std::to_string(s.total) + " tests, " + std::to_string(s.evaluated()) +
                      " evaluated: " + std::to_string(s.passed) + " passed, " + std::to_string(s.failed) + " failed, " +
                      std::to_string(s.errors) + " errors, " + std::to_string(s.skipped) + " skipped, " +
                      std::to_string(s.unbound) + " unbound, " + std::to_string(s.unmeasured) + " unmeasured";
    if (s.unmeasured_allowed > 0) out += " (" + std::to_string(s.unmeasured_allowed) + " allowed)";
    return out;
}

Summary RunReport::summary() const {
    Summary s;
    s.total = results.size();
    for (const auto& r : results) {
        switch (r.status) {
            case Status::Pass: ++s.passed; break;
            case Status::Fail: ++s.failed; break;
            case Status::Error: ++s.errors; break;
            case Status::Skipped: ++s.skipped; break;
            case Status::Unbound: ++s.unbound; break;
            case Status::Unmeasured:
                ++s.unmeasured;
                if (r.allow_unmeasured) ++s.unmeasured_allowed;
                break;
        }
    }
    return s;
}

int exit_code(const RunReport& report) noexcept {
    const Summary s = report.summary();
    if (s.failed > 0 || s.errors > 0 || s.unmeasured > s.unmeasured_allowed) return 1;
    if (s.passed == 0) return 77;  // nothing evaluated: never reported as success
    return 0;
}

}  // namespace parity::reports
