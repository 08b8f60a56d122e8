// GGUF <-> APR conversion, tensor by tensor (one tensor in memory at a time).

#include "engine/model/convert.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "engine/error.h"
#include "engine/format/gguf_writer.h"
#include "engine/model/llama_metadata.h"
#include "engine/quant/quant.h"

namespace parity {

namespace {

// The type a tensor gets in the target format, before asking whether it can be copied.
GgmlType wanted_type(const ModelTensor& t, ModelFormat target, ConvertDtype dtype) {
    if (dtype == ConvertDtype::F32) return GgmlType::F32;
    if (dtype == ConvertDtype::F16) return t.ne.size() >= 2 ? GgmlType::F16 : GgmlType::F32;
    if (!t.type) return GgmlType::F32;  // AprQ4 / AprQ8 / U8: no ggml equivalent
    if (target == ModelFormat::Apr && !apr::from_ggml(*t.type)) return GgmlType::F32;
    return *t.type;
}

// The tensor's bytes in type `to`: its own bytes when the type is unchanged, else its
// values re-encoded row by row.
std::vector<std::byte> encode(const ModelFile& m, const ModelTensor& t, GgmlType to) {
    const auto src = m.tensor_data(t);
    if (t.type && *t.type == to) return {src.begin(), src.end()};
    const std::vector<float> values = m.dequantize(t);
    const std::int64_t cols = t.ne.empty() ? 1 : t.ne[0];
    const std::size_t row_bytes = row_size(to, cols);
    const std::size_t rows = cols == 0 ? 0 : values.size() / static_cast<std::size_t>(cols);
    std::vector<std::byte> out(rows * row_bytes);
    for (std::size_t r = 0; r < rows; ++r) {
        quantize_row(to, std::span<const float>(values).subspan(r * static_cast<std::size_t>(cols), static_cast<std::size_t>(cols)),
                     std::span<std::byte>(out).subspan(r * row_bytes, row_bytes));
    }
    return out;
}

// general.file_type for a set of weight types: the type most 2-D tensors have.
FileType derive_file_type(const std::vector<ModelTensor>& tensors, const std::map<std::string, GgmlType>& types) {
    std::map<GgmlType, int> counts;
    for (const auto& t : tensors) {
        if (t.ne.size() >= 2) ++counts[types.at(t.name)];
    }
    if (counts.empty()) return FileType::ALL_F32;
    const GgmlType main = std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) {
                              return a.second < b.second;
                          })->first;
    switch (main) {
        case GgmlType::F16: return FileType::MOSTLY_F16;
        case GgmlType::BF16: return FileType::MOSTLY_BF16;
        case GgmlType::Q4_K: return FileType::MOSTLY_Q4_K_M;
        case GgmlType::Q6_K: return FileType::MOSTLY_Q6_K;
        case GgmlType::Q8_0: return FileType::MOSTLY_Q8_0;
        case GgmlType::Q4_0: return FileType::MOSTLY_Q4_0;
        default: return FileType::ALL_F32;
    }
}

std::string model_name(const ModelFile& m) {
    if (const auto* g = m.gguf(); g != nullptr && g->find("general.name") != nullptr) return g->get_string("general.name");
    if (const auto* a = m.apr(); a != nullptr && a->find("name") != nullptr && a->find("name")->is_string()) {
        return a->get_string("name");
    }
    return std::filesystem::path(m.path()).stem().string();
}

std::string upper(std::string_view s) {
    std::string u(s);
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
}

void write_gguf(const ModelFile& m, const std::string& out, const std::map<std::string, GgmlType>& types,
                ConvertDtype dtype, const Progress& progress) {
    gguf::Writer w(out);
    if (const auto* g = m.gguf()) {
        // Same format: every key carries over; only the file type follows a forced dtype.
        for (const auto& e : g->metadata()) {
            if (e.key == "general.file_type" && dtype != ConvertDtype::Keep) continue;
            if (e.key == "general.quantization_version" && dtype != ConvertDtype::Keep) continue;
            w.add(e.key, e.value);
        }
        if (dtype != ConvertDtype::Keep) {
            const auto ft = dtype == ConvertDtype::F32 ? FileType::ALL_F32 : FileType::MOSTLY_F16;
            w.add("general.file_type", gguf::Value(static_cast<std::uint32_t>(ft)));
        }
    } else {
        for (auto& e : llama_gguf_metadata(m.config(), m.tokenizer(), model_name(m), derive_file_type(m.tensors(), types))) {
            w.add(std::move(e.key), std::move(e.value));
        }
    }
    std::vector<const ModelTensor*> order;
    for (const auto& t : m.tensors()) order.push_back(&t);
    if (m.apr() != nullptr) {
        std::stable_sort(order.begin(), order.end(),
                         [](const ModelTensor* a, const ModelTensor* b) { return llama_tensor_order(a->name, b->name); });
    }
    for (const auto* t : order) w.add_tensor(t->name, types.at(t->name), t->ne);
    w.write_header();
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto data = encode(m, *order[i], types.at(order[i]->name));
        w.write_tensor_data(data);
        bytes += data.size();
        if (progress) progress(i + 1, order.size(), bytes);
    }
    w.finish();
}

void write_apr(const ModelFile& m, const std::string& out, const std::map<std::string, GgmlType>& types,
               const Progress& progress) {
    apr::Writer w(out);
    if (m.apr() != nullptr) {
        w.set_metadata(m.apr()->metadata());
    } else {
        AprProvenance p;
        p.name = model_name(m);
        p.source = std::filesystem::path(m.path()).filename().string();
        const bool all_f32 = std::all_of(types.begin(), types.end(), [](const auto& kv) { return kv.second == GgmlType::F32; });
        if (!all_f32) {
            const auto* ft = m.gguf()->find("general.file_type");
            const auto id = ft ? ft->as_int() : std::nullopt;
            p.quantization = id ? upper(file_type_name(static_cast<FileType>(*id))) : "MIXED";
        }
        for (const auto& t : m.tensors()) p.param_count += t.n_elements();
        w.set_metadata(llama_apr_metadata(m.config(), m.tokenizer(), p));
    }
    for (const auto& t : m.tensors()) w.add_tensor(t.name, *apr::from_ggml(types.at(t.name)), t.ne);
    w.write_header();
    std::uint64_t bytes = 0;
    std::size_t done = 0;
    while (const apr::TensorInfo* next = w.next_tensor()) {
        const ModelTensor& t = m.tensor(next->name);
        const auto data = encode(m, t, types.at(t.name));
        w.write_tensor_data(t.name, data);
        bytes += data.size();
        if (progress) progress(++done, m.tensors().size(), bytes);
    }
    w.finish();
}

}  // namespace

ConvertResult convert_model(const std::string& in, const std::string& out, ModelFormat target, ConvertDtype dtype,
                            const Progress& progress) {
    const ModelFile m = ModelFile::open(in);
    ConvertResult result;
    result.target = target;
    result.tensors = m.tensors().size();
    std::map<std::string, GgmlType> types;
    for (const auto& t : m.tensors()) {
        const GgmlType to = wanted_type(t, target, dtype);
        types[t.name] = to;
        if (!t.type || *t.type != to) result.changed.push_back({t.name, t.type_name, std::string(type_name(to))});
    }
    try {
        if (target == ModelFormat::Gguf) {
            write_gguf(m, out, types, dtype, progress);
        } else {
            write_apr(m, out, types, progress);
        }
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(out, ec);
        throw;
    }
    return result;
}

}  // namespace parity
