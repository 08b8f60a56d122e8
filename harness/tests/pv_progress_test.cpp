// The progress line of long work: nothing before its delay or off a terminal; then the detail,
// the elapsed time and an estimate of the time left, on one redrawn line. And the forward
// graph's per-layer hook that pv trace and pv generate drive it with.

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <vector>

#include "cli/progress_line.h"
#include "engine/model/model.h"
#include "engine/runtime/forward.h"
#include "engine/quant/file_type.h"
#include "engine/synth/synth.h"
#include "test_support.h"

namespace parity::cli {
namespace {

TEST(ProgressLine, SilentWhenDisabledOrBeforeItsDelay) {
    std::ostringstream off;
    {
        ProgressLine line(off, "trace", /*enabled=*/false, 0.0);
        line.update(0.5, "layer 1/2");
    }
    EXPECT_EQ(off.str(), "");
    std::ostringstream early;
    {
        ProgressLine line(early, "trace", /*enabled=*/true, 3600.0);
        line.update(0.5, "layer 1/2");
    }
    EXPECT_EQ(early.str(), "");
}

TEST(ProgressLine, DetailElapsedAndTimeLeftOnOneLine) {
    std::ostringstream err;
    {
        ProgressLine line(err, "trace", /*enabled=*/true, 0.0);
        line.update(0.25, "token 1/4, layer 2/2");
        EXPECT_TRUE(std::regex_search(err.str(),
                                      std::regex("^\\rtrace: token 1/4, layer 2/2, [0-9.]+ s elapsed, ~[0-9.]+ s left")))
            << err.str();
        EXPECT_EQ(err.str().find('\n'), std::string::npos);
    }
    EXPECT_EQ(err.str().back(), '\n');  // ended when it goes
}

TEST(LayerHook, CalledOncePerLayerOfEveryPass) {
    parity::testing::TempDir dir;
    const std::string path = (dir / "tiny.gguf").string();
    synth::write_gguf(synth::preset("qwen2", "tiny"), 42, FileType::ALL_F32, path);
    const Model model = Model::load(path);
    std::vector<int> layers;
    SessionOptions so;
    so.threads = 2;
    so.on_layer = [&](int layer) { layers.push_back(layer); };
    auto session = create_session(model, so);
    const std::vector<std::int32_t> tokens = {5, 6, 7};
    forward_logits(*session, tokens, ForwardMode::Incremental);
    const int n = model.config().n_layers;
    ASSERT_EQ(layers.size(), static_cast<std::size_t>(3 * n));
    for (std::size_t i = 0; i < layers.size(); ++i) EXPECT_EQ(layers[i], static_cast<int>(i) % n);
}

}  // namespace
}  // namespace parity::cli
