// Memory errors reach a user as one line: a pass the machine cannot hold is refused before it
// allocates (pv exits 2), and an allocation that fails anyway (forced here by a replaced
// operator new) becomes the same kind of line, never std::bad_alloc's text.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "harness/cli/command.h"
#include "pv_runner.h"
#include "run_fixture.h"

#if defined(__SANITIZE_ADDRESS__)
#define PARITY_FAIL_PROBE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARITY_FAIL_PROBE 0
#endif
#endif
#ifndef PARITY_FAIL_PROBE
#define PARITY_FAIL_PROBE 1
#endif

namespace fail_probe {
/// While non-zero, every operator new of at least this many bytes throws std::bad_alloc.
std::atomic<std::size_t> threshold{0};
}  // namespace fail_probe

#if PARITY_FAIL_PROBE
#if defined(__GNUC__) && !defined(__clang__)
// malloc/free behind operator new/delete is the standard replacement; GCC's inliner cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    const std::size_t limit = fail_probe::threshold.load(std::memory_order_relaxed);
    if (limit != 0 && n >= limit) throw std::bad_alloc();
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace parity::testing {
namespace {

/// Forces allocations of `bytes` or more to fail while alive.
class FailLargeAllocations {
public:
    explicit FailLargeAllocations(std::size_t bytes) { fail_probe::threshold = bytes; }
    ~FailLargeAllocations() { fail_probe::threshold = 0; }
    FailLargeAllocations(const FailLargeAllocations&) = delete;
    FailLargeAllocations& operator=(const FailLargeAllocations&) = delete;
};

void expect_one_memory_line(const std::string& text) {
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), text.empty() || text.back() != '\n' ? 0 : 1) << text;
    EXPECT_NE(text.find("not enough memory"), std::string::npos) << text;
    EXPECT_NE(text.find("available; lower it with"), std::string::npos) << text;
    EXPECT_EQ(text.find("bad_alloc"), std::string::npos) << text;
    EXPECT_EQ(text.find("internal error"), std::string::npos) << text;
}

TEST(MemoryErrors, PvRefusesASessionTheMachineCannotHold) {
    // 2e9 tokens of KV cache: terabytes on any machine. Refused before anything is allocated.
    const PvResult r = run_pv({"generate", RunModels::get().gguf_f32.string(), "--tokens", "40,41", "--n",
                               "2000000000", "--threads", "1"});
    EXPECT_EQ(r.code, cli::kExitUsage);
    expect_one_memory_line(r.err);
    EXPECT_NE(r.err.find("KV cache of 2000000002 tokens"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("max_context"), std::string::npos) << r.err;
}

TEST(MemoryErrors, PvTurnsAFailedAllocationIntoOneLine) {
    if (!PARITY_FAIL_PROBE) GTEST_SKIP() << "operator new is AddressSanitizer's";
    // 100000 tokens of KV cache fit the machine (the estimate passes), but the probe fails the
    // first buffer of 8 MiB or more: the KV cache of a layer (100016 x 32 floats).
    PvResult r;
    {
        const FailLargeAllocations fail(8u << 20);
        r = run_pv({"generate", RunModels::get().gguf_f32.string(), "--tokens", "40,41", "--n", "100000", "--threads",
                    "1"});
    }
    EXPECT_EQ(r.code, cli::kExitUsage);
    expect_one_memory_line(r.err);
    EXPECT_NE(r.err.find("pv generate: an allocation failed"), std::string::npos) << r.err;
}

TEST(MemoryErrors, RunnerTurnsAFailedAllocationIntoOneLine) {
    if (!PARITY_FAIL_PROBE) GTEST_SKIP() << "operator new is AddressSanitizer's";
    TempDir tmp;
    const auto suite = tmp / "suite.cfg";
    write_text(suite, suite_text());
    const auto contract = tmp / "c.yaml";
    write_text(contract, contract_text({bound_test("T-FIN", "finite, paths: [apr, gguf]")}));
    run::RunRequest req;
    req.contracts = {contract.string()};
    req.suite_file = suite.string();
    const run::Plan plan = run::plan_run(req);
    run::PathCache cache(plan.suite);
    reports::RunReport report;
    {
        // The session's KV cache (256 positions x 32 floats per layer) is the first buffer of
        // 32 KiB the test makes.
        const FailLargeAllocations fail(32u << 10);
        report = run::execute(plan, cache, "pv run (test)");
    }
    ASSERT_EQ(report.results.size(), 1u);
    EXPECT_EQ(report.results[0].status, reports::Status::Error);
    expect_one_memory_line(report.results[0].message);
    EXPECT_NE(report.results[0].message.find("running paths apr, gguf"), std::string::npos)
        << report.results[0].message;
}

}  // namespace
}  // namespace parity::testing
