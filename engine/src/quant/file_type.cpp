#include "engine/quant/file_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

namespace parity {

namespace {

struct FileTypeInfo {
    FileType type;
    std::string_view name;
    GgmlType weight;
};

constexpr std::array<FileTypeInfo, 18> kFileTypes{{
    {FileType::ALL_F32, "f32", GgmlType::F32},
    {FileType::MOSTLY_F16, "f16", GgmlType::F16},
    {FileType::MOSTLY_Q4_0, "q4_0", GgmlType::Q4_0},
    {FileType::MOSTLY_Q4_1, "q4_1", GgmlType::Q4_1},
    {FileType::MOSTLY_Q8_0, "q8_0", GgmlType::Q8_0},
    {FileType::MOSTLY_Q5_0, "q5_0", GgmlType::Q5_0},
    {FileType::MOSTLY_Q5_1, "q5_1", GgmlType::Q5_1},
    {FileType::MOSTLY_Q2_K, "q2_k", GgmlType::Q2_K},
    {FileType::MOSTLY_Q3_K_S, "q3_k_s", GgmlType::Q3_K},
    {FileType::MOSTLY_Q3_K_M, "q3_k_m", GgmlType::Q3_K},
    {FileType::MOSTLY_Q4_K_S, "q4_k_s", GgmlType::Q4_K},
    {FileType::MOSTLY_Q4_K_M, "q4_k_m", GgmlType::Q4_K},
    {FileType::MOSTLY_Q5_K_S, "q5_k_s", GgmlType::Q5_K},
    {FileType::MOSTLY_Q5_K_M, "q5_k_m", GgmlType::Q5_K},
    {FileType::MOSTLY_Q6_K, "q6_k", GgmlType::Q6_K},
    {FileType::MOSTLY_IQ4_NL, "iq4_nl", GgmlType::IQ4_NL},
    {FileType::MOSTLY_IQ4_XS, "iq4_xs", GgmlType::IQ4_XS},
    {FileType::MOSTLY_BF16, "bf16", GgmlType::BF16},
}};

const FileTypeInfo& info(FileType t) noexcept {
    return *std::find_if(kFileTypes.begin(), kFileTypes.end(), [t](const FileTypeInfo& i) { return i.type == t; });
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

bool is_quantized(GgmlType t) { return traits(t).block_size > 1; }

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

int block_index(const std::string& name) {
    int layer = -1;
    if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
    return layer;
}

}  // namespace

std::string_view file_type_name(FileType t) noexcept { return info(t).name; }

std::optional<FileType> file_type_from_name(std::string_view name) noexcept {
    for (const auto& i : kFileTypes) {
        if (i.name.size() == name.size() &&
            std::equal(name.begin(), name.end(), i.name.begin(),
                       [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
            return i.type;
        }
    }
    return std::nullopt;
}

const std::vector<FileType>& all_file_types() noexcept {
    static const std::vector<FileType> all = [] {
        std::vector<FileType> v;
        for (const auto& i : kFileTypes) v.push_back(i.type);
        return v;
    }();
    return all;
}

GgmlType default_weight_type(FileType t) noexcept { return info(t).weight; }

GgmlType TensorTypeChooser::choose(const std::string& name, const std::vector<std::int64_t>& ne) {
    const bool is_weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    // The MoE router stays F32, as llama-quantize leaves it.
    if (!is_weight || ne.size() < 2 || contains(name, "ffn_gate_inp.weight")) return GgmlType::F32;
    GgmlType t = default_weight_type(ftype_);
    if (!is_quantized(t)) return t;  // f32 / f16 / bf16 files: every 2-D weight alike

    const FileType f = ftype_;
    const bool k_m = f == FileType::MOSTLY_Q4_K_M || f == FileType::MOSTLY_Q5_K_M;
    if (name == "output.weight" || (!info_.has_output && name == "token_embd.weight")) {
        // The output projection gets more bits; a row length that does not fit the
        // K-quant super-block falls back to Q8_0.
        if (ne[0] % traits(t).block_size != 0) {
            t = GgmlType::Q8_0;
        } else if (t != GgmlType::Q8_0) {
            t = GgmlType::Q6_K;
        }
    } else if (name == "token_embd.weight") {
        // the default type
    } else if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight")) {
        // A fused QKV matrix (phi3) counts as the layer's attn_v, as llama-quantize counts it.
        if (f == FileType::MOSTLY_Q2_K) {
            t = info_.n_gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
        } else if (f == FileType::MOSTLY_Q3_K_M) {
            t = i_attention_wv_ < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
        } else if ((f == FileType::MOSTLY_IQ4_NL || f == FileType::MOSTLY_IQ4_XS) && info_.n_gqa >= 4) {
            t = GgmlType::Q5_K;
        } else if (k_m && use_more_bits(i_attention_wv_, info_.n_layers)) {
            t = GgmlType::Q6_K;
        } else if (f == FileType::MOSTLY_Q4_K_S && i_attention_wv_ < 4) {
            t = GgmlType::Q5_K;
        }
        ++i_attention_wv_;
    } else if (contains(name, "ffn_down")) {
        const int i_layer = i_ffn_down_;
        const int n_layer = info_.n_layers;
        if (f == FileType::MOSTLY_Q2_K) {
            t = GgmlType::Q3_K;
        } else if (f == FileType::MOSTLY_Q3_K_M) {
            t = i_layer < n_layer / 16 ? GgmlType::Q5_K : GgmlType::Q4_K;
        } else if (k_m && use_more_bits(i_layer, n_layer)) {
            t = GgmlType::Q6_K;
        } else if (f == FileType::MOSTLY_Q4_K_S && i_layer < n_layer / 8) {
            t = GgmlType::Q5_K;
        } else if (f == FileType::MOSTLY_IQ4_NL || f == FileType::MOSTLY_IQ4_XS) {
            if (i_layer < n_layer / 8) t = GgmlType::Q5_K;
        }
        ++i_ffn_down_;
    } else if (contains(name, "attn_output.weight")) {
        if (f == FileType::MOSTLY_Q2_K) t = GgmlType::Q3_K;
        if (f == FileType::MOSTLY_Q3_K_M) t = GgmlType::Q4_K;
    }

    // A row length the chosen type cannot hold falls back as llama-quantize does.
    if (ne[0] % traits(t).block_size != 0) {
        switch (t) {
            case GgmlType::Q2_K:
            case GgmlType::Q3_K:
            case GgmlType::IQ4_XS: t = GgmlType::IQ4_NL; break;
            case GgmlType::Q4_K: t = GgmlType::Q5_0; break;
            case GgmlType::Q5_K: t = GgmlType::Q5_1; break;
            case GgmlType::Q6_K: t = GgmlType::Q8_0; break;
            default: break;
        }
        if (ne[0] % traits(t).block_size != 0) t = GgmlType::F16;
    }
    return t;
}

bool llama_tensor_order(const std::string& a, const std::string& b) {
    const int la = block_index(a);
    const int lb = block_index(b);
    if (la != lb) return la < lb;
    return a < b;
}

}  // namespace parity
