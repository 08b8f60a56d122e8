// The synthetic models' byte-level BPE vocabulary: byte tokens, learned merges, control tokens.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>

#include "engine/error.h"
#include "engine/tokenizer/gpt2_bytes.h"
#include "engine/synth/synth.h"
#include "corpus.h"
#include "random.h"

namespace parity::synth {

namespace {

using Symbols = std::vector<std::string>;  // a word as BPE symbols (alphabet-encoded)

// Splits text roughly as GPT-2's pre-tokenizer does: an optional leading space joined to a
// run of letters, a single digit, or a run of punctuation; other whitespace on its own.
std::vector<std::string> pre_split(std::string_view text) {
    enum Class { Letter, Digit, Space, Other };
    auto cls = [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return std::isalpha(c) ? Letter : std::isdigit(c) ? Digit : std::isspace(c) ? Space : Other;
    };
    // A space directly before a non-space belongs to the next word.
    auto leads_word = [&](std::size_t k) { return text[k] == ' ' && k + 1 < text.size() && cls(text[k + 1]) != Space; };
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        if (leads_word(i)) ++i;
        const Class c = cls(text[i++]);
        if (c == Letter || c == Other) {
            while (i < text.size() && cls(text[i]) == c) ++i;
        } else if (c == Space) {
            while (i < text.size() && cls(text[i]) == Space && !leads_word(i)) ++i;
        }
        words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

Symbols to_symbols(const std::string& word) {
    Symbols s;
    for (char c : word) s.push_back(gpt2::byte_to_utf8(static_cast<std::uint8_t>(c)));
    return s;
}

// Learns up to `n_merges` merges from `words` (with counts): repeatedly merges the most
// frequent adjacent pair (ties broken by the pair's text, so the result is deterministic).
std::vector<std::pair<std::string, std::string>> learn_merges(std::map<std::string, int> word_counts, std::size_t n_merges) {
    std::vector<std::pair<Symbols, int>> words;
    for (const auto& [w, c] : word_counts) words.emplace_back(to_symbols(w), c);
    std::vector<std::pair<std::string, std::string>> merges;
    while (merges.size() < n_merges) {
        std::map<std::pair<std::string, std::string>, int> pairs;
        for (const auto& [syms, count] : words) {
            for (std::size_t k = 0; k + 1 < syms.size(); ++k) pairs[{syms[k], syms[k + 1]}] += count;
        }
        if (pairs.empty()) break;
        auto best = pairs.begin();
        for (auto it = pairs.begin(); it != pairs.end(); ++it) {
            if (it->second > best->second) best = it;
        }
        const auto [left, right] = best->first;
        merges.emplace_back(left, right);
        for (auto& [syms, count] : words) {
            Symbols merged;
            for (std::size_t k = 0; k < syms.size(); ++k) {
                if (k + 1 < syms.size() && syms[k] == left && syms[k + 1] == right) {
                    merged.push_back(left + right);
                    ++k;
                } else {
                    merged.push_back(syms[k]);
                }
            }
            syms = std::move(merged);
        }
    }
    return merges;
}

}  // namespace

TokenizerData make_vocabulary(const ModelShape& shape) {
    constexpr int kControl = 3;
    if (shape.n_vocab < 256 + kControl) throw UsageError("vocab must be at least 259 (256 bytes + 3 control tokens)");
    const auto n_merges = static_cast<std::size_t>(shape.n_vocab - 256 - kControl);

    TokenizerData v;
    v.model = "gpt2";
    std::set<std::string> known;
    for (std::uint8_t b : gpt2::vocabulary_byte_order()) {
        v.tokens.push_back(gpt2::byte_to_utf8(b));
        known.insert(v.tokens.back());
    }

    std::map<std::string, int> counts;
    for (const auto& w : pre_split(training_corpus())) ++counts[w];
    for (const auto& [left, right] : learn_merges(counts, n_merges)) {
        v.merges.push_back(left + " " + right);
        v.tokens.push_back(left + right);
        known.insert(left + right);
    }

    // Past what the text teaches, extend words by letters: a learned token (or a letter)
    // followed by a letter, chosen by a seeded generator. Every merge joins two existing
    // tokens into a new one, which is all BPE requires.
    std::vector<std::string> letters;
    for (char c = 'a'; c <= 'z'; ++c) letters.emplace_back(1, c);
    SplitMix64 rng(0x5eed5eed5eedULL);
    while (v.merges.size() < n_merges) {
        const std::size_t learned = v.tokens.size() - 256;
        const std::string left = (learned > 0 && rng.next() % 4 != 0)
                                      ? v.tokens[256 + rng.next() % learned]
                                      : letters[rng.next() % letters.size()];
        const std::string right = letters[rng.next() % letters.size()];
        if (left.size() > 24 || known.count(left + right)) continue;
        v.merges.push_back(left + " " + right);
        v.tokens.push_back(left + right);
        known.insert(left + right);
    }

    v.token_types.assign(v.tokens.size(), 1);
    const bool qwen = shape.arch.rfind("qwen", 0) == 0;  // qwen2, qwen3, qwen3moe
    const char* control[kControl] = {qwen ? "<|endoftext|>" : "<|begin_of_text|>", qwen ? "<|im_start|>" : "<|end_of_text|>",
                                     qwen ? "<|im_end|>" : "<|eot_id|>"};
    const auto first_control = static_cast<std::int64_t>(v.tokens.size());
    for (const char* c : control) {
        v.tokens.emplace_back(c);
        v.token_types.push_back(3);
    }
    v.bos = first_control;
    v.eos = qwen ? first_control : first_control + 1;
    if (qwen) v.padding = first_control;
    v.add_bos = !qwen;
    v.pre = qwen ? "qwen2" : "llama-bpe";
    return v;
}

}  // namespace parity::synth
