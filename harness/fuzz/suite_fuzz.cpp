// libFuzzer target: any text is either a suite config or a SuiteError, and its first line is
// either a valid `--path` option or a SuiteError; never a crash, a hang, a leak or another
// exception.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/run/suite.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    using namespace parity::run;
    SuiteConfig suite;
    try {
        suite = parse_suite(text, "fuzz.cfg", "/fuzz");
        for (const auto& p : suite.paths) (void)describe(p);
    } catch (const SuiteError&) {
    }
    try {
        apply_path_option(suite, text.substr(0, text.find('\n')));
    } catch (const SuiteError&) {
    }
    return 0;
}
