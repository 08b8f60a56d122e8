// The nesting pre-scan of harness/contract/yaml_limits.h: a small YAML lexer that knows just
// enough (quoted scalars, comments, block scalars) to count flow brackets as yaml-cpp would.

#include "harness/contract/yaml_limits.h"

namespace parity::contract {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// A quote starts a quoted scalar only where a scalar can start ("it's" is plain text).
bool token_start(char prev) {
    return prev == '\0' || prev == '[' || prev == '{' || prev == ',' || prev == ':' || prev == '-' || prev == '?';
}

// True when text[i] is a block scalar indicator: `|` or `>` after a space or at the start of
// the line, followed only by chomping/indentation indicators, then a comment or the line end.
bool block_indicator(std::string_view text, std::size_t i, char prev) {
    if (text[i] != '|' && text[i] != '>') return false;
    if (prev != '\0' && !(i > 0 && is_space(text[i - 1]))) return false;
    std::size_t j = i + 1;
    while (j < text.size() && (text[j] == '+' || text[j] == '-' || (text[j] >= '1' && text[j] <= '9'))) ++j;
    while (j < text.size() && is_space(text[j])) ++j;
    return j == text.size() || text[j] == '\n' || text[j] == '\r' || text[j] == '#';
}

}  // namespace

std::optional<Mark> find_too_deep_nesting(std::string_view text) {
    enum class State { Plain, Single, Double, Comment };
    State state = State::Plain;
    int depth = 0;
    int line = 1;
    std::size_t line_start = 0;
    char prev = '\0';            // last non-space character of this line outside quotes
    int indent = 0;              // this line's indentation
    int block_parent = -1;       // indentation of the line that opened a block scalar, or -1
    bool block_pending = false;  // this line ends with a block scalar indicator

    std::size_t i = 0;
    while (i < text.size()) {
        if (i == line_start) {
            indent = 0;
            while (i + static_cast<std::size_t>(indent) < text.size() && text[i + static_cast<std::size_t>(indent)] == ' ') {
                ++indent;
            }
            const std::size_t first = i + static_cast<std::size_t>(indent);
            const bool blank = first >= text.size() || text[first] == '\n' || text[first] == '\r';
            if (block_parent >= 0 && (blank || indent > block_parent)) {
                // A line of a block scalar: its text is content, skip it whole.
                const std::size_t nl = text.find('\n', i);
                if (nl == std::string_view::npos) break;
                i = nl + 1;
                line_start = i;
                ++line;
                continue;
            }
            block_parent = -1;
        }
        const char c = text[i];
        if (c == '\n') {
            if (state == State::Comment) state = State::Plain;
            if (block_pending && state == State::Plain) block_parent = indent;
            block_pending = false;
            prev = '\0';
            ++line;
            line_start = i + 1;
            ++i;
            continue;
        }
        switch (state) {
            case State::Comment: break;
            case State::Single:
                if (c == '\'') {
                    if (i + 1 < text.size() && text[i + 1] == '\'') {
                        ++i;  // '' is an escaped quote
                    } else {
                        state = State::Plain;
                        prev = c;
                    }
                }
                break;
            case State::Double:
                if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                    ++i;  // skip the escaped character (an escaped line break is counted above)
                } else if (c == '"') {
                    state = State::Plain;
                    prev = c;
                }
                break;
            case State::Plain:
                if (is_space(c) || c == '\r') break;
                if (c == '#' && (i == line_start || is_space(text[i - 1]))) {
                    state = State::Comment;
                    break;
                }
                if ((c == '\'' || c == '"') && token_start(prev)) {
                    state = c == '\'' ? State::Single : State::Double;
                    break;
                }
                if (depth == 0 && block_indicator(text, i, prev)) block_pending = true;
                if (c == '[' || c == '{') {
                    if (++depth > kMaxYamlFlowDepth) return Mark{line, static_cast<int>(i - line_start) + 1};
                } else if ((c == ']' || c == '}') && depth > 0) {
                    --depth;
                }
                prev = c;
                break;
        }
        ++i;
    }
    return std::nullopt;
}

}  // namespace parity::contract
