#include <gtest/gtest.h>

#include "pv_runner.h"

namespace parity {
namespace {

using testing::run_pv;

TEST(PvCli, HelpListsCommandsOnStdout) {
    const auto r = run_pv({"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("usage: pv <command>"), std::string::npos);
    EXPECT_NE(r.out.find("inspect"), std::string::npos);
    EXPECT_TRUE(r.err.empty());
}

TEST(PvCli, NoCommandIsUsageErrorOnStderr) {
    const auto r = run_pv({});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("usage: pv"), std::string::npos);
    EXPECT_TRUE(r.out.empty());
}

TEST(PvCli, UnknownCommandIsUsageErrorOnStderr) {
    const auto r = run_pv({"frobnicate"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
    EXPECT_NE(r.err.find("usage: pv"), std::string::npos);
    EXPECT_TRUE(r.out.empty());
}

TEST(PvCli, CommandHelpDescribesOptions) {
    const auto r = run_pv({"inspect", "--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("--json"), std::string::npos);
    EXPECT_NE(r.out.find("--dequant"), std::string::npos);
}

TEST(PvCli, UnknownOptionIsUsageError) {
    const auto r = run_pv({"inspect", "--frob", "x.gguf"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("frob"), std::string::npos);
}

}  // namespace
}  // namespace parity
