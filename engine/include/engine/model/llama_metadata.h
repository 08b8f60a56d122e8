#pragma once
// The metadata that describes a LLaMA-family model in each format, built from one
// ModelConfig + TokenizerData: GGUF keys as llama.cpp's converter and quantizer write them,
// and APR JSON as aprender writes it (key order of the APR fixture, upstream's flat tokenizer
// keys plus the nested `tokenizer` object).

#include <optional>
#include <string>
#include <vector>

#include "engine/format/apr.h"
#include "engine/quant/file_type.h"
#include "engine/format/gguf.h"
#include "engine/model/model_file.h"

namespace parity {

/// GGUF keys: general.*, {arch}.* hyper-parameters, general.file_type (and
/// general.quantization_version for quantized files), tokenizer.ggml.*.
std::vector<gguf::MetadataEntry> llama_gguf_metadata(const ModelConfig& config, const TokenizerData& tokenizer,
                                                     const std::string& name, FileType file_type);

/// What an APR file says about where it came from.
struct AprProvenance {
    std::string name;                         ///< model name
    std::string original_format = "gguf";
    std::string source;                       ///< the file it was converted from ("" to omit)
    std::optional<std::string> quantization;  ///< e.g. "Q4_K_M"; null for a float model
    std::int64_t param_count = 0;
};

/// APR metadata JSON (aprender's AprV2Metadata keys plus the tokenizer in both forms).
apr::Json llama_apr_metadata(const ModelConfig& config, const TokenizerData& tokenizer, const AprProvenance& provenance);

}  // namespace parity
