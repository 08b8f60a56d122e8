// The terminal progress line (progress_line.h).

#include "progress_line.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace parity::cli {

ProgressLine::ProgressLine(std::ostream& err, std::string label, bool enabled, double after_seconds)
    : err_(&err), label_(std::move(label)), enabled_(enabled), after_seconds_(after_seconds), start_(Clock::now()) {}

ProgressLine ProgressLine::for_terminal(std::ostream& err, std::string label) {
    return ProgressLine(err, std::move(label), ::isatty(STDERR_FILENO) != 0);
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(double fraction, const std::string& detail) {
    if (!enabled_) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    if (elapsed < after_seconds_) return;
    if (drawn_ && elapsed - last_draw_ < 0.1 && fraction < 1.0) return;
    fraction = std::clamp(fraction, 0.0, 1.0);
    char times[96];
    if (fraction > 0.0) {
        std::snprintf(times, sizeof times, ", %.1f s elapsed, ~%.1f s left", elapsed, elapsed * (1.0 - fraction) / fraction);
    } else {
        std::snprintf(times, sizeof times, ", %.1f s elapsed", elapsed);
    }
    // \033[K clears what a longer previous line left behind.
    *err_ << "\r" << label_ << ": " << detail << times << "\033[K" << std::flush;
    drawn_ = true;
    last_draw_ = elapsed;
}

void ProgressLine::finish() {
    if (!drawn_) return;
    *err_ << "\n" << std::flush;
    drawn_ = false;
}

}  // namespace parity::cli
