#include "spm.h"

#include <algorithm>
#include <queue>

#include "engine/error.h"

namespace parity::tok {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// llama.cpp's unicode_len_utf8: the length a lead byte announces; continuation and invalid
// bytes count as one.
std::size_t utf8_length(unsigned char lead) noexcept {
    static constexpr std::array<std::uint8_t, 16> lengths = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lengths[lead >> 4];
}

// "<0xNN>", upper-case hex as llama.cpp's byte_to_token spells it.
std::string byte_token_text(unsigned char b) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

struct Symbol {
    int prev;
    int next;
    std::size_t offset;
    std::size_t n;  // 0 once merged into its left neighbour
};

struct Bigram {
    int left;
    int right;
    float score;
    std::size_t size;
};

// Highest score on top; among equal scores the leftmost pair.
struct LowerPriority {
    bool operator()(const Bigram& a, const Bigram& b) const noexcept {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

std::string escape_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == ' ') {
            out += kSpace;
        } else {
            out += c;
        }
    }
    return out;
}

std::string unescape_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text.substr(i, kSpace.size()) == kSpace) {
            out += ' ';
            i += kSpace.size();
        } else {
            out += text[i++];
        }
    }
    return out;
}

int parse_byte_token(std::string_view text) noexcept {
    if (text.size() != 6 || !text.starts_with("<0x") || text.back() != '>') return -1;
    const int hi = hex_digit(text[3]);
    const int lo = hex_digit(text[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

SpmMerger::SpmMerger(const std::vector<std::string>& tokens, const std::vector<float>& scores, std::int32_t unk)
    : scores_(scores), unk_(unk) {
    if (!scores_.empty() && scores_.size() < tokens.size()) {
        throw UsageError("tokenizer: scores has " + std::to_string(scores_.size()) + " entries for " +
                         std::to_string(tokens.size()) + " tokens");
    }
    if (scores_.empty()) scores_.assign(tokens.size(), 0.0f);
    ids_.reserve(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) ids_[tokens[i]] = static_cast<std::int32_t>(i);

    for (std::size_t b = 0; b < byte_token_.size(); ++b) {
        std::int32_t id = find(byte_token_text(static_cast<unsigned char>(b)));
        if (id < 0) id = find(std::string(1, static_cast<char>(b)));
        byte_token_[b] = id >= 0 ? id : unk_;
    }
}

std::int32_t SpmMerger::find(std::string_view text) const {
    const auto it = ids_.find(std::string(text));
    return it == ids_.end() ? -1 : it->second;
}

void SpmMerger::encode(std::string_view text, std::vector<std::int32_t>& out) const {
    if (text.empty()) return;
    std::vector<Symbol> symbols;
    for (std::size_t offset = 0; offset < text.size();) {
        const std::size_t n = std::min(utf8_length(static_cast<unsigned char>(text[offset])), text.size() - offset);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1, offset, n});
        offset += n;
    }

    std::priority_queue<Bigram, std::vector<Bigram>, LowerPriority> queue;
    const auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[static_cast<std::size_t>(left)];
        const std::size_t size = l.n + symbols[static_cast<std::size_t>(right)].n;
        const std::int32_t id = find(text.substr(l.offset, size));
        if (id >= 0) queue.push({left, right, scores_[static_cast<std::size_t>(id)], size});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& left = symbols[static_cast<std::size_t>(b.left)];
        Symbol& right = symbols[static_cast<std::size_t>(b.right)];
        // Stale: one side has been merged since the pair was queued.
        if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
        left.n += right.n;
        right.n = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[static_cast<std::size_t>(right.next)].prev = b.left;
        try_add(left.prev, b.left);
        try_add(b.left, left.next);
    }

    // Every merged piece is a token, so only unmerged characters can fall back to bytes
    // (llama.cpp's re-segmentation of merged pieces never applies).
    for (int i = 0; i != -1; i = symbols[static_cast<std::size_t>(i)].next) {
        const Symbol& s = symbols[static_cast<std::size_t>(i)];
        const std::string_view piece = text.substr(s.offset, s.n);
        if (const std::int32_t id = find(piece); id >= 0) {
            out.push_back(id);
            continue;
        }
        for (const char c : piece) {
            const std::int32_t id = byte_token_[static_cast<unsigned char>(c)];
            if (id < 0) {
                throw UsageError("tokenizer: byte " + byte_token_text(static_cast<unsigned char>(c)) +
                                 " has no token (neither that text nor the byte itself, and no unknown token)");
            }
            out.push_back(id);
        }
    }
}

}  // namespace parity::tok
