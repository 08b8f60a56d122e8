#include "command_util.h"

namespace po = boost::program_options;

namespace parity::cli {

po::variables_map parse_command_line(const std::vector<std::string>& args, const po::options_description& visible,
                                     const po::options_description& hidden,
                                     const po::positional_options_description& positional) {
    po::options_description all;
    all.add(visible).add(hidden);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    return vm;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {inspect_command(), synth_command()};
    return table;
}

}  // namespace parity::cli
