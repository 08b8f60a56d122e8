#include "special.h"

namespace parity::tok {

namespace {

bool is_c_space(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

std::vector<Fragment> partition_special(std::string_view text, const std::vector<SpecialToken>& specials) {
    std::vector<Fragment> fragments;
    if (text.empty()) return fragments;
    fragments.push_back({-1, 0, text.size()});

    std::vector<Fragment> next;
    for (const SpecialToken& st : specials) {
        if (st.text.empty() || text.find(st.text) == std::string_view::npos) continue;
        next.clear();
        for (const Fragment& f : fragments) {
            if (!f.is_text()) {
                next.push_back(f);
                continue;
            }
            std::size_t begin = f.offset;
            const std::size_t end = f.offset + f.length;
            const std::string_view window = text.substr(0, end);
            for (std::size_t match = window.find(st.text, begin); match != std::string_view::npos;
                 match = window.find(st.text, begin)) {
                std::size_t left_end = match;
                if (st.lstrip) {
                    while (left_end > begin && is_c_space(text[left_end - 1])) --left_end;
                }
                if (left_end > begin) next.push_back({-1, begin, left_end - begin});
                next.push_back({st.id, match, st.text.size()});
                begin = match + st.text.size();
                if (st.rstrip) {
                    while (begin < end && is_c_space(text[begin])) ++begin;
                }
            }
            if (begin < end) next.push_back({-1, begin, end - begin});
        }
        fragments.swap(next);
    }
    return fragments;
}

}  // namespace parity::tok
