#pragma once
// Runs the pv CLI in-process and captures its exit code, stdout and stderr.

#include <sstream>
#include <string>
#include <vector>

#include "harness/cli/command.h"

namespace parity::testing {

struct PvResult {
    int code = -1;
    std::string out;
    std::string err;
};

inline PvResult run_pv(std::vector<std::string> args) {
    args.insert(args.begin(), "pv");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    PvResult r;
    r.code = cli::run_pv(static_cast<int>(argv.size()), argv.data(), {out, err});
    r.out = out.str();
    r.err = err.str();
    return r;
}

}  // namespace parity::testing
