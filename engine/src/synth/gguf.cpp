// Streams a synthetic model into a GGUF file, tensor by tensor and row chunk by row chunk.

#include <algorithm>

#include "engine/format/gguf_writer.h"
#include "engine/model/llama_metadata.h"
#include "engine/parallel_for.h"
#include "engine/quant/quant.h"
#include "engine/synth/synth.h"

namespace parity::synth {

namespace {
constexpr std::int64_t kChunkValues = std::int64_t{1} << 24;  // 64 MiB of f32 per chunk
}

void write_gguf(const ModelShape& shape, std::uint64_t seed, FileType file_type, const std::string& path,
                const Progress& progress) {
    validate(shape);
    const TokenizerData vocab = make_vocabulary(shape);
    const std::vector<TensorSpec> plan = tensor_plan(shape);

    TensorTypeChooser chooser(file_type, {shape.n_layers, shape.n_head / shape.n_head_kv, !shape.tied});
    std::vector<GgmlType> types;
    for (const auto& t : plan) types.push_back(chooser.choose(t.name, t.ne));

    gguf::Writer w(path);
    for (auto& e : llama_gguf_metadata(to_config(shape), vocab, shape.name, file_type)) {
        w.add(std::move(e.key), std::move(e.value));
    }
    for (std::size_t i = 0; i < plan.size(); ++i) w.add_tensor(plan[i].name, types[i], plan[i].ne);
    w.write_header();

    std::uint64_t written = 0;
    std::vector<float> values;
    std::vector<std::byte> encoded;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const TensorSpec& t = plan[i];
        const std::int64_t cols = t.ne[0];
        std::int64_t rows = 1;
        for (std::size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
        const std::size_t row_bytes = row_size(types[i], cols);
        const std::int64_t chunk_rows = std::max<std::int64_t>(1, kChunkValues / cols);
        for (std::int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
            const std::int64_t n = std::min(chunk_rows, rows - r0);
            values.resize(static_cast<std::size_t>(n * cols));
            encoded.resize(static_cast<std::size_t>(n) * row_bytes);
            parallel_for(n, [&](std::int64_t r) {
                const auto row_values = std::span<float>(values).subspan(static_cast<std::size_t>(r * cols),
                                                                         static_cast<std::size_t>(cols));
                generate_rows(shape, seed, t, r0 + r, row_values);
                quantize_row(types[i], row_values,
                             std::span<std::byte>(encoded).subspan(static_cast<std::size_t>(r) * row_bytes, row_bytes));
            });
            w.append_tensor_data(encoded);
            written += encoded.size();
        }
        if (progress) progress(i + 1, plan.size(), written);
    }
    w.finish();
}

}  // namespace parity::synth
