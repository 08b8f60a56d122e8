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
    /// A path did not produce the data the test needs (a stage dumped on one side only, a
    /// statistic an external dump tree lacks); never a pass. Makes the exit code 1 unless the
    /// suite allows it for the test (`allow_unmeasured`).
    Unmeasured,
};

/// "PASS", "FAIL", "SKIPPED", "UNBOUND", "ERROR", "UNMEASURED".
std::string_view to_string(Status s) noexcept;

/// The inverse of to_string (exact spelling), or nullopt.
std::optional<Status> parse_status(std::string_view text) noexcept;

/// True for the statuses that always make a run exit non-zero (FAIL and ERROR). UNMEASURED
/// does too unless allowed: see reports::exit_code.
constexpr bool is_failure(Status s) noexcept { return s == Status::Fail || s == Status::Error; }

}  // namespace parity::reports
