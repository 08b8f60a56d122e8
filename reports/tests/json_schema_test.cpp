// The JSON Schema validator of the tests (tests/schema/json_schema.h) on documents that must
// fail, each with the exact message expected, and on schemas it must refuse.

#include <gtest/gtest.h>

#include <stdexcept>

#include "json_schema.h"

namespace parity::testing {
namespace {

using nlohmann::json;

const json kSchema = json::parse(R"({
  "type": "object",
  "required": ["name", "status", "items"],
  "properties": {
    "name": {"type": "string"},
    "status": {"enum": ["PASS", "FAIL"]},
    "count": {"type": "integer"},
    "value": {"$ref": "#/$defs/number"},
    "items": {"type": "array", "items": {"type": "object", "required": ["x"], "additionalProperties": false,
                                         "properties": {"x": {"type": ["integer", "null"]}}}},
    "extra": {"type": "object", "additionalProperties": {"type": "boolean"}}
  },
  "$defs": {"number": {"anyOf": [{"type": "number"}, {"enum": ["NaN"]}]}}
})");

std::vector<std::string> check(const std::string& doc) { return JsonSchema(kSchema).validate(json::parse(doc)); }

TEST(JsonSchema, AcceptsAValidDocument) {
    EXPECT_EQ(check(R"({"name": "a", "status": "PASS", "items": [{"x": 1}, {"x": null}], "count": 2.0,
                        "value": "NaN", "extra": {"k": true}, "unknown": [1]})"),
              std::vector<std::string>{});
}

TEST(JsonSchema, WrongType) {
    EXPECT_EQ(check(R"({"name": 7, "status": "PASS", "items": []})"),
              std::vector<std::string>{R"($.name: 7 is not of type ["string"])"});
}

TEST(JsonSchema, IntegerRefusesAFraction) {
    EXPECT_EQ(check(R"({"name": "a", "status": "PASS", "items": [], "count": 1.5})"),
              std::vector<std::string>{R"($.count: 1.5 is not of type ["integer"])"});
}

TEST(JsonSchema, MissingRequiredKey) {
    EXPECT_EQ(check(R"({"name": "a", "items": []})"),
              std::vector<std::string>{R"($: missing required key "status")"});
}

TEST(JsonSchema, ValueOutsideEnum) {
    EXPECT_EQ(check(R"({"name": "a", "status": "MAYBE", "items": []})"),
              std::vector<std::string>{R"($.status: "MAYBE" is not one of ["PASS","FAIL"])"});
}

TEST(JsonSchema, ItemsAndAdditionalPropertiesFalse) {
    EXPECT_EQ(check(R"({"name": "a", "status": "FAIL", "items": [{"x": 1}, {"y": 2}, {"x": "s"}]})"),
              (std::vector<std::string>{R"($.items[1]: missing required key "x")", R"($.items[1].y: key not allowed here)",
                                        R"($.items[2].x: "s" is not of type ["integer","null"])"}));
}

TEST(JsonSchema, AdditionalPropertiesSchema) {
    EXPECT_EQ(check(R"({"name": "a", "status": "PASS", "items": [], "extra": {"k": 1}})"),
              std::vector<std::string>{R"($.extra.k: 1 is not of type ["boolean"])"});
}

TEST(JsonSchema, AnyOfThroughRef) {
    EXPECT_EQ(check(R"({"name": "a", "status": "PASS", "items": [], "value": "Infinity"})"),
              std::vector<std::string>{R"($.value: "Infinity" matches none of anyOf)"});
}

TEST(JsonSchema, RootMustMatchItsType) {
    EXPECT_EQ(check(R"([1, 2])"), std::vector<std::string>{R"($: [1,2] is not of type ["object"])"});
}

TEST(JsonSchema, RefusesUnsupportedKeywords) {
    try {
        JsonSchema(json::parse(R"({"properties": {"a": {"oneOf": [{"type": "string"}]}}})"));
        FAIL() << "oneOf was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "#/properties/a: unsupported keyword 'oneOf'");
    }
}

TEST(JsonSchema, RefusesUnknownTypesAndDanglingRefs) {
    EXPECT_THROW(JsonSchema(json::parse(R"({"type": "float"})")), std::invalid_argument);
    EXPECT_THROW(JsonSchema(json::parse(R"({"$ref": "#/$defs/missing"})")), std::invalid_argument);
    EXPECT_THROW(JsonSchema(json::parse(R"({"$ref": "other.json"})")), std::invalid_argument);
    EXPECT_THROW(JsonSchema(json::parse(R"({"required": []})")), std::invalid_argument);
    EXPECT_THROW(JsonSchema(json::parse(R"([1])")), std::invalid_argument);
}

}  // namespace
}  // namespace parity::testing
