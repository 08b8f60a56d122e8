// Bit-exactness against llama.cpp's quant-zoo fixture (fixtures/llamacpp/quant/quant-zoo.md):
// for each type T, quantize_row(src.T) must reproduce ggml's bytes q.T, and
// dequantize_row(q.T) must reproduce ggml's floats deq.T bit for bit (sign of zero included).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/quant/ggml_type.h"
#include "engine/format/gguf.h"
#include "engine/quant/quant.h"
#include "test_support.h"

namespace parity {
namespace {

constexpr const char* kZoo = "llamacpp/quant/quant-zoo.gguf";
constexpr std::int64_t kCols = 256;
constexpr std::int64_t kRows = 16;

struct ZooType {
    const char* name;  // as in the tensor names: "Q4_K"
    GgmlType type;
    std::uint32_t ggml_id;  // ggml's enum value, as stored in the GGUF
};

const ZooType kZooTypes[] = {
    {"F16", GgmlType::F16, 1},       {"BF16", GgmlType::BF16, 30},     {"Q4_0", GgmlType::Q4_0, 2},
    {"Q4_1", GgmlType::Q4_1, 3},     {"Q5_0", GgmlType::Q5_0, 6},      {"Q5_1", GgmlType::Q5_1, 7},
    {"Q8_0", GgmlType::Q8_0, 8},     {"Q2_K", GgmlType::Q2_K, 10},     {"Q3_K", GgmlType::Q3_K, 11},
    {"Q4_K", GgmlType::Q4_K, 12},    {"Q5_K", GgmlType::Q5_K, 13},     {"Q6_K", GgmlType::Q6_K, 14},
    {"Q8_K", GgmlType::Q8_K, 15},    {"IQ4_NL", GgmlType::IQ4_NL, 20}, {"IQ4_XS", GgmlType::IQ4_XS, 23},
    {"Q8_1", GgmlType::Q8_1, 9},
};

// Keeps gtest's parameter printout (and so the CTest test names) readable.
void PrintTo(const ZooType& t, std::ostream* os) { *os << t.name; }

std::vector<float> read_f32(const gguf::File& f, const gguf::TensorInfo& t) {
    EXPECT_EQ(t.type, GgmlType::F32) << t.name;
    const auto bytes = f.tensor_data(t);
    std::vector<float> v(bytes.size() / sizeof(float));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
    return v;
}

std::string hex32(float v) {
    std::ostringstream os;
    os << "0x" << std::hex << std::setw(8) << std::setfill('0') << std::bit_cast<std::uint32_t>(v);
    return os.str();
}

void expect_shape(const gguf::TensorInfo& t, GgmlType type) {
    EXPECT_EQ(t.type, type) << t.name;
    EXPECT_EQ(t.ne, (std::vector<std::int64_t>{kCols, kRows})) << t.name;
}

class QuantZooTest : public ::testing::TestWithParam<ZooType> {};

TEST_P(QuantZooTest, TensorsHaveExpectedTypeAndShape) {
    PARITY_REQUIRE_FIXTURE(path, kZoo);
    const auto& zt = GetParam();
    const auto f = gguf::File::open(path.string());
    EXPECT_EQ(static_cast<std::uint32_t>(zt.type), zt.ggml_id);
    expect_shape(f.tensor(std::string("src.") + zt.name), GgmlType::F32);
    expect_shape(f.tensor(std::string("q.") + zt.name), zt.type);
    expect_shape(f.tensor(std::string("deq.") + zt.name), GgmlType::F32);
    EXPECT_EQ(f.tensor(std::string("q.") + zt.name).n_bytes, row_size(zt.type, kCols) * kRows);
}

TEST_P(QuantZooTest, QuantizeMatchesGgmlBytes) {
    PARITY_REQUIRE_FIXTURE(path, kZoo);
    const auto& zt = GetParam();
    ASSERT_TRUE(can_quantize(zt.type));
    const auto f = gguf::File::open(path.string());
    const std::vector<float> src = read_f32(f, f.tensor(std::string("src.") + zt.name));
    const auto expected = f.tensor_data(f.tensor(std::string("q.") + zt.name));
    const std::size_t row_bytes = row_size(zt.type, kCols);
    const std::size_t block_bytes = traits(zt.type).type_size;
    ASSERT_EQ(src.size(), static_cast<std::size_t>(kCols * kRows));
    ASSERT_EQ(expected.size(), row_bytes * kRows);

    for (std::int64_t r = 0; r < kRows; ++r) {
        // 0xFF everywhere first: every byte must be written (ggml leaves Q8_K's bsums of an
        // all-zero block unwritten; the fixture has 0 there and so must we).
        std::vector<std::byte> got(row_bytes, std::byte{0xFF});
        quantize_row(zt.type, std::span<const float>(src).subspan(static_cast<std::size_t>(r * kCols), kCols), got);
        const auto want = expected.subspan(static_cast<std::size_t>(r) * row_bytes, row_bytes);
        for (std::size_t i = 0; i < row_bytes; ++i) {
            if (got[i] != want[i]) {
                ADD_FAILURE() << zt.name << ": first differing byte at row " << r << ", byte " << i << " (block "
                              << i / block_bytes << ", byte " << i % block_bytes << " of the block): got 0x"
                              << std::hex << std::to_integer<int>(got[i]) << ", ggml wrote 0x"
                              << std::to_integer<int>(want[i]);
                return;
            }
        }
    }
}

TEST_P(QuantZooTest, DequantizeMatchesGgmlBits) {
    PARITY_REQUIRE_FIXTURE(path, kZoo);
    const auto& zt = GetParam();
    ASSERT_TRUE(can_dequantize(zt.type));
    const auto f = gguf::File::open(path.string());
    const auto q = f.tensor_data(f.tensor(std::string("q.") + zt.name));
    const std::vector<float> expected = read_f32(f, f.tensor(std::string("deq.") + zt.name));
    const std::size_t row_bytes = row_size(zt.type, kCols);
    ASSERT_EQ(q.size(), row_bytes * kRows);
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(kCols * kRows));

    for (std::int64_t r = 0; r < kRows; ++r) {
        std::vector<float> got(kCols);
        dequantize_row(zt.type, q.subspan(static_cast<std::size_t>(r) * row_bytes, row_bytes), got);
        for (std::int64_t c = 0; c < kCols; ++c) {
            const float want = expected[static_cast<std::size_t>(r * kCols + c)];
            const float have = got[static_cast<std::size_t>(c)];
            if (std::bit_cast<std::uint32_t>(have) != std::bit_cast<std::uint32_t>(want)) {
                ADD_FAILURE() << zt.name << ": first differing value at row " << r << ", column " << c << ": got "
                              << have << " (" << hex32(have) << "), ggml gave " << want << " (" << hex32(want)
                              << ")";
                return;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(QuantZoo, QuantZooTest, ::testing::ValuesIn(kZooTypes),
                         [](const ::testing::TestParamInfo<ZooType>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace parity
