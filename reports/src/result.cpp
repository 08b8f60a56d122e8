#include "reports/result.h"

namespace parity::reports {

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
        }
    }
    return s;
}

int exit_code(const RunReport& report) noexcept {
    const Summary s = report.summary();
    if (s.failed > 0 || s.errors > 0) return 1;
    if (s.passed == 0) return 77;  // nothing evaluated: never reported as success
    return 0;
}

}  // namespace parity::reports
