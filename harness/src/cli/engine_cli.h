#pragma once
// Options shared by the engine subcommands (pv trace / generate / bench): the input tokens
// (--prompt through the model's tokenizer, or --tokens), and the forward-pass settings.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "engine/runtime/forward.h"
#include "progress_line.h"
#include "engine/model/model.h"

namespace parity::cli {

/// Adds --prompt, --tokens, --matmul, --kv-type, --backend, --threads to `opts`.
void add_forward_options(boost::program_options::options_description& opts, const char* matmul_default = "ggml");

/// "1,2, 3" -> {1, 2, 3}. Throws UsageError naming the bad entry.
std::vector<std::int32_t> parse_token_list(const std::string& text);

/// The input ids: --tokens as given, or --prompt encoded by the model's tokenizer (BOS added
/// when the model adds it, control tokens in the text matched). Exactly one of the two must be
/// given (boost::program_options::error otherwise).
struct InputTokens {
    std::vector<std::int32_t> ids;
    std::optional<std::string> prompt;  ///< the text, when --prompt
};
InputTokens input_tokens(const boost::program_options::variables_map& vm, const Model& model);

/// UsageError "--backend cuda cannot run here: <why>" when `backend` is cuda and the CUDA module,
/// runtime or device is missing (loads the module); nothing for cpu. The vm form reads --backend
/// (an unknown name is left to session_options).
void require_backend(BackendKind backend);
void require_backend(const boost::program_options::variables_map& vm);

/// SessionOptions from --matmul, --kv-type, --backend, --threads (UsageError for bad names;
/// require_backend for cuda).
SessionOptions session_options(const boost::program_options::variables_map& vm, int max_context);

/// Sets so.on_layer so that `line` follows a forward of `passes` passes of n_layers layers
/// ("token 3/64, layer 12/28"; "layer 12/28" for one pass). `line` must outlive the session.
void follow_layers(SessionOptions& so, ProgressLine& line, int n_layers, std::int64_t passes);

}  // namespace parity::cli
