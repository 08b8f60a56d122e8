#pragma once
// What the graph of a model's family understands of its file. A key or tensor that would change
// the math and that the graph does not implement is refused by name, so that a pass can never be
// silently wrong. Private to the model library.

#include <string>
#include <vector>

#include "engine/model/family.h"
#include "engine/model/model_file.h"

namespace parity::model_detail {

/// Throws UsageError naming the file and the first problem:
///  - a tensor of the file that is not in `read` (the tensors the graph reads), such as a bias
///    the family does not have;
///  - a GGUF key `<arch>.*` neither common to every family nor in the family's extra_keys (rope scaling other than none, logit
///    softcapping, sliding windows, experts, ...), or a value of a known key it cannot honour;
///  - in APR metadata, a softcapping field, rope_scaling other than linear, or a family field
///    (sliding_window, sliding_window_pattern, rope_local_base_freq, num_experts, ...) on a
///    family without it.
void refuse_what_is_not_understood(const ModelFile& file, const ModelConfig& config, const Family& family,
                                   const std::vector<std::string>& read);

}  // namespace parity::model_detail
