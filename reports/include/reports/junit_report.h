#pragma once
// JUnit XML report, the shape CI systems (GitLab, Jenkins, GitHub test reporters) read:
//
//   <testsuites name="pv" tests= failures= errors= skipped= unmeasured= time=>
//     <testsuite name=CONTRACT tests= failures= errors= skipped= unmeasured= time= timestamp=>  one per contract
//       <testcase classname=CONTRACT_AS_DOTTED_NAME name=TEST_ID time=SECONDS>    one per test
//         PASS:    nothing inside
//         FAIL:    <failure message="layer 3, slot ffn_out: ...">details + repro</failure>
//         ERROR:   <error message="...">details + repro</error>
//         SKIPPED: <skipped message="skipped: ..."/>
//         UNBOUND: <skipped message="unbound: no harness binding"/>   (never a pass)
//         UNMEASURED: <failure type="UNMEASURED" message="unmeasured: ...">details + repro</failure>;
//                  allowed by the suite: <skipped type="UNMEASURED" message="unmeasured: ... (allowed by the suite)"/>
//         `failures` counts FAIL and unallowed UNMEASURED, `skipped` SKIPPED, UNBOUND and allowed
//         UNMEASURED; `unmeasured` counts UNMEASURED apart.
//         any:     <system-out>repro: ...</system-out> when the test has a repro line
//
// All text is XML-escaped; characters XML 1.0 forbids are dropped and invalid UTF-8 becomes
// U+FFFD, so any id or message yields a well-formed document. No CDATA is used.

#include <ostream>
#include <string>
#include <string_view>

#include "reports/result.h"

namespace parity::reports {

void write_junit(const RunReport& report, std::ostream& out);

/// The testcase classname for a contract path: "./contracts/apr-gguf.yaml" ->
/// "contracts.apr-gguf" (leading "./" and "../" dropped, ".yaml"/".yml" dropped, path
/// separators become dots, as Jenkins reads classnames as package.Class).
std::string junit_classname(std::string_view contract);

}  // namespace parity::reports
