// Byte-level BPE merging with a priority queue of candidate pairs, O(n log n) per word.
//
// Symbols are interned strings (the 256 alphabet characters and every merge's parts and result),
// so a merge lookup is one hash probe on two integers. llama.cpp compares texts; since a symbol's
// text is determined by its position and length within the word, a queued pair is stale exactly
// when its left or right symbol has changed length, which is what is checked here.

#include "bpe.h"

#include <queue>

#include "engine/error.h"
#include "engine/tokenizer/gpt2_bytes.h"

namespace parity::tok {

BpeMerger::BpeMerger(const std::vector<std::string>& merges,
                     const std::unordered_map<std::string, std::int32_t>& token_ids) {
    for (unsigned b = 0; b < 256; ++b) byte_symbol_[b] = intern(gpt2::byte_to_utf8(static_cast<std::uint8_t>(b)));
    merges_.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
        const std::string& m = merges[i];
        const std::size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
        if (space == std::string::npos) continue;
        const std::string left = m.substr(0, space);
        const std::string right = m.substr(space + 1);
        const std::int32_t l = intern(left);
        const std::int32_t r = intern(right);
        const std::int32_t result = intern(left + right);
        merges_.try_emplace(pair_key(l, r), Merge{static_cast<std::int32_t>(i), result});
    }
    symbol_token_.resize(symbol_text_.size(), -1);
    for (std::size_t s = 0; s < symbol_text_.size(); ++s) {
        if (const auto it = token_ids.find(symbol_text_[s]); it != token_ids.end()) symbol_token_[s] = it->second;
    }
    symbol_ids_.clear();  // only needed while building
}

std::int32_t BpeMerger::intern(const std::string& text) {
    const auto [it, inserted] = symbol_ids_.try_emplace(text, static_cast<std::int32_t>(symbol_text_.size()));
    if (inserted) symbol_text_.push_back(text);
    return it->second;
}

void BpeMerger::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
    struct Symbol {
        std::int32_t id;
        std::int32_t prev;
        std::int32_t next;
        std::int32_t len;  ///< in bytes of the word; 0 once merged into its left neighbour
    };
    struct Candidate {
        std::int32_t rank;
        std::int32_t left;
        std::int32_t right;
        std::int32_t len;  ///< left.len + right.len when queued
        std::int32_t result;
        bool operator>(const Candidate& o) const noexcept {
            return rank != o.rank ? rank > o.rank : left > o.left;
        }
    };

    const auto n = static_cast<std::int32_t>(word.size());
    std::vector<Symbol> sym(word.size());
    for (std::int32_t i = 0; i < n; ++i) {
        sym[static_cast<std::size_t>(i)] = {byte_symbol_[static_cast<unsigned char>(word[static_cast<std::size_t>(i)])],
                                            i - 1, i + 1 < n ? i + 1 : -1, 1};
    }

    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto consider = [&](std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = sym[static_cast<std::size_t>(left)];
        const Symbol& r = sym[static_cast<std::size_t>(right)];
        const auto it = merges_.find(pair_key(l.id, r.id));
        if (it == merges_.end()) return;
        queue.push({it->second.rank, left, right, l.len + r.len, it->second.result});
    };
    for (std::int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& l = sym[static_cast<std::size_t>(c.left)];
        Symbol& r = sym[static_cast<std::size_t>(c.right)];
        if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;  // stale
        l.id = c.result;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = c.left;
        consider(l.prev, c.left);
        consider(c.left, l.next);
    }

    for (std::int32_t i = n > 0 ? 0 : -1; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
        const std::int32_t id = symbol_token_[static_cast<std::size_t>(sym[static_cast<std::size_t>(i)].id)];
        if (id < 0) {
            throw UsageError("tokenizer: BPE piece '" + symbol_text_[static_cast<std::size_t>(sym[static_cast<std::size_t>(i)].id)] +
                             "' is not in the vocabulary (the vocabulary lacks a byte token or a merge result)");
        }
        out.push_back(id);
    }
}

}  // namespace parity::tok
