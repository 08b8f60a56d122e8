#pragma once
// Private to the tokenizer: the pre-tokenizer that cuts text into words before BPE.

#include <cstddef>
#include <string_view>
#include <vector>

namespace parity::tok {

/// The split rules, named after llama.cpp's LLAMA_VOCAB_PRE_TYPE_*.
///   Llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///   Qwen2:  the same with \p{N} (one digit per word) instead of \p{N}{1,3}.
enum class SplitRule { Qwen2, Llama3 };

/// Cuts `text` (code points) into words; returns their lengths in code points, in order, summing
/// to text.size(). Follows llama.cpp's unicode_regex_split_custom_llama3; for Qwen2, llama.cpp
/// runs the regex through std::regex on a "collapsed" text (one byte per code point class), whose
/// matches are the same as this hand-written splitter's (see the .cpp).
std::vector<std::size_t> split_words(std::u32string_view text, SplitRule rule);

}  // namespace parity::tok
