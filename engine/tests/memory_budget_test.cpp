// Memory checks before allocating: MemAvailable parsing, the one-line refusal, and sessions the
// machine (or the address-space limit) cannot hold refused before their KV cache is allocated.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/memory_budget.h"
#include "forward_test_util.h"

namespace parity {
namespace {

TEST(MemoryBudget, ParsesMemAvailable) {
    EXPECT_EQ(parse_mem_available("MemTotal:       24000000 kB\nMemFree: 1 kB\nMemAvailable:   22000000 kB\n"),
              22000000ull * 1024);
    EXPECT_FALSE(parse_mem_available("MemTotal: 1 kB\n"));
    EXPECT_FALSE(parse_mem_available("MemAvailable: kB\n"));
}

TEST(MemoryBudget, RefusalIsOneLineWithNeededAndAvailable) {
    try {
        require_memory("a thing", 3000, "a smaller thing", 1000);
        FAIL() << "no refusal";
    } catch (const MemoryError& e) {
        const std::string m = e.what();
        EXPECT_EQ(m.find('\n'), std::string::npos);
        EXPECT_NE(m.find("a thing needs 0.00 GiB (3000 bytes), 0.00 GiB (1000 bytes) available"), std::string::npos) << m;
        EXPECT_NE(m.find("lower it with a smaller thing"), std::string::npos) << m;
    }
    EXPECT_NO_THROW(require_memory("a thing", 1000, "x", 1000));
}

TEST(MemoryBudget, HugeContextIsRefusedBeforeAllocating) {
    const Model m = Model::load(testing::synth_model("qwen2", FileType::ALL_F32));
    for (MatmulPolicy p : {MatmulPolicy::Dequant, MatmulPolicy::Ggml}) {
        SessionOptions o;
        o.matmul = p;
        o.threads = 1;
        o.max_context = 1 << 30;  // terabytes of KV cache
        try {
            (void)create_session(m, o);
            FAIL() << "no refusal";
        } catch (const MemoryError& e) {
            const std::string msg = e.what();
            EXPECT_EQ(msg.find('\n'), std::string::npos);
            EXPECT_NE(msg.find("not enough memory: a cpu session of "), std::string::npos) << msg;
            EXPECT_NE(msg.find("KV cache of 1073741824 tokens"), std::string::npos) << msg;
            EXPECT_NE(msg.find("smaller max_context"), std::string::npos) << msg;
        }
    }
}

TEST(MemoryBudget, AddressSpaceLimitIsRespected) {
    // In a child under RLIMIT_AS = its size + 256 MiB, a session with 1 GiB of KV cache is
    // refused with MemoryError, not std::bad_alloc from the cache's allocation.
    const Model m = Model::load(testing::synth_model("qwen2", FileType::ALL_F32));
    const std::int64_t per_token = 2 * m.config().n_layers * m.kv_dim() * 4;
    SessionOptions o;
    o.threads = 1;
    o.max_context = static_cast<int>((std::int64_t{1} << 30) / per_token);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::ifstream statm("/proc/self/statm");
        unsigned long long pages = 0;
        statm >> pages;
        const rlimit lim{pages * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE)) + (256ull << 20),
                         RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
        try {
            (void)create_session(m, o);
        } catch (const MemoryError&) {
            _exit(0);
        } catch (const std::bad_alloc&) {
            _exit(2);
        } catch (...) {
            _exit(4);
        }
        _exit(1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: not refused, 2: std::bad_alloc, 3: setrlimit failed, 4: other error";
}

}  // namespace
}  // namespace parity
