#pragma once
// Model conversion between GGUF and APR (and within a format, to change tensor types),
// keeping names, shapes, architecture and tokenizer.
//
// Tensor types with `keep`: a tensor keeps its type when the target format has it (APR:
// F32, F16, BF16, Q4_K, Q6_K and a few integer/float types; GGUF: every ggml type) and is
// dequantized to F32 otherwise — a GGUF Q8_0 tensor is never stored as APR byte 8, which
// APR uses for its own legacy AprQ4. `f32` makes every tensor F32; `f16` makes every tensor of
// two or more dimensions F16 and keeps 1-D tensors (norms, biases) in F32, as llama.cpp's
// converter does. A kept tensor's bytes are copied unchanged, so GGUF -> APR -> GGUF with
// `keep` returns the original bytes of every tensor APR could hold.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/model_file.h"
#include "engine/progress.h"

namespace parity {

enum class ConvertDtype { Keep, F32, F16 };

/// One tensor whose type changed on the way.
struct ConvertedTensor {
    std::string name;
    std::string from;  ///< source type name ("Q8_0")
    std::string to;    ///< target type name ("F32")
};

struct ConvertResult {
    ModelFormat target = ModelFormat::Gguf;
    std::size_t tensors = 0;
    std::vector<ConvertedTensor> changed;  ///< tensors not copied byte for byte
};

/// Converts `in` (GGUF or APR, by magic) into `out` in format `target`. Throws IoError,
/// FormatError or UsageError; on error a partly written `out` is removed.
ConvertResult convert_model(const std::string& in, const std::string& out, ModelFormat target, ConvertDtype dtype,
                            const Progress& progress = {});

}  // namespace parity
