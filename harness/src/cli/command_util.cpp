#include "command_util.h"

#include <memory>

#include "progress_line.h"

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

std::optional<po::variables_map> parse_or_help(const std::vector<std::string>& args,
                                                const po::options_description& visible,
                                                std::initializer_list<Positional> positionals, std::ostream& out) {
    po::options_description hidden;
    po::positional_options_description pos;
    for (const Positional& p : positionals) {
        if (p.count < 0) {
            hidden.add_options()(p.name, po::value<std::vector<std::string>>());
        } else {
            hidden.add_options()(p.name, po::value<std::string>());
        }
        pos.add(p.name, p.count);
    }
    po::variables_map vm = parse_command_line(args, visible, hidden, pos);
    if (vm.count("help")) {
        out << visible << "\n";
        return std::nullopt;
    }
    return vm;
}

std::vector<OptionInfo> describe_options(const po::options_description& desc) {
    std::vector<OptionInfo> out;
    for (const auto& opt : desc.options()) {
        OptionInfo info;
        info.name = opt->long_name();
        // format_name() is "-o [ --output ]" with a short letter, else "--output".
        const std::string shown = opt->format_name();
        if (shown.size() > 1 && shown[0] == '-' && shown[1] != '-') info.short_name = shown.substr(1, shown.find(' ') - 1);
        info.takes_value = opt->semantic()->max_tokens() > 0;
        const std::string& help = opt->description();
        info.help = help.substr(0, help.find('\n'));
        out.push_back(std::move(info));
    }
    return out;
}

Progress progress_bar(std::ostream& err, const std::string& label) {
    auto line = std::make_shared<ProgressLine>(ProgressLine::for_terminal(err, label));
    return [line](std::size_t done, std::size_t total, std::uint64_t bytes) {
        line->update(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
                     std::to_string(done) + "/" + std::to_string(total) + " tensors, " +
                         std::to_string(bytes / (1024 * 1024)) + " MiB");
        if (done == total) line->finish();
    };
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {inspect_command(), synth_command(), convert_command(), tokenize_command(),
                                               validate_command(), run_command(), trace_command(),
                                               generate_command(), bench_command(), diff_command(),
                                               completion_command()};
    return table;
}

}  // namespace parity::cli
