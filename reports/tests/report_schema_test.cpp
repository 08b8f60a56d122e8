// report.json against its JSON Schema (reports/schema/parity-report-1.json): every report the
// writer makes validates; reports broken in the ways a reader would trip on do not; and the
// schema names every key the writer emits (it allows unknown keys, so nothing else would tell).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest-spi.h>

#include "json_schema.h"
#include "reports/json_report.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
RunReport large_report(int tests, int layers);
}  // namespace testing

namespace {

using nlohmann::json;
using parity::testing::JsonSchema;

json render(const RunReport& report) {
    std::ostringstream out;
    write_json(report, out);
    return json::parse(out.str());
}

/// The sample report with the optional keys too: per-layer details and notes (per_op writes them),
/// and an UNMEASURED test (allow_unmeasured).
RunReport full_report() {
    RunReport r = testing::sample_report();
    r.results.at(0).per_layer.at(0).details = {{"max_abs", 0.5}, {"worst_position", 3.0}, {"positions", 7.0}};
    r.results.at(0).notes = {"not compared: attn_out_proj (only in A)"};
    TestResult unmeasured = r.results.at(3);
    unmeasured.id = "FALSIFY-B-003";
    unmeasured.status = Status::Unmeasured;
    unmeasured.allow_unmeasured = true;
    r.results.push_back(unmeasured);
    return r;
}

const JsonSchema& schema() {
    static const JsonSchema s = JsonSchema::load(PARITY_REPORT_SCHEMA);
    return s;
}

json schema_json() {
    std::ifstream in(PARITY_REPORT_SCHEMA);
    return json::parse(in);
}

TEST(ReportSchema, EveryWrittenReportValidates) {
    EXPECT_EQ(schema().validate(render(full_report())), std::vector<std::string>{});
    EXPECT_EQ(schema().validate(render(testing::large_report(12, 40))), std::vector<std::string>{});
    EXPECT_EQ(schema().validate(render(RunReport{})), std::vector<std::string>{});  // no tests, empty texts
}

TEST(ReportSchema, BrokenReportsFail) {
    const json good = render(full_report());
    json doc = good;
    doc.erase("build");
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{R"($: missing required key "build")"});
    doc = good;
    doc["tests"][0]["status"] = "MAYBE";
    EXPECT_EQ(schema().validate(doc),
              std::vector<std::string>{R"($.tests[0].status: "MAYBE" is not one of ["PASS","FAIL","ERROR","SKIPPED","UNBOUND","UNMEASURED"])"});
    doc = good;
    doc["summary"]["exit_code"] = 3;
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{R"($.summary.exit_code: 3 is not one of [0,1,77])"});
    doc = good;
    doc["tests"][1]["per_layer"][0]["lo"] = "low";
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{R"($.tests[1].per_layer[0].lo: "low" matches none of anyOf)"});
    doc = good;
    doc["build"]["cuda"]["devices"] = "none";
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{R"($.build.cuda.devices: "none" is not of type ["array"])"});
    doc = good;
    doc["schema"] = "parity-report/2";
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{R"($.schema: "parity-report/2" is not one of ["parity-report/1"])"});
}

/// Every object key of `doc` is named by a `properties` (or an additionalProperties schema) of
/// the schema at the same place; `path` says where, for the failure message.
void expect_documented(const json& root, json s, const json& doc, const std::string& path) {
    if (s.contains("$ref")) s = root["$defs"][s["$ref"].get<std::string>().substr(8)];
    if (s.contains("anyOf")) {  // the alternative of the value's container type, if any
        json chosen = s;
        for (const auto& alt : s["anyOf"]) {
            const json a = alt.contains("$ref") ? root["$defs"][alt["$ref"].get<std::string>().substr(8)] : alt;
            if (a.value("type", "") == (doc.is_object() ? "object" : doc.is_array() ? "array" : "")) chosen = a;
        }
        s = chosen;
    }
    if (doc.is_object()) {
        for (const auto& [key, value] : doc.items()) {
            if (s.contains("properties") && s["properties"].contains(key)) {
                expect_documented(root, s["properties"][key], value, path + "." + key);
            } else if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
                expect_documented(root, s["additionalProperties"], value, path + "." + key);
            } else {
                ADD_FAILURE() << path << "." << key << " is written but not in the schema";
            }
        }
    } else if (doc.is_array() && s.contains("items")) {
        for (const auto& v : doc) expect_documented(root, s["items"], v, path + "[]");
    }
}

TEST(ReportSchema, NamesEveryKeyTheWriterEmits) {
    const json root = schema_json();
    expect_documented(root, root, render(full_report()), "$");
}

TEST(ReportSchema, KeysNotInTheSchemaAreNoticed) {
    json doc = render(full_report());
    doc["run"]["host"] = "ci-7";
    const json root = schema_json();
    EXPECT_NONFATAL_FAILURE(expect_documented(root, root, doc, "$"), "$.run.host is written but not in the schema");
    EXPECT_EQ(schema().validate(doc), std::vector<std::string>{});  // readers must accept added keys
}

}  // namespace
}  // namespace parity::reports
