#include "diff_report.h"

#include <bit>
#include <cmath>
#include <cstdio>

namespace parity::cli {

namespace {

constexpr std::uint32_t kWholeModel = 0xFFFFFFFFu;

std::string sci(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6e", v);
    return buf;
}

std::string signed_sci(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.6e", static_cast<double>(v));
    return buf;
}

std::string fixed10(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10f", v);
    return buf;
}

std::string bits_hex(float v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(std::bit_cast<std::uint32_t>(v)));
    return buf;
}

std::string layer_text(std::uint32_t layer) {
    return layer == kWholeModel ? std::string("whole-model") : "layer " + std::to_string(layer);
}

/// A JSON number, or "nan" / "inf" / "-inf" (JSON has no such numbers).
nlohmann::json number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

std::string tolerance_text(const Tolerance& t) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "atol %g + rtol %g * |b|", t.atol, t.rtol);
    return std::string(buf) + (t.atol == 0.0 && t.rtol == 0.0 ? " (exact)" : "");
}

}  // namespace

std::size_t DiffReport::differing_pairs() const {
    std::size_t n = 0;
    for (const auto& p : pairs) n += p.diff.within_tolerance() ? 0 : 1;
    return n;
}

void write_diff_text(std::ostream& out, const DiffReport& r) {
    out << "A: " << r.a << "\nB: " << r.b << "\n";
    if (r.layout) out << "layout: " << *r.layout << "\n";
    out << "tolerance: " << tolerance_text(r.tolerance) << "\n\n";
    for (const auto& p : r.pairs) {
        const TensorDiff& d = p.diff;
        out << (d.within_tolerance() ? "ok      " : "DIFFERS ") << p.key << "  " << layer_text(p.layer) << "  n "
            << d.count << "  differing " << d.differing << "  outside " << d.outside << "  nan-mismatch "
            << d.nan_mismatches << "  max|d| " << sci(d.max_abs_diff) << " at [" << d.max_abs_diff_index
            << "]  rms(d) " << sci(d.rms_diff) << "  cosine " << fixed10(d.cosine) << "\n";
        for (const auto& e : d.top) {
            out << "    [" << e.index << "]  a " << signed_sci(e.a) << "  b " << signed_sci(e.b) << "  |d| "
                << (std::isnan(e.abs_diff) ? std::string("nan (") + bits_hex(e.a) + " vs " + bits_hex(e.b) + ")"
                                           : sci(e.abs_diff))
                << "\n";
        }
    }
    for (const auto& k : r.only_a) out << "only in A  " << k << "\n";
    for (const auto& k : r.only_b) out << "only in B  " << k << "\n";
    const std::size_t differ = r.differing_pairs();
    out << "\n"
        << r.pairs.size() << (r.pairs.size() == 1 ? " pair" : " pairs") << ": " << r.pairs.size() - differ
        << " within tolerance, " << differ << " differ";
    if (r.trees) out << "; " << r.only_a.size() << " only in A, " << r.only_b.size() << " only in B";
    out << "\n" << (r.all_within() ? "within tolerance" : "DIFFERS") << "\n";
}

nlohmann::json diff_json(const DiffReport& r) {
    using nlohmann::json;
    json pairs = json::array();
    for (const auto& p : r.pairs) {
        const TensorDiff& d = p.diff;
        json top = json::array();
        for (const auto& e : d.top) {
            top.push_back({{"index", e.index},
                           {"a", number(e.a)},
                           {"b", number(e.b)},
                           {"a_bits", bits_hex(e.a)},
                           {"b_bits", bits_hex(e.b)},
                           {"abs_diff", number(e.abs_diff)}});
        }
        pairs.push_back({{"key", p.key},
                         {"a_path", p.a_path},
                         {"b_path", p.b_path},
                         {"layer", p.layer == kWholeModel ? json("whole-model") : json(p.layer)},
                         {"count", d.count},
                         {"within_tolerance", d.within_tolerance()},
                         {"differing", d.differing},
                         {"outside_tolerance", d.outside},
                         {"nan_mismatches", d.nan_mismatches},
                         {"max_abs_diff", number(d.max_abs_diff)},
                         {"max_abs_diff_index", d.max_abs_diff_index},
                         {"rms_diff", number(d.rms_diff)},
                         {"cosine", number(d.cosine)},
                         {"top", top}});
    }
    const std::size_t differ = r.differing_pairs();
    return {{"schema", "pv-diff-v1"},
            {"a", r.a},
            {"b", r.b},
            {"kind", r.trees ? "trees" : "files"},
            {"layout", r.layout ? json(*r.layout) : json(nullptr)},
            {"atol", r.tolerance.atol},
            {"rtol", r.tolerance.rtol},
            {"top", r.top},
            {"pairs", pairs},
            {"only_in_a", r.only_a},
            {"only_in_b", r.only_b},
            {"summary",
             {{"pairs", r.pairs.size()},
              {"within_tolerance", r.pairs.size() - differ},
              {"differ", differ},
              {"only_in_a", r.only_a.size()},
              {"only_in_b", r.only_b.size()}}},
            {"within_tolerance", r.all_within()}};
}

}  // namespace parity::cli
