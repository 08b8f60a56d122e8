#pragma once
// A validator for the subset of JSON Schema (draft 2020-12) that reports/schema/*.json use:
// type (a name or a list), enum, required, properties, additionalProperties (boolean or a
// schema), items (one schema), anyOf, and $ref to "#/$defs/NAME"; the annotations $schema, $id,
// title, description and $defs are read and otherwise ignored. A schema using any other keyword
// is rejected when loaded, so a schema can never be checked more loosely than it reads.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace parity::testing {

class JsonSchema {
public:
    /// Throws std::invalid_argument naming the place ("#/properties/run: unsupported keyword
    /// 'oneOf'") when the schema is not an object or uses what this validator does not support.
    explicit JsonSchema(nlohmann::json schema);

    /// Reads and checks the schema file; throws std::runtime_error naming the file on failure.
    static JsonSchema load(const std::filesystem::path& file);

    /// Every violation, one line each: "$.tests[0].status: \"MAYBE\" is not one of [...]".
    /// Empty when `doc` is valid.
    std::vector<std::string> validate(const nlohmann::json& doc) const;

private:
    void check_schema(const nlohmann::json& s, const std::string& where) const;
    const nlohmann::json& resolve(const std::string& ref, const std::string& where) const;
    void validate_at(const nlohmann::json& s, const nlohmann::json& v, const std::string& path,
                     std::vector<std::string>& errors) const;

    nlohmann::json root_;
};

}  // namespace parity::testing
