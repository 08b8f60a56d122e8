#pragma once
// Loads a contract from YAML. Two kinds of failure are kept apart:
//  - the file cannot be read, or is not YAML at all: an exception (IoError, ContractParseError)
//    naming the file and line:column — nothing can be said about its contents; YAML beyond the
//    limits of harness/contract/yaml_limits.h (too deep, an alias bomb) is a ContractParseError;
//  - the YAML is fine but does not fit the schema (a list where a string belongs, a missing
//    `metadata`, an unknown key, an unknown obligation type): the contract is still returned,
//    with those problems as Findings in `load_findings` (rules SCHEMA-100..105), so that one
//    run reports all of them.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/contract/contract.h"

namespace parity::contract {

/// A YAML syntax error (or a document that is not one YAML document). what():
/// "FILE:LINE:COLUMN: CAUSE".
class ContractParseError : public std::runtime_error {
public:
    ContractParseError(std::string file, Mark mark, std::string cause);
    const std::string& file() const noexcept { return file_; }
    const Mark& mark() const noexcept { return mark_; }
    const std::string& cause() const noexcept { return cause_; }

private:
    std::string file_;
    Mark mark_;
    std::string cause_;
};

/// Parses `text` as the contract `file_name` (used in messages only).
Contract load_contract_text(std::string_view text, const std::string& file_name);

/// Reads and parses a contract file; throws parity::IoError when it cannot be read.
Contract load_contract_file(const std::filesystem::path& path);

}  // namespace parity::contract
