#pragma once
// Shell completion scripts for `pv`, generated from the subcommands' own option descriptions
// (Command::options), so they list exactly what each command parses.
//
// Completed: the command names; each command's options; after an option that takes a value,
// its choices when its help starts with them ("cpu | cuda", "auto | always | never: ...", or
// after the first ": " as in "output format: gguf | apr"), the suite's path names after the
// options in suite_path_options() (read with `pv run --suite FILE --list-paths`, FILE being the
// --suite on the command line, else ./ctest.cfg), else file names; file names for the
// positional arguments.

#include <string>
#include <string_view>
#include <vector>

#include "harness/cli/command.h"

namespace parity::cli {

/// An option (command, long name) whose values are suite path names.
struct SuitePathOption {
    std::string_view command;
    std::string_view option;
    bool name_then_equals;  ///< the value continues after the name: `--path gguf=mode=...`
};

/// run --path (NAME=...) and validate --paths (NAME,...).
const std::vector<SuitePathOption>& suite_path_options();

/// The values an option accepts, read from its help text as described above; empty when the
/// help names none.
std::vector<std::string> option_choices(std::string_view help);

/// A bash script defining _pv and `complete -F _pv pv`.
std::string bash_completion(const std::vector<Command>& commands);

/// A zsh script (#compdef pv) defining _pv with _arguments per command.
std::string zsh_completion(const std::vector<Command>& commands);

}  // namespace parity::cli
