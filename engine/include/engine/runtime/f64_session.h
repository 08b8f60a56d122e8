#pragma once
// The float64 arbiter backend (`backend: f64`): the shared forward graph computed in double
// precision on the exact values of the stored weights (quant.h dequantize_row_exact), to tell
// which of two disagreeing float32 paths is closer to the model's mathematics.
//
//   matmul dequant  every activation and product in double; nothing is rounded to float.
//   matmul ggml     as dequant, but each matmul's input is first rounded as ggml's CPU rounds
//                   it (to the weight type's dot type: Q8_0, Q8_1, Q8_K, F16 or BF16, through
//                   float), so the arbiter shows what activation quantization alone costs.
//   kv_type f16     K and V rounded to f16 in the cache, and the query and the attention
//                   weights rounded to f16 for the two products, as llama.cpp's f16 cache.
//
// The float constants the graph hands every backend (the attention scale, gemma3's embedding
// scale, injected fault scales) are used as those floats, as llama.cpp passes them as float op
// parameters. MoE routing runs on the router logits rounded to float (route_token). GELU is
// the exact tanh formula, SiLU and the softmax exponentials are std::exp in double. Traces and
// stage tensors are the double values rounded to float; logits_f64() gives them unrounded.
//
// Speed: weights are decoded a row at a time for every pass (nothing is copied or kept), and
// the products are plain double loops, so a pass costs several times a CPU float pass.

#include <memory>
#include <span>

#include "engine/runtime/forward.h"

namespace parity {

class F64Session : public Session {
public:
    /// The logits of the last evaluate() in double, laid out as that call's logits span
    /// ([n_vocab] for LogitsWanted::Last, [n_tokens, n_vocab] for All; empty for None).
    virtual std::span<const double> logits_f64() const noexcept = 0;
};

/// An f64 session for `model` (which must outlive it); options.backend is ignored. UsageError
/// when a weight's type has no exact decoder, or (matmul ggml) no dot type.
std::unique_ptr<F64Session> create_f64_session(const Model& model, const SessionOptions& options);

}  // namespace parity
