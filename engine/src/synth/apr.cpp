// Streams a synthetic model's F32 weights into an APR file.

#include <cstring>

#include "engine/format/apr.h"
#include "engine/model/llama_metadata.h"
#include "engine/parallel_for.h"
#include "engine/synth/synth.h"

namespace parity::synth {

void write_apr_f32(const ModelShape& shape, std::uint64_t seed, const std::string& path, const Progress& progress) {
    validate(shape);
    const std::vector<TensorSpec> plan = tensor_plan(shape);
    AprProvenance p;
    p.name = shape.name;
    p.original_format = "synth";
    for (const auto& t : plan) {
        std::int64_t n = 1;
        for (auto d : t.ne) n *= d;
        p.param_count += n;
    }
    apr::Writer w(path);
    w.set_metadata(llama_apr_metadata(to_config(shape), make_vocabulary(shape), p));
    for (const auto& t : plan) w.add_tensor(t.name, apr::DType::F32, t.ne);
    w.write_header();

    std::vector<float> values;
    std::uint64_t bytes = 0;
    std::size_t done = 0;
    while (const apr::TensorInfo* next = w.next_tensor()) {
        const TensorSpec& t = *std::find_if(plan.begin(), plan.end(), [&](const TensorSpec& s) { return s.name == next->name; });
        const std::int64_t cols = t.ne[0];
        const auto rows = static_cast<std::int64_t>(next->size / sizeof(float)) / cols;
        values.resize(static_cast<std::size_t>(rows * cols));
        parallel_for(rows, [&](std::int64_t r) {
            generate_rows(shape, seed, t, r,
                          std::span<float>(values).subspan(static_cast<std::size_t>(r * cols), static_cast<std::size_t>(cols)));
        });
        w.write_tensor_data(t.name, std::as_bytes(std::span<const float>(values)));
        bytes += next->size;
        if (progress) progress(++done, plan.size(), bytes);
    }
    w.finish();
}

}  // namespace parity::synth
