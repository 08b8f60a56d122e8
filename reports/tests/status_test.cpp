#include <gtest/gtest.h>

#include "reports/status.h"

namespace parity::reports {
namespace {

TEST(Status, SpellingsRoundTrip) {
    for (Status s : {Status::Pass, Status::Fail, Status::Skipped, Status::Unbound, Status::Error}) {
        EXPECT_EQ(parse_status(to_string(s)), s);
    }
    EXPECT_EQ(to_string(Status::Unbound), "UNBOUND");
    EXPECT_EQ(parse_status("pass"), std::nullopt);  // spellings are exact
}

TEST(Status, OnlyFailAndErrorAreFailures) {
    EXPECT_TRUE(is_failure(Status::Fail));
    EXPECT_TRUE(is_failure(Status::Error));
    EXPECT_FALSE(is_failure(Status::Pass));
    EXPECT_FALSE(is_failure(Status::Skipped));
    EXPECT_FALSE(is_failure(Status::Unbound));
}

}  // namespace
}  // namespace parity::reports
