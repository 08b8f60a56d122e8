#include <gtest/gtest.h>

#include "engine/quant/ggml_type.h"

namespace parity {
namespace {

// Block geometry as ggml documents it (ggml-common.h block structs, QK_K = 256).
TEST(GgmlType, BlockSizesMatchGgml) {
    struct Expect {
        GgmlType type;
        std::int64_t block;
        std::size_t bytes;
    };
    const Expect expected[] = {
        {GgmlType::F32, 1, 4},      {GgmlType::F16, 1, 2},      {GgmlType::BF16, 1, 2},
        {GgmlType::Q4_0, 32, 18},   {GgmlType::Q4_1, 32, 20},   {GgmlType::Q5_0, 32, 22},
        {GgmlType::Q5_1, 32, 24},   {GgmlType::Q8_0, 32, 34},   {GgmlType::Q8_1, 32, 36},
        {GgmlType::Q2_K, 256, 84},  {GgmlType::Q3_K, 256, 110}, {GgmlType::Q4_K, 256, 144},
        {GgmlType::Q5_K, 256, 176}, {GgmlType::Q6_K, 256, 210}, {GgmlType::Q8_K, 256, 292},
        {GgmlType::IQ4_NL, 32, 18}, {GgmlType::IQ4_XS, 256, 136},
    };
    for (const auto& e : expected) {
        SCOPED_TRACE(std::string(type_name(e.type)));
        EXPECT_EQ(traits(e.type).block_size, e.block);
        EXPECT_EQ(traits(e.type).type_size, e.bytes);
    }
}

TEST(GgmlType, IdsAreGgmlsNumbering) {
    EXPECT_EQ(ggml_type_traits(12)->type, GgmlType::Q4_K);
    EXPECT_EQ(ggml_type_traits(30)->name, "BF16");
    EXPECT_EQ(ggml_type_traits(23)->name, "IQ4_XS");
    // 4 and 5 (Q4_2, Q4_3) and 31..33 were removed from ggml; 36+ do not exist.
    EXPECT_FALSE(ggml_type_traits(4).has_value());
    EXPECT_FALSE(ggml_type_traits(5).has_value());
    EXPECT_FALSE(ggml_type_traits(31).has_value());
    EXPECT_FALSE(ggml_type_traits(36).has_value());
}

TEST(GgmlType, NamesParseCaseInsensitively) {
    EXPECT_EQ(ggml_type_from_name("q4_k"), GgmlType::Q4_K);
    EXPECT_EQ(ggml_type_from_name("IQ4_NL"), GgmlType::IQ4_NL);
    EXPECT_FALSE(ggml_type_from_name("q4_k_m").has_value());  // a file type, not a tensor type
}

TEST(GgmlType, RowSize) {
    EXPECT_EQ(row_size(GgmlType::Q4_K, 4096), 16u * 144u);
    EXPECT_EQ(row_size(GgmlType::Q8_0, 256), 8u * 34u);
    EXPECT_EQ(row_size(GgmlType::F32, 3), 12u);
}

}  // namespace
}  // namespace parity
