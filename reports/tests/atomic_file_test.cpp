#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "reports/atomic_file.h"

namespace parity::reports {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("parity-atomic-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                "-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "report.junit.xml").string();
        std::ofstream(path_) << kOld;
    }
    void TearDown() override { fs::remove_all(dir_); }

    static std::string slurp(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::size_t files_in_dir() const {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
        return n;
    }

    static constexpr const char* kOld = "<testsuites name=\"previous run\"></testsuites>\n";
    fs::path dir_;
    std::string path_;
};

TEST_F(AtomicFile, ReplacesTheContentAndLeavesNoTemporaryFile) {
    write_file_atomically(path_, [](std::ostream& out) { out << "new content"; });
    EXPECT_EQ(slurp(path_), "new content");
    EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(AtomicFile, TheTargetKeepsItsOldContentWhileTheNewOneIsWritten) {
    write_file_atomically(path_, [&](std::ostream& out) {
        out << "<testsuites name=\"this run\">";
        out.flush();
        EXPECT_EQ(slurp(path_), kOld);
        out << "</testsuites>\n";
    });
    EXPECT_EQ(slurp(path_), "<testsuites name=\"this run\"></testsuites>\n");
}

TEST_F(AtomicFile, AFailingWriterLeavesTheOldFileWholeAndRemovesItsTemporaryFile) {
    EXPECT_THROW(write_file_atomically(path_,
                                       [](std::ostream& out) {
                                           out << "<testsuites name=\"this run\"><testcase";
                                           out.flush();
                                           throw std::runtime_error("interrupted");
                                       }),
                 std::runtime_error);
    EXPECT_EQ(slurp(path_), kOld);
    EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(AtomicFile, AProcessKilledWhileWritingLeavesTheOldFileWhole) {
    // The child writes half a report and is killed (as CI kills a job on timeout).
    EXPECT_EXIT(write_file_atomically(path_,
                                      [](std::ostream& out) {
                                          out << "<testsuites name=\"this run\"><testcase";
                                          out.flush();
                                          ::kill(::getpid(), SIGKILL);
                                      }),
                ::testing::KilledBySignal(SIGKILL), "");
    EXPECT_EQ(slurp(path_), kOld);
}

TEST_F(AtomicFile, AnUnwritableFolderIsAnErrorNamingTheFile) {
    const std::string missing = (dir_ / "no-such-folder" / "report.json").string();
    try {
        write_file_atomically(missing, [](std::ostream& out) { out << "x"; });
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace parity::reports
