#pragma once

#include <string_view>

namespace parity::synth {

/// English text the synthetic vocabulary learns its first BPE merges from.
std::string_view training_corpus() noexcept;

}  // namespace parity::synth
