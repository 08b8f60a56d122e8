#pragma once
// The `pv` command line: a table of subcommands, each parsing its own options with
// Boost.Program_options. Exit codes follow DESIGN.md: 0 success, 1 a verdict failed,
// 2 bad usage or input, 77 everything skipped.

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace parity::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFail = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitSkipped = 77;

/// Streams a subcommand writes to (tests pass string streams).
struct Io {
    std::ostream& out;
    std::ostream& err;
};

/// One option of a subcommand, as its Boost.Program_options description declares it (for
/// shell completion).
struct OptionInfo {
    std::string name;        ///< long name without dashes: "report-dir"
    std::string short_name;  ///< one letter without the dash, or empty: "o"
    bool takes_value = false;
    std::string help;        ///< the description's first line
};

struct Command {
    std::string_view name;
    std::string_view summary;
    /// args excludes the program and the command name. Returns the exit code; throws
    /// parity errors or boost::program_options errors for bad input (mapped to exit 2).
    std::function<int(const std::vector<std::string>& args, Io io)> run;
    /// The options `run` parses, from the same description (never a separate list).
    std::function<std::vector<OptionInfo>()> options;
};

/// Every subcommand, in the order `pv --help` lists them.
const std::vector<Command>& commands();

/// The whole CLI: `argv` as main() received it. Never throws.
int run_pv(int argc, const char* const* argv, Io io);

}  // namespace parity::cli
