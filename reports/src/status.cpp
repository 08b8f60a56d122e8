#include "reports/status.h"

#include <array>
#include <utility>

namespace parity::reports {

namespace {
constexpr std::array<std::pair<Status, std::string_view>, 6> kNames{{
    {Status::Pass, "PASS"},
    {Status::Fail, "FAIL"},
    {Status::Skipped, "SKIPPED"},
    {Status::Unbound, "UNBOUND"},
    {Status::Error, "ERROR"},
    {Status::Unmeasured, "UNMEASURED"},
}};
}  // namespace

std::string_view to_string(Status s) noexcept {
    for (const auto& [status, name] : kNames) {
        if (status == s) return name;
    }
    return "?";
}

std::optional<Status> parse_status(std::string_view text) noexcept {
    for (const auto& [status, name] : kNames) {
        if (name == text) return status;
    }
    return std::nullopt;
}

}  // namespace parity::reports
