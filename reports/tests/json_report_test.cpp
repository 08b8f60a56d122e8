#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "reports/json_report.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
std::string hostile_text();
}  // namespace testing

namespace {

using nlohmann::json;

json render(const RunReport& report) {
    std::ostringstream out;
    write_json(report, out);
    return json::parse(out.str());  // throws on anything that is not JSON
}

/// Reads a number back the way docs/reports.md says a consumer should.
double read_number(const json& v) {
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
        if (s == "Infinity") return std::numeric_limits<double>::infinity();
        if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
        ADD_FAILURE() << "unexpected number text " << s;
        return 0.0;
    }
    EXPECT_TRUE(v.is_number()) << v.dump();
    return v.get<double>();
}

/// Same bits, or both NaN.
void expect_same(double expected, double actual, const std::string& where) {
    if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << where;
        return;
    }
    EXPECT_EQ(std::memcmp(&expected, &actual, sizeof(double)), 0)
        << where << ": expected " << expected << ", read " << actual;
}

TEST(JsonReport, SchemaRunAndSummary) {
    const json doc = render(testing::sample_report());
    EXPECT_EQ(doc.at("schema"), "parity-report/1");
    EXPECT_EQ(doc.at("run").at("tool"), "pv");
    EXPECT_EQ(doc.at("run").at("tool_version"), "0.1.0");
    EXPECT_EQ(doc.at("run").at("started_at"), "2026-11-26T06:30:00Z");
    EXPECT_EQ(doc.at("run").at("seconds"), 12.5);
    EXPECT_EQ(doc.at("run").at("command"), "pv run contracts/ --suite ctest.cfg");
    const json& s = doc.at("summary");
    EXPECT_EQ(s.at("total"), 6);
    EXPECT_EQ(s.at("evaluated"), 3);
    EXPECT_EQ(s.at("passed"), 1);
    EXPECT_EQ(s.at("failed"), 2);
    EXPECT_EQ(s.at("errors"), 1);
    EXPECT_EQ(s.at("skipped"), 1);
    EXPECT_EQ(s.at("unbound"), 1);
    EXPECT_EQ(s.at("exit_code"), 1);
    ASSERT_EQ(doc.at("tests").size(), 6u);
    const char* statuses[] = {"PASS", "FAIL", "ERROR", "SKIPPED", "UNBOUND", "FAIL"};
    for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(doc.at("tests")[i].at("status"), statuses[i]);
}

TEST(JsonReport, BuildRecordsTheBinary) {
    const json doc = render(testing::sample_report());
    const json& b = doc.at("build");
    EXPECT_EQ(b.at("version"), "0.1.0");
    EXPECT_EQ(b.at("commit"), "a800b23");
    EXPECT_EQ(b.at("build_type"), "Release");
    EXPECT_EQ(b.at("compiler"), "GNU 12.2.0");
    EXPECT_EQ(b.at("cpu_features"), json::parse(R"(["AVX", "AVX2", "FMA", "F16C"])"));
    EXPECT_EQ(b.at("cuda").at("built"), true);
    EXPECT_EQ(b.at("cuda").at("devices"), json::parse(R"j(["NVIDIA H200 (sm_90)"])j"));
}

TEST(JsonReport, EveryFieldOfATest) {
    const RunReport report = testing::sample_report();
    const json t = render(report).at("tests")[1];
    const std::vector<std::string> keys = {
        "id",     "contract", "rule",    "prediction",  "if_fails",  "falsifier",     "paths", "labels",
        "status", "message",  "metrics", "metric_name", "per_layer", "first_failure", "repro", "seconds"};
    // Keys in the order of TestResult's fields (read with an order-keeping parser).
    std::ostringstream out;
    write_json(report, out);
    const auto ordered = nlohmann::ordered_json::parse(out.str()).at("tests")[1];
    std::vector<std::string> actual;
    for (const auto& item : ordered.items()) actual.push_back(item.key());
    EXPECT_EQ(actual, keys);
    EXPECT_EQ(t.at("id"), "FALSIFY-A-002");
    EXPECT_EQ(t.at("contract"), "contracts/a.yaml");
    EXPECT_EQ(t.at("rule"), "per-layer ffn_swiglu_inner std ratio stays in band");
    EXPECT_EQ(t.at("prediction"), "for every layer i, std(APR)/std(GGUF) in [0.5, 2.0]");
    EXPECT_EQ(t.at("if_fails"), "divergence localized to the FFN gate path");
    EXPECT_EQ(t.at("falsifier"), "stat_ratio_band");
    EXPECT_EQ(t.at("paths"), json({"apr", "gguf"}));
    EXPECT_EQ(t.at("labels"), json({"smoke", "cpu"}));
    EXPECT_EQ(t.at("message"), "3 of 28 layers outside [0.5, 2]");
    EXPECT_EQ(t.at("metric_name"), "std_dev ratio");
    EXPECT_EQ(t.at("metrics")[0], json({{"name", "max_ratio"}, {"value", 2.31}}));
    EXPECT_EQ(t.at("per_layer").size(), 29u);
    EXPECT_EQ(t.at("per_layer")[3], json({{"layer", 3},
                                          {"slot", "ffn_swiglu_inner"},
                                          {"value", 2.31},
                                          {"lo", 0.5},
                                          {"hi", 2.0},
                                          {"pass", false}}));
    EXPECT_EQ(t.at("per_layer")[5].at("value"), "NaN");
    EXPECT_EQ(t.at("per_layer")[7].at("value"), "Infinity");
    EXPECT_TRUE(t.at("per_layer")[9].at("lo").is_null());
    EXPECT_EQ(t.at("per_layer")[10].at("hi"), "Infinity");
    EXPECT_EQ(t.at("per_layer")[28].at("layer"), -1);
    EXPECT_TRUE(t.at("per_layer")[28].at("lo").is_null());
    EXPECT_TRUE(t.at("per_layer")[28].at("hi").is_null());
    EXPECT_EQ(
        t.at("first_failure"),
        json({{"layer", 3}, {"slot", "ffn_swiglu_inner"}, {"detail", "std ratio 2.31 outside [0.5, 2]"}}));
    EXPECT_EQ(t.at("repro"), "pv run contracts/a.yaml --only FALSIFY-A-002");
    EXPECT_EQ(t.at("seconds"), 0.5);

    const json pass = render(report).at("tests")[0];
    EXPECT_TRUE(pass.at("first_failure").is_null());
    const json unbound = render(report).at("tests")[4];
    EXPECT_EQ(unbound.at("falsifier"), "");
    EXPECT_EQ(unbound.at("per_layer"), json::array());
    EXPECT_EQ(unbound.at("metrics"), json::array());
}

TEST(JsonReport, NumbersRoundTripExactlyIncludingNonFinite) {
    const RunReport report = testing::sample_report();
    const json tests = render(report).at("tests");
    for (std::size_t i = 0; i < report.results.size(); ++i) {
        const TestResult& r = report.results[i];
        const json& t = tests[i];
        expect_same(r.seconds, read_number(t.at("seconds")), r.id + " seconds");
        ASSERT_EQ(t.at("metrics").size(), r.metrics.size());
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            expect_same(r.metrics[m].second, read_number(t.at("metrics")[m].at("value")),
                        "metric " + r.metrics[m].first);
        }
        ASSERT_EQ(t.at("per_layer").size(), r.per_layer.size());
        for (std::size_t k = 0; k < r.per_layer.size(); ++k) {
            const LayerMetric& row = r.per_layer[k];
            const json& j = t.at("per_layer")[k];
            const std::string where = r.id + " row " + std::to_string(k);
            EXPECT_EQ(j.at("layer").get<int>(), row.layer) << where;
            EXPECT_EQ(j.at("pass").get<bool>(), row.pass) << where;
            expect_same(row.value, read_number(j.at("value")), where);
            EXPECT_EQ(j.at("lo").is_null(), !row.lo.has_value()) << where;
            EXPECT_EQ(j.at("hi").is_null(), !row.hi.has_value()) << where;
            if (row.lo) expect_same(*row.lo, read_number(j.at("lo")), where + " lo");
            if (row.hi) expect_same(*row.hi, read_number(j.at("hi")), where + " hi");
        }
    }
    // The extreme values really were in the fixture.
    const json& m = tests[1].at("metrics");
    EXPECT_EQ(m[4].at("name"), "neg_zero");
    EXPECT_TRUE(std::signbit(m[4].at("value").get<double>()));
    EXPECT_EQ(m[2].at("value").get<double>(), 5e-324);
    EXPECT_EQ(m[5].at("value"), "NaN");
    EXPECT_EQ(m[6].at("value"), "Infinity");
    EXPECT_EQ(m[7].at("value"), "-Infinity");
    EXPECT_EQ(tests[5].at("seconds"), "NaN");
}

TEST(JsonReport, HostileTextIsValidUtf8AndKeepsControls) {
    const json t = render(testing::sample_report()).at("tests")[5];
    // Expected by hand: invalid sequences become U+FFFD (one per maximal subpart), everything
    // else (controls, NUL, U+FFFE, markup) survives as JSON escapes.
    std::string expected = "a<b>&c \"dq\" 'sq' ]]> x]]]]>y \x01\x08\x0b\x0c\x1f|t\tn\nr\r|";
    expected += std::string("nul:") + '\0' + ":";
    expected +=
        " ff:\xEF\xBF\xBD tr:\xEF\xBF\xBD sur:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
        "ovl:\xEF\xBF\xBD\xEF\xBF\xBD"
        " fffe:\xef\xbf\xbe";
    expected +=
        " emoji:\xf0\x9f\x98\x80 e-acute:\xc3\xa9 ```code``` *b* _u_ #h [l](x) <script>alert(1)</script> "
        "&amp;";
    EXPECT_EQ(t.at("message"), expected);
    EXPECT_EQ(t.at("rule"), expected);
    EXPECT_EQ(t.at("paths")[0], expected);
    EXPECT_EQ(t.at("metrics")[0].at("name"), expected);
    EXPECT_EQ(t.at("per_layer")[0].at("slot"), expected);
    EXPECT_EQ(t.at("repro"), "pv run --only '" + expected + "'");
}

TEST(JsonReport, EmptyRun) {
    RunReport report;
    const json doc = render(report);
    EXPECT_EQ(doc.at("tests"), json::array());
    EXPECT_EQ(doc.at("summary").at("total"), 0);
    EXPECT_EQ(doc.at("summary").at("exit_code"), 77);
}

}  // namespace
}  // namespace parity::reports
