// `pv completion bash|zsh`: prints a shell completion script for every command and option,
// generated from the commands' own option descriptions (completion_script.h).

#include <ostream>

#include <boost/program_options.hpp>

#include "command_util.h"
#include "completion_script.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

po::options_description completion_options() {
    po::options_description opts(
        "pv completion SHELL\n\n"
        "Prints a completion script for SHELL (bash or zsh): commands, options, option values.\n"
        "bash: source <(pv completion bash)    zsh: source <(pv completion zsh), or save it as _pv in $fpath");
    opts.add_options()("help,h", "show this help");
    return opts;
}

int run_completion(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = completion_options();
    const auto parsed = parse_or_help(args, opts, {{"shell"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("shell")) throw po::error("missing SHELL (bash or zsh)");
    const std::string shell = vm["shell"].as<std::string>();
    if (shell == "bash") {
        io.out << bash_completion(commands());
    } else if (shell == "zsh") {
        io.out << zsh_completion(commands());
    } else {
        throw po::error("unknown shell '" + shell + "' (expected bash or zsh)");
    }
    return kExitOk;
}

}  // namespace

Command completion_command() {
    return {"completion", "print a shell completion script (bash or zsh)", run_completion,
            [] { return describe_options(completion_options()); }};
}

}  // namespace parity::cli
