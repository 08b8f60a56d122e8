// libFuzzer target: any text is either a contract (with findings, which the validator then
// checks and prints) or a ContractParseError; never a crash, a hang, a leak or another exception.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    using namespace parity::contract;
    try {
        const Contract c = load_contract_text(text, "fuzz.yaml");
        for (const auto& f : validate_contract(c)) (void)format_finding(f, "fuzz.yaml");
        ValidateOptions with_paths;  // bindings checked against a suite's path names too
        with_paths.known_paths = std::vector<std::string>{"apr", "gguf"};
        (void)validate_contract(c, with_paths);
        (void)count_tests(c);
    } catch (const ContractParseError&) {
    }
    return 0;
}
