#include <gtest/gtest.h>

#include "reports/status.h"

namespace parity::reports {
namespace {

TEST(Status, SpellingsRoundTrip) {
    for (Status s : {Status::Pass, Status::Fail, Status::Skipped, Status::Unbound, Status::Error, Status::Unmeasured}) {
        EXPECT_EQ(parse_status(to_string(s)), s);
    }
    EXPECT_EQ(to_string(Status::Unbound), "UNBOUND");
    EXPECT_EQ(to_string(Status::Unmeasured), "UNMEASURED");
    EXPECT_EQ(parse_status("UNMEASURED"), Status::Unmeasured);
    EXPECT_EQ(parse_status("pass"), std::nullopt);  // spellings are exact
}

TEST(Status, OnlyFailAndErrorAreFailures) {
    EXPECT_TRUE(is_failure(Status::Fail));
    EXPECT_TRUE(is_failure(Status::Error));
    EXPECT_FALSE(is_failure(Status::Pass));
    EXPECT_FALSE(is_failure(Status::Skipped));
    EXPECT_FALSE(is_failure(Status::Unbound));
    EXPECT_FALSE(is_failure(Status::Unmeasured));  // fails a run unless allowed: see exit_code
}

}  // namespace
}  // namespace parity::reports
