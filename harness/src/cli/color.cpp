#include "color.h"

#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include <boost/program_options/errors.hpp>

namespace parity::cli {

namespace {

bool set(const char* v) noexcept { return v != nullptr && *v != '\0'; }

std::string_view sgr(Paint colour) noexcept {
    switch (colour) {
        case Paint::Green: return "\033[32m";
        case Paint::Red: return "\033[31m";
        case Paint::BoldRed: return "\033[1;31m";
        case Paint::Yellow: return "\033[33m";
        case Paint::Dim: return "\033[2m";
        case Paint::Magenta: return "\033[35m";
    }
    return "";
}

}  // namespace

ColorMode parse_color_mode(std::string_view text) {
    if (text == "auto") return ColorMode::Auto;
    if (text == "always") return ColorMode::Always;
    if (text == "never") return ColorMode::Never;
    throw boost::program_options::error("--color: '" + std::string(text) + "' is not auto, always or never");
}

bool use_color(ColorMode mode, const Terminal& t) noexcept {
    switch (mode) {
        case ColorMode::Always: return true;
        case ColorMode::Never: return false;
        case ColorMode::Auto: break;
    }
    if (!t.stdout_is_terminal || set(t.no_color) || set(t.ci)) return false;
    return !(t.term != nullptr && std::string_view(t.term) == "dumb");
}

bool use_color(ColorMode mode, const std::ostream& out) {
    Terminal t;
    t.stdout_is_terminal = &out == &std::cout && ::isatty(STDOUT_FILENO) != 0;
    t.no_color = std::getenv("NO_COLOR");
    t.ci = std::getenv("CI");
    t.term = std::getenv("TERM");
    return use_color(mode, t);
}

std::string paint(std::string_view text, Paint colour, bool on) {
    if (!on) return std::string(text);
    std::string out(sgr(colour));
    out += text;
    out += "\033[0m";
    return out;
}

}  // namespace parity::cli
