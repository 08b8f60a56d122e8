#pragma once
// A progress line for long work on a terminal: "LABEL: DETAIL, 12.3 s elapsed, ~4.1 s left".
// Drawn only when enabled (stderr is a terminal: for_terminal) and only once the work has run
// for `after_seconds` (2 s by default), so short commands and CI logs print nothing.

#include <chrono>
#include <ostream>
#include <string>

namespace parity::cli {

class ProgressLine {
public:
    ProgressLine(std::ostream& err, std::string label, bool enabled, double after_seconds = 2.0);
    /// Enabled when stderr is a terminal.
    static ProgressLine for_terminal(std::ostream& err, std::string label);
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;
    ProgressLine(ProgressLine&&) = default;
    /// Ends the line when one was drawn.
    ~ProgressLine();

    /// `fraction` of the work is done (clamped to [0, 1]); the time left is estimated from the
    /// elapsed time at that fraction. Redraws at most every 0.1 s.
    void update(double fraction, const std::string& detail);
    /// Ends the line (a newline) when one was drawn; later updates draw a new one.
    void finish();

private:
    using Clock = std::chrono::steady_clock;
    std::ostream* err_;
    std::string label_;
    bool enabled_;
    double after_seconds_;
    Clock::time_point start_;
    double last_draw_ = -1.0;
    bool drawn_ = false;
};

}  // namespace parity::cli
