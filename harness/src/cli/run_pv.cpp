// Top-level dispatch of `pv <command> [options]`.

#include <exception>
#include <filesystem>
#include <new>
#include <ostream>
#include <stdexcept>

#include <boost/program_options/errors.hpp>

#include "engine/error.h"
#include "engine/runtime/memory_budget.h"
#include "harness/cli/command.h"
#include "harness/run/build_info.h"

namespace parity::cli {

namespace {

constexpr std::string_view kLowerMemory = "a smaller model, a shorter prompt, fewer generated tokens or --kv-type f16";

void print_usage(std::ostream& os) {
    os << "usage: pv <command> [options]\n\n"
          "Parity-testing harness for LLM inference (APR and GGUF, CPU and CUDA).\n\n"
          "commands:\n";
    for (const auto& c : commands()) {
        os << "  " << c.name << std::string(12 - std::min<std::size_t>(c.name.size(), 11), ' ') << c.summary << "\n";
    }
    os << "\n`pv <command> --help` describes a command's options; `pv --version` the build.\n";
}

}  // namespace

int run_pv(int argc, const char* const* argv, Io io) {
    if (argc < 2) {
        print_usage(io.err);
        return kExitUsage;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_usage(io.out);
        return kExitOk;
    }
    if (name == "--version" || name == "-V" || name == "version") {
        io.out << run::format_build_info(run::build_info(run::CudaProbe::Load));
        return kExitOk;
    }
    const Command* cmd = nullptr;
    for (const auto& c : commands()) {
        if (c.name == name) cmd = &c;
    }
    if (cmd == nullptr) {
        io.err << "pv: unknown command '" << name << "'\n\n";
        print_usage(io.err);
        return kExitUsage;
    }
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
        return cmd->run(args, io);
    } catch (const boost::program_options::error& e) {
        io.err << "pv " << name << ": " << e.what() << " (see `pv " << name << " --help`)\n";
        return kExitUsage;
    } catch (const FormatError& e) {
        io.err << "pv " << name << ": error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const IoError& e) {
        io.err << "pv " << name << ": error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const UsageError& e) {
        io.err << "pv " << name << ": error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::filesystem::filesystem_error& e) {
        io.err << "pv " << name << ": error: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::bad_alloc&) {
        io.err << "pv " << name << ": error: " << allocation_failure("pv " + name, kLowerMemory) << "\n";
        return kExitUsage;
    } catch (const std::length_error&) {
        io.err << "pv " << name << ": error: " << allocation_failure("pv " + name, kLowerMemory) << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        io.err << "pv " << name << ": internal error: " << e.what() << "\n";
        return kExitFail;
    }
}

}  // namespace parity::cli
