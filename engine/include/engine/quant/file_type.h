#pragma once
// Model file types (llama.cpp's `llama_ftype`, stored as `general.file_type`) and the
// per-tensor type choice that llama-quantize makes for them without an importance matrix
// (llama_tensor_get_type in llama.cpp's src/llama-quant.cpp, c392e50), so that files we
// write carry the tensor types a llama.cpp user would get.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/quant/ggml_type.h"

namespace parity {

enum class FileType : std::uint32_t {
    ALL_F32 = 0,
    MOSTLY_F16 = 1,
    MOSTLY_Q4_0 = 2,
    MOSTLY_Q4_1 = 3,
    MOSTLY_Q8_0 = 7,
    MOSTLY_Q5_0 = 8,
    MOSTLY_Q5_1 = 9,
    MOSTLY_Q2_K = 10,
    MOSTLY_Q3_K_S = 11,
    MOSTLY_Q3_K_M = 12,
    MOSTLY_Q4_K_S = 14,
    MOSTLY_Q4_K_M = 15,
    MOSTLY_Q5_K_S = 16,
    MOSTLY_Q5_K_M = 17,
    MOSTLY_Q6_K = 18,
    MOSTLY_IQ4_NL = 25,
    MOSTLY_IQ4_XS = 30,
    MOSTLY_BF16 = 32,
};

/// Lower-case name as llama-quantize spells it: "f32", "q4_k_m", "iq4_xs".
std::string_view file_type_name(FileType t) noexcept;
/// The file type named `name` (case-insensitive), or nullopt.
std::optional<FileType> file_type_from_name(std::string_view name) noexcept;
/// Every supported file type, in enum order.
const std::vector<FileType>& all_file_types() noexcept;

/// The type of the bulk of the 2-D weights (Q4_K for q4_k_m, ...).
GgmlType default_weight_type(FileType t) noexcept;

/// What the type choice needs to know about the model.
struct QuantModelInfo {
    int n_layers = 0;     ///< number of blocks
    int n_gqa = 1;           ///< query heads per kv head
    bool has_output = true;  ///< false when the output projection is tied to token_embd
};

/// Chooses tensor types tensor by tensor. Call `choose` in llama.cpp's order (non-block
/// tensors by name, then block by block, names sorted within a block — see
/// `llama_tensor_order`): like llama-quantize it counts attn_v / ffn_down tensors as it goes.
class TensorTypeChooser {
public:
    TensorTypeChooser(FileType file_type, QuantModelInfo info) : ftype_(file_type), info_(info) {}

    /// Type for tensor `name` of shape `ne` (ne[0] fastest). 1-D tensors, names not ending in
    /// "weight" and the MoE router (ffn_gate_inp) stay F32, as llama-quantize leaves them.
    GgmlType choose(const std::string& name, const std::vector<std::int64_t>& ne);

private:
    FileType ftype_;
    QuantModelInfo info_;
    int i_attention_wv_ = 0;
    int i_ffn_down_ = 0;
};

/// llama.cpp's tensor order (its loader's weight_name_comparer): tensors outside blocks
/// first, then by block number, by name within each group.
bool llama_tensor_order(const std::string& a, const std::string& b);

}  // namespace parity
