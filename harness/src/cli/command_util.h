#pragma once
// Helpers shared by the subcommands' option parsing.

#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "engine/progress.h"
#include "harness/cli/command.h"

namespace parity::cli {

/// Parses `args` with the visible and hidden options and the positional mapping; unknown
/// options and extra positionals are errors (boost::program_options::error).
boost::program_options::variables_map parse_command_line(
    const std::vector<std::string>& args, const boost::program_options::options_description& visible,
    const boost::program_options::options_description& hidden,
    const boost::program_options::positional_options_description& positional);

/// The options of `desc` (long name, short letter, whether it takes a value, help's first line).
std::vector<OptionInfo> describe_options(const boost::program_options::options_description& desc);

/// A progress line on `err` for a file operation (tensors done, MiB written, elapsed, time left),
/// drawn only on a terminal after 2 s (progress_line.h).
Progress progress_bar(std::ostream& err, const std::string& label);

/// A positional argument: its option name, and how many words it takes (1, or -1 for all
/// the remaining ones, collected as a vector<string>).
struct Positional {
    const char* name;
    int count = 1;
};

/// Parses `args` with the visible options and the positionals (hidden from --help). With
/// --help, prints `visible` to `out` and returns nullopt (the command then exits 0).
std::optional<boost::program_options::variables_map> parse_or_help(
    const std::vector<std::string>& args, const boost::program_options::options_description& visible,
    std::initializer_list<Positional> positionals, std::ostream& out);

// One factory per subcommand (each in its own cmd_<name>.cpp).
Command inspect_command();
Command synth_command();
Command convert_command();
Command tokenize_command();
Command validate_command();
Command run_command();
Command trace_command();
Command generate_command();
Command bench_command();
Command diff_command();
Command completion_command();

}  // namespace parity::cli
