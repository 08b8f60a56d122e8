#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "reports/write_reports.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
}  // namespace testing

namespace {

namespace fs = std::filesystem;

/// A fresh directory under the temp dir, removed when the test ends.
class WriteReports : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("parity-reports-" +
                std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                std::to_string(::getpid()));
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    static std::string slurp(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

    fs::path dir_;
};

TEST_F(WriteReports, WritesOnlyRequestedFormats) {
    const auto paths = write_reports(testing::sample_report(), (dir_ / "nested").string(), {"md", "json"});
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0], (dir_ / "nested" / "report.md").string());
    EXPECT_EQ(paths[1], (dir_ / "nested" / "report.json").string());
    EXPECT_TRUE(fs::exists(dir_ / "nested" / "report.md"));
    EXPECT_FALSE(fs::exists(dir_ / "nested" / "report.html"));
    EXPECT_FALSE(fs::exists(dir_ / "nested" / "report.junit.xml"));
    const auto doc = nlohmann::json::parse(slurp(dir_ / "nested" / "report.json"));
    EXPECT_EQ(doc.at("schema"), "parity-report/1");
}

TEST_F(WriteReports, AllFourFormatsOnceEach) {
    const auto paths =
        write_reports(testing::sample_report(), dir_.string(), {"json", "junit", "md", "html", "json"});
    ASSERT_EQ(paths.size(), 4u);
    const char* files[] = {"report.json", "report.junit.xml", "report.md", "report.html"};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(fs::path(paths[i]).filename(), files[i]);
        EXPECT_GT(fs::file_size(paths[i]), 100u) << paths[i];
    }
    EXPECT_EQ(slurp(dir_ / "report.junit.xml").rfind("<?xml", 0), 0u);
    EXPECT_EQ(slurp(dir_ / "report.html").rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(report_formats(), (std::vector<std::string>{"json", "junit", "md", "html"}));
}

TEST_F(WriteReports, UnknownFormatsThrowNamingThemAndWriteNothing) {
    try {
        write_reports(testing::sample_report(), dir_.string(), {"json", "pdf", "xml"});
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("'pdf'"), std::string::npos) << what;
        EXPECT_NE(what.find("'xml'"), std::string::npos) << what;
        EXPECT_EQ(what.find("'json'"), std::string::npos) << what;
    }
    EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(WriteReports, NoFormatsWritesNothing) {
    EXPECT_TRUE(write_reports(testing::sample_report(), dir_.string(), {}).empty());
    EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(WriteReports, UnwritableDirectoryThrowsNamingIt) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "file") << "x";  // a file where the directory should be
    const std::string target = (dir_ / "file" / "sub").string();
    try {
        write_reports(testing::sample_report(), target, {"json"});
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace parity::reports
