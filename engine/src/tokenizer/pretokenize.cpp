// The Llama-3 / Qwen2 pre-tokenizer regex, hand-written after llama.cpp's
// unicode_regex_split_custom_llama3 (src/unicode.cpp). Alternatives are tried in the regex's
// order at each position; every code point matches some alternative, so words tile the text.
//
// Why one splitter serves Qwen2 too: llama.cpp has no custom splitter for the Qwen2 regex and runs
// it through std::regex over a collapsed text (ASCII kept, other code points replaced by one byte
// per class: whitespace -> \v, letter, number, other). ECMAScript's ordered alternation with
// backtracking gives, alternative by alternative, what the code below does:
//   - \s*[\r\n]+ ends right after the last \r or \n of the whitespace run;
//   - \s+(?!\S) takes the run but its last code point when a non-space follows, else all of it;
//   - ' ?[^\s\p{L}\p{N}]+' also takes unassigned and control code points (llama.cpp's flags give
//     them a non-zero category, so its custom splitter agrees);
//   - a lone trailing space matches ' ?...' in the custom splitter and \s+ in the regex: one word
//     either way.
// The only difference is the digit rule: \p{N} for Qwen2, \p{N}{1,3} for Llama3.

#include "pretokenize.h"

#include "unicode.h"

namespace parity::tok {

namespace {

char32_t ascii_lower(char32_t c) noexcept { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

bool is_cr_or_lf(char32_t c) noexcept { return c == '\r' || c == '\n'; }

}  // namespace

std::vector<std::size_t> split_words(std::u32string_view text, SplitRule rule) {
    const std::size_t n = text.size();
    const std::size_t max_digits = rule == SplitRule::Llama3 ? 3 : 1;

    // Class lookups past the end answer false, as llama.cpp's _get_flags does.
    auto letter = [&](std::size_t p) { return p < n && is_letter(text[p]); };
    auto number = [&](std::size_t p) { return p < n && is_number(text[p]); };
    auto space = [&](std::size_t p) { return p < n && is_whitespace(text[p]); };
    auto other = [&](std::size_t p) { return p < n && !is_whitespace(text[p]) && unicode_class(text[p]) == UnicodeClass::Other; };

    std::vector<std::size_t> words;
    std::size_t prev_end = 0;
    auto emit = [&](std::size_t end) {
        if (end > prev_end) words.push_back(end - prev_end);
        prev_end = end;
    };

    std::size_t pos = 0;
    while (pos < n) {
        const char32_t c = text[pos];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d) -- ASCII case folding is exact here: no other code point
        // lowercases to one of these letters.
        if (c == '\'' && pos + 1 < n) {
            const char32_t c1 = ascii_lower(text[pos + 1]);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                pos += 2;
                emit(pos);
                continue;
            }
            if (pos + 2 < n) {
                const char32_t c2 = ascii_lower(text[pos + 2]);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    pos += 3;
                    emit(pos);
                    continue;
                }
            }
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!is_cr_or_lf(c) && !number(pos) && (letter(pos) || letter(pos + 1))) {
            ++pos;
            while (letter(pos)) ++pos;
            emit(pos);
            continue;
        }

        // \p{N}{1,3} (Llama3) or \p{N} (Qwen2)
        if (number(pos)) {
            std::size_t start = pos;
            while (number(pos)) {
                if (++pos - start >= max_digits) {
                    emit(pos);
                    start = pos;
                }
            }
            emit(pos);
            continue;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        if (const std::size_t q = c == ' ' ? pos + 1 : pos; other(q)) {
            pos = q;
            while (other(pos)) ++pos;
            while (pos < n && is_cr_or_lf(text[pos])) ++pos;
            emit(pos);
            continue;
        }

        std::size_t n_space = 0;
        std::size_t last_cr_lf_end = 0;
        while (space(pos + n_space)) {
            if (is_cr_or_lf(text[pos + n_space])) last_cr_lf_end = pos + n_space + 1;
            ++n_space;
        }
        if (last_cr_lf_end > 0) {  // \s*[\r\n]+
            pos = last_cr_lf_end;
        } else if (n_space > 1 && pos + n_space < n) {  // \s+(?!\S)
            pos += n_space - 1;
        } else if (n_space > 0) {  // \s+
            pos += n_space;
        } else {  // unreachable: every code point is a letter, number, space or other
            ++pos;
        }
        emit(pos);
    }
    return words;
}

}  // namespace parity::tok
