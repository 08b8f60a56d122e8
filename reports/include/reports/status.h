#pragma once
// The verdict of one falsification test, as every report writer spells it.

#include <optional>
#include <string_view>

namespace parity::reports {

enum class Status {
    Pass,     ///< the prediction held
    Fail,     ///< the prediction was falsified
    Skipped,  ///< could not run here (missing device or model); never a pass
    Unbound,  ///< the test has no `harness:` binding; never a pass
    Error,    ///< the test could not run (bad input, crash); counts as a failure
};

/// "PASS", "FAIL", "SKIPPED", "UNBOUND", "ERROR".
std::string_view to_string(Status s) noexcept;

/// The inverse of to_string (exact spelling), or nullopt.
std::optional<Status> parse_status(std::string_view text) noexcept;

/// True for the statuses that make a run exit non-zero (FAIL and ERROR).
constexpr bool is_failure(Status s) noexcept { return s == Status::Fail || s == Status::Error; }

}  // namespace parity::reports
