#pragma once
// `--color auto|always|never` for the commands that print verdicts (pv run, pv validate).
//
// auto: colour when stdout is a terminal, CI is unset, NO_COLOR is unset or empty and TERM is
// not "dumb". always / never: as said, whatever the environment (an explicit flag wins over
// NO_COLOR, as no-color.org allows). Colours are ANSI SGR sequences.

#include <iosfwd>
#include <string>
#include <string_view>

namespace parity::cli {

enum class ColorMode { Auto, Always, Never };

/// "auto", "always" or "never"; anything else throws boost::program_options::error.
ColorMode parse_color_mode(std::string_view text);

/// What the environment says, for ColorMode::Auto.
struct Terminal {
    bool stdout_is_terminal = false;
    const char* no_color = nullptr;  ///< $NO_COLOR (nullptr when unset)
    const char* ci = nullptr;        ///< $CI
    const char* term = nullptr;      ///< $TERM
};

/// The decision itself (pure, for tests).
bool use_color(ColorMode mode, const Terminal& terminal) noexcept;

/// The decision for output written to `out`: the terminal test applies only when `out` is
/// std::cout (a string stream is never a terminal); the variables come from the environment.
bool use_color(ColorMode mode, const std::ostream& out);

/// Verdict colours: PASS green, FAIL red, ERROR bold red, SKIPPED yellow, UNBOUND dim,
/// UNMEASURED magenta (neither a pass nor a plain failure).
enum class Paint { Green, Red, BoldRed, Yellow, Dim, Magenta };

/// `text` wrapped in the colour's SGR sequence and a reset when `on`; else `text` unchanged.
std::string paint(std::string_view text, Paint colour, bool on);

}  // namespace parity::cli
