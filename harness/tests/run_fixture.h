#pragma once
// Shared by the pv run tests: tiny synthetic models made once per test program (qwen2, 3 layers,
// 64 wide, vocab 300: a forward pass takes well under a millisecond), a suite config over them
// and contracts written into temporary directories.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/quant/file_type.h"
#include "engine/synth/synth.h"
#include "harness/run/runner.h"
#include "test_support.h"

namespace parity::testing {

struct RunModels {
    std::filesystem::path dir;
    std::filesystem::path apr;       ///< F32 APR
    std::filesystem::path gguf_f32;  ///< the same weights as F32 GGUF
    std::filesystem::path gguf_q8;   ///< Q8_0 GGUF
    int n_layers = 3;
    int n_embd = 64;

    static const RunModels& get() {
        static std::unique_ptr<TempDir> tmp;
        static RunModels m;
        if (!tmp) {
            tmp = std::make_unique<TempDir>();
            m.dir = tmp->path();
            synth::ModelShape s = synth::preset("qwen2", "tiny");
            s.n_layers = m.n_layers;
            s.n_embd = m.n_embd;
            s.n_ff = 128;
            s.n_head = 4;
            s.n_head_kv = 2;
            s.n_vocab = 300;
            s.n_ctx = 64;
            m.apr = m.dir / "tiny-F32.apr";
            m.gguf_f32 = m.dir / "tiny-F32.gguf";
            m.gguf_q8 = m.dir / "tiny-Q8_0.gguf";
            synth::write_apr_f32(s, 42, m.apr.string());
            synth::write_gguf(s, 42, FileType::ALL_F32, m.gguf_f32.string());
            synth::write_gguf(s, 42, FileType::MOSTLY_Q8_0, m.gguf_q8.string());
        }
        return m;
    }
};

inline void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

/// A suite over the tiny models: apr (F32 APR, full_sequence, dequant), gguf (F32 GGUF,
/// incremental, ggml), gguf_q8 (Q8_0, incremental, ggml), gguf_cuda (F32 GGUF on cuda),
/// missing (a model file that does not exist: an error), fixture (an absent model marked
/// `optional: true`: skipped). `input` is the `prompt:` / `tokens:` line.
inline std::string suite_text(const std::string& input = "tokens: [40, 41, 42, 43, 44, 45, 46, 47]") {
    const RunModels& m = RunModels::get();
    return input + "\n"
           "models:\n"
           "  apr: " + m.apr.string() + "\n"
           "  f32: " + m.gguf_f32.string() + "\n"
           "  absent: {file: " + (m.dir / "no-such-fixture.gguf").string() + ", optional: true}\n"
           "paths:\n"
           "  apr:       {model: apr, backend: cpu, mode: full_sequence, matmul: dequant, threads: 1}\n"
           "  gguf:      {model: f32, backend: cpu, mode: incremental, matmul: ggml, threads: 1}\n"
           "  gguf_q8:   {model: " + m.gguf_q8.string() + ", mode: incremental, matmul: ggml, threads: 1}\n"
           "  gguf_cuda: {model: f32, backend: cuda, mode: incremental, matmul: ggml}\n"
           "  missing:   {model: " + (m.dir / "no-such-model.gguf").string() + ", mode: incremental}\n"
           "  fixture:   {model: absent, mode: incremental}\n";
}

/// A contract (kind pattern) holding `tests`, each a YAML list item written at two spaces.
inline std::string contract_text(const std::vector<std::string>& tests) {
    std::string s =
        "metadata:\n"
        "  version: \"1.0.0\"\n"
        "  description: \"pv run test contract\"\n"
        "  kind: pattern\n"
        "  references: [\"harness/tests\"]\n"
        "falsification_tests:\n";
    for (const auto& t : tests) s += t;
    return s;
}

/// One bound test item: `harness` is the flow mapping after `falsifier:` ("stat_ratio_band, ...").
inline std::string bound_test(const std::string& id, const std::string& harness) {
    return "  - id: " + id + "\n    prediction: \"holds\"\n    if_fails: \"look\"\n    harness: {falsifier: " + harness + "}\n";
}

inline std::string unbound_test(const std::string& id) {
    return "  - id: " + id + "\n    prediction: \"holds\"\n    if_fails: \"look\"\n";
}

}  // namespace parity::testing
