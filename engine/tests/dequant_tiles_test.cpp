// The dequant policy without an f32 copy of the weights: rows decoded a tile at a time into
// per-thread scratch must give the same bits as the former path, every row dequantized to f32
// once and then multiplied with the plain f32 dot.

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/model/convert.h"
#include "engine/model/model.h"
#include "engine/quant/quant.h"
#include "engine/runtime/forward.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/vec_dot.h"
#include "test_support.h"

namespace parity {
namespace {

/// Every GGUF of llama.cpp's fixture models (empty when the fixtures are absent).
std::vector<std::filesystem::path> fixture_models() {
    std::vector<std::filesystem::path> out;
    const auto dir = testing::fixture("llamacpp/models");
    if (!dir) return out;
    for (const auto& e : std::filesystem::directory_iterator(*dir)) {
        if (e.path().extension() == ".gguf") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    // memcmp must not see the null data() of an empty vector.
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_bits(const ActivationStats& a, const ActivationStats& b) {
    return a.count == b.count && a.nan_count == b.nan_count && a.inf_count == b.inf_count &&
           a.zero_count == b.zero_count && std::memcmp(&a.min, &b.min, sizeof(float)) == 0 &&
           std::memcmp(&a.max, &b.max, sizeof(float)) == 0 && std::memcmp(&a.mean, &b.mean, sizeof(float)) == 0 &&
           std::memcmp(&a.std_dev, &b.std_dev, sizeof(float)) == 0;
}

/// The former dequant path, kept here as the reference: each row to f32, then the f32 dot.
std::vector<float> row_then_dot(const WeightMatrix& w, const std::vector<float>& x, std::int64_t n_tok) {
    std::vector<float> y(static_cast<std::size_t>(n_tok * w.n_out));
    std::vector<float> row(static_cast<std::size_t>(w.n_in));
    for (std::int64_t r = 0; r < w.n_out; ++r) {
        if (w.type == GgmlType::F32) {
            std::memcpy(row.data(), w.row(r).data(), row.size() * sizeof(float));
        } else {
            dequantize_row(w.type, w.row(r), row);
        }
        for (std::int64_t t = 0; t < n_tok; ++t) {
            y[static_cast<std::size_t>(t * w.n_out + r)] = cpu::dot_f32(w.n_in, row.data(), x.data() + t * w.n_in);
        }
    }
    return y;
}

/// The matmul under test, with `threads` threads and a scratch reserved for them.
std::vector<float> tiled(const WeightMatrix& w, const std::vector<float>& x, std::int64_t n_tok, int threads) {
    const cpu::PreparedMatrix p = cpu::prepare_matrix(w, MatmulPolicy::Dequant);
    cpu::ActivationPack pack;
    pack.reserve(n_tok, w.n_in);
    pack.set(x.data(), n_tok, w.n_in);
    cpu::DecodeScratch tiles;
    tiles.reserve(threads, w.n_in);
    std::vector<float> y(static_cast<std::size_t>(n_tok * w.n_out));
    cpu::matmul(p, pack, y.data(), threads, &tiles);
    return y;
}

std::vector<float> random_rows(std::int64_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& f : v) f = d(rng);
    return v;
}

void expect_matrix_matches(const WeightMatrix& w, const std::string& where) {
    constexpr std::int64_t kTokens = 3;
    const auto x = random_rows(kTokens * w.n_in, static_cast<std::uint32_t>(w.n_out * 31 + w.n_in));
    const auto ref = row_then_dot(w, x, kTokens);
    for (int threads : {1, 3}) {
        EXPECT_TRUE(same_bits(tiled(w, x, kTokens, threads), ref)) << where << " " << w.name << " threads " << threads;
    }
}

TEST(DequantTiles, DecodesNoCopyAtPreparation) {
    // A prepared quantized matrix points at the stored bytes.
    std::vector<std::byte> bytes(row_size(GgmlType::Q8_0, 64) * 4);
    const WeightMatrix w{"w", GgmlType::Q8_0, 64, 4, bytes};
    const cpu::PreparedMatrix p = cpu::prepare_matrix(w, MatmulPolicy::Dequant);
    EXPECT_EQ(p.data, bytes.data());
    EXPECT_EQ(p.type, GgmlType::Q8_0);
    EXPECT_TRUE(p.decode);
}

TEST(DequantTiles, MissingScratchIsAClearError) {
    std::vector<std::byte> bytes(row_size(GgmlType::Q8_0, 64) * 4);
    const WeightMatrix w{"w", GgmlType::Q8_0, 64, 4, bytes};
    const cpu::PreparedMatrix p = cpu::prepare_matrix(w, MatmulPolicy::Dequant);
    std::vector<float> x(64, 1.0f);
    std::vector<float> y(4);
    cpu::ActivationPack pack;
    pack.reserve(1, 64);
    pack.set(x.data(), 1, 64);
    EXPECT_THROW(cpu::matmul(p, pack, y.data(), 1, nullptr), UsageError);
}

TEST(DequantTiles, PartialTilesMatchRowThenDot) {
    // 37 rows: two full tiles and a partial one, split unevenly across 3 threads.
    for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::F16}) {
        constexpr std::int64_t n_in = 512;
        constexpr std::int64_t n_out = 37;
        const auto values = random_rows(n_in * n_out, 7);
        std::vector<std::byte> bytes(row_size(type, n_in) * n_out);
        for (std::int64_t r = 0; r < n_out; ++r) {
            quantize_row(type, {values.data() + r * n_in, static_cast<std::size_t>(n_in)},
                         {bytes.data() + static_cast<std::size_t>(r) * row_size(type, n_in), row_size(type, n_in)});
        }
        expect_matrix_matches(WeightMatrix{"synthetic", type, n_in, n_out, bytes}, std::string(type_name(type)));
    }
}

TEST(DequantTiles, EveryFixtureMatrixMatchesRowThenDot) {
    const auto models = fixture_models();
    if (models.empty()) GTEST_SKIP() << "no llama.cpp fixture models under PARITY_FIXTURES_DIR";
    for (const auto& path : models) {
        const Model m = Model::load(path.string());
        for (const LayerWeights& L : m.layers()) {
            for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down, &L.router}) {
                if (w->n_out > 0) expect_matrix_matches(*w, path.filename().string());
            }
            for (const auto* experts : {&L.exp_gate, &L.exp_up, &L.exp_down}) {
                for (const WeightMatrix& w : *experts) expect_matrix_matches(w, path.filename().string());
            }
        }
        expect_matrix_matches(m.output(), path.filename().string());
    }
}

// End to end: each fixture model against its F32 conversion, which the dequant policy multiplies
// in place (the former path's f32 copy, written to a file). Logits of every position and the
// whole trace must be the same bits.
TEST(DequantTiles, EveryFixtureModelMatchesItsF32Copy) {
    const auto models = fixture_models();
    if (models.empty()) GTEST_SKIP() << "no llama.cpp fixture models under PARITY_FIXTURES_DIR";
    const std::vector<std::int32_t> tokens = {1021, 17, 263, 500, 42, 777, 1000, 128};
    testing::TempDir dir;
    for (const auto& path : models) {
        const std::string name = path.filename().string();
        const auto f32_path = dir / ("f32-" + name);
        (void)convert_model(path.string(), f32_path.string(), ModelFormat::Gguf, ConvertDtype::F32);
        const Model stored = Model::load(path.string());
        const Model copy = Model::load(f32_path.string());
        SessionOptions o;
        o.matmul = MatmulPolicy::Dequant;
        o.threads = 2;
        o.max_context = 16;
        auto a = create_session(stored, o);
        auto b = create_session(copy, o);
        for (ForwardMode mode : {ForwardMode::FullSequence, ForwardMode::Incremental}) {
            EXPECT_TRUE(same_bits(forward_logits(*a, tokens, mode), forward_logits(*b, tokens, mode)))
                << name << " logits, " << to_string(mode);
            const ForwardTrace ta = trace_forward(*a, tokens, mode, true);
            const ForwardTrace tb = trace_forward(*b, tokens, mode, true);
            ASSERT_EQ(ta.layers.size(), tb.layers.size());
            EXPECT_TRUE(same_bits(ta.logits, tb.logits)) << name << " trace logits";
            EXPECT_TRUE(same_bits(ta.embed, tb.embed) && same_bits(ta.final_norm, tb.final_norm)) << name;
            for (std::size_t l = 0; l < ta.layers.size(); ++l) {
                for (int s = 0; s < kTraceSlotCount; ++s) {
                    const auto su = static_cast<std::size_t>(s);
                    EXPECT_TRUE(same_bits(ta.layers[l].slots[su], tb.layers[l].slots[su]) &&
                                same_bits(ta.layers[l].last_token[su], tb.layers[l].last_token[su]) &&
                                same_bits(ta.layers[l].last_token_values[su], tb.layers[l].last_token_values[su]))
                        << name << " layer " << l << " slot " << slot_name(static_cast<TraceSlot>(s)) << ", "
                        << to_string(mode);
                }
            }
        }
    }
}

}  // namespace
}  // namespace parity
