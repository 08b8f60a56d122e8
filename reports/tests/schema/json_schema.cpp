#include "json_schema.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace parity::testing {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 14> kKeywords = {
    "$schema", "$id", "title", "description", "$defs", "type", "enum",
    "required", "properties", "additionalProperties", "items", "anyOf", "$ref", "$comment"};

constexpr std::array<std::string_view, 7> kTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};

bool has_type(const json& v, std::string_view type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    if (type == "number") return v.is_number();
    // integer: any number with a zero fractional part (as the specification says).
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
}

std::string brief(const json& v) {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

JsonSchema::JsonSchema(json schema) : root_(std::move(schema)) { check_schema(root_, "#"); }

JsonSchema JsonSchema::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(file.string() + ": cannot open the schema");
    try {
        return JsonSchema(json::parse(in));
    } catch (const json::exception& e) {
        throw std::runtime_error(file.string() + ": not JSON: " + e.what());
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(file.string() + ": " + e.what());
    }
}

void JsonSchema::check_schema(const json& s, const std::string& where) const {
    if (!s.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
    for (const auto& [key, value] : s.items()) {
        if (std::find(kKeywords.begin(), kKeywords.end(), key) == kKeywords.end()) {
            throw std::invalid_argument(where + ": unsupported keyword '" + key + "'");
        }
        const std::string at = where + "/" + key;
        if (key == "type") {
            const json names = value.is_array() ? value : json::array({value});
            for (const auto& n : names) {
                if (!n.is_string() || std::find(kTypes.begin(), kTypes.end(), n.get<std::string>()) == kTypes.end()) {
                    throw std::invalid_argument(at + ": unknown type " + brief(n));
                }
            }
        } else if (key == "enum" || key == "required" || key == "anyOf") {
            if (!value.is_array() || value.empty()) throw std::invalid_argument(at + ": must be a non-empty array");
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (key == "required" && !value[i].is_string()) throw std::invalid_argument(at + ": names must be strings");
                if (key == "anyOf") check_schema(value[i], at + "/" + std::to_string(i));
            }
        } else if (key == "properties" || key == "$defs") {
            if (!value.is_object()) throw std::invalid_argument(at + ": must be an object");
            for (const auto& [name, sub] : value.items()) check_schema(sub, at + "/" + name);
        } else if (key == "additionalProperties") {
            if (!value.is_boolean()) check_schema(value, at);
        } else if (key == "items") {
            check_schema(value, at);
        } else if (key == "$ref") {
            if (!value.is_string()) throw std::invalid_argument(at + ": must be a string");
            resolve(value.get<std::string>(), at);
        }
    }
}

const json& JsonSchema::resolve(const std::string& ref, const std::string& where) const {
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0) throw std::invalid_argument(where + ": only \"#/$defs/NAME\" references are supported");
    const std::string name = ref.substr(prefix.size());
    if (!root_.contains("$defs") || !root_["$defs"].contains(name)) {
        throw std::invalid_argument(where + ": \"" + ref + "\" names no definition");
    }
    return root_["$defs"][name];
}

std::vector<std::string> JsonSchema::validate(const json& doc) const {
    std::vector<std::string> errors;
    validate_at(root_, doc, "$", errors);
    return errors;
}

void JsonSchema::validate_at(const json& s, const json& v, const std::string& path,
                             std::vector<std::string>& errors) const {
    if (s.contains("$ref")) validate_at(resolve(s["$ref"].get<std::string>(), path), v, path, errors);
    if (s.contains("type")) {
        const json names = s["type"].is_array() ? s["type"] : json::array({s["type"]});
        const bool ok = std::any_of(names.begin(), names.end(), [&](const json& n) { return has_type(v, n.get<std::string>()); });
        if (!ok) {
            errors.push_back(path + ": " + brief(v) + " is not of type " + names.dump());
            return;  // the keywords below would only repeat the mismatch
        }
    }
    if (s.contains("enum")) {
        const json& values = s["enum"];
        if (std::find(values.begin(), values.end(), v) == values.end()) {
            errors.push_back(path + ": " + brief(v) + " is not one of " + values.dump());
        }
    }
    if (s.contains("anyOf")) {
        bool any = false;
        for (const auto& alt : s["anyOf"]) {
            std::vector<std::string> sub;
            validate_at(alt, v, path, sub);
            any = any || sub.empty();
        }
        if (!any) errors.push_back(path + ": " + brief(v) + " matches none of anyOf");
    }
    if (v.is_object()) {
        if (s.contains("required")) {
            for (const auto& name : s["required"]) {
                if (!v.contains(name.get<std::string>())) errors.push_back(path + ": missing required key \"" + name.get<std::string>() + "\"");
            }
        }
        for (const auto& [key, value] : v.items()) {
            const std::string at = path + "." + key;
            if (s.contains("properties") && s["properties"].contains(key)) {
                validate_at(s["properties"][key], value, at, errors);
            } else if (s.contains("additionalProperties")) {
                const json& extra = s["additionalProperties"];
                if (extra.is_boolean()) {
                    if (!extra.get<bool>()) errors.push_back(at + ": key not allowed here");
                } else {
                    validate_at(extra, value, at, errors);
                }
            }
        }
    }
    if (v.is_array() && s.contains("items")) {
        for (std::size_t i = 0; i < v.size(); ++i) validate_at(s["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
    }
}

}  // namespace parity::testing
