// The CUDA toolchain works end to end: a kernel dequantizes Q8_0 blocks exactly as the CPU
// does. Without a device (or without CUDA in the build) the test exits 77 (skipped).

#include <cstdlib>
#include <random>

#include <gtest/gtest.h>

#include "engine/runtime/cuda_device.h"
#include "engine/quant/quant.h"

namespace parity {
namespace {

TEST(CudaSmoke, DequantizeQ8_0MatchesCpu) {
    if (cuda::device_count() == 0) {
        std::fprintf(stderr, "SKIPPED: no CUDA device (built with CUDA: %s)\n", cuda::built_with_cuda() ? "yes" : "no");
        std::exit(77);  // CTest's SKIP_RETURN_CODE: reported as skipped, never as passed
    }
    std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
    std::normal_distribution<float> dist(0.0f, 3.0f);
    const std::size_t n = 32 * 1000;
    std::vector<float> src(n);
    for (auto& x : src) x = dist(rng);
    std::vector<std::byte> blocks(row_size(GgmlType::Q8_0, static_cast<std::int64_t>(n)));
    quantize_row(GgmlType::Q8_0, src, blocks);

    std::vector<float> cpu(n), gpu(n, std::numeric_limits<float>::quiet_NaN());  // poisoned
    dequantize_row(GgmlType::Q8_0, blocks, cpu);
    cuda::dequantize_q8_0(blocks, gpu);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(cpu[i], gpu[i]) << "value " << i << " on " << cuda::device_name(0);
}

TEST(CudaSmoke, WithoutCudaTheErrorSaysSo) {
    if (cuda::built_with_cuda()) GTEST_SKIP() << "this build has CUDA";
    std::vector<std::byte> blocks(34);
    std::vector<float> out(32);
    try {
        cuda::dequantize_q8_0(blocks, out);
        FAIL() << "expected an error";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("not built with CUDA"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace parity
