// The YAML contract loader: yaml-cpp nodes -> the contract model, keeping every node's place.

#include "harness/contract/contract_loader.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sstream>
#include <unordered_map>

#include <yaml-cpp/yaml.h>

#include "engine/error.h"
#include "harness/contract/yaml_document.h"
#include "harness/contract/yaml_limits.h"

namespace parity::contract {

ContractParseError::ContractParseError(std::string file, Mark mark, std::string cause)
    : std::runtime_error(file + (mark.known() ? ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column)
                                              : std::string()) +
                         ": " + cause),
      file_(std::move(file)),
      mark_(mark),
      cause_(std::move(cause)) {}

namespace {

// Limits for walks over arbitrary values (aliases can make YAML graphs cyclic or exponential).
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxRenderChars = 400;
constexpr std::size_t kMaxParamNodes = 10000;

Mark mark_of(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    if (m.line < 0 || m.column < 0) return {};
    return {m.line + 1, m.column + 1};
}

/// Thrown when a walk over the document spends its YamlBudget (an alias bomb).
struct OverBudget {
    Mark mark;
};

/// Charges one visit of `n` (and its scalar's bytes) to `budget`.
void spend(YamlBudget& budget, const YAML::Node& n) {
    if (!budget.spend(n.IsScalar() ? n.Scalar().size() : 0)) throw OverBudget{mark_of(n)};
}

bool is_quoted(const YAML::Node& n) { return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str"; }

std::string kind_text(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsScalar()) return is_quoted(n) ? "the string \"" + n.Scalar() + "\"" : "`" + n.Scalar() + "`";
    if (n.IsSequence()) return "a list";
    return "a mapping";
}

std::optional<double> to_number(const YAML::Node& n) {
    if (!n.IsScalar() || is_quoted(n)) return std::nullopt;
    std::string_view t = n.Scalar();
    if (t == ".inf" || t == ".Inf" || t == ".INF" || t == "+.inf" || t == "+.Inf" || t == "+.INF") {
        return std::numeric_limits<double>::infinity();
    }
    if (t == "-.inf" || t == "-.Inf" || t == "-.INF") return -std::numeric_limits<double>::infinity();
    if (t == ".nan" || t == ".NaN" || t == ".NAN") return std::numeric_limits<double>::quiet_NaN();
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t.front())) || t.front() == '-' || t.front() == '.')) {
        return std::nullopt;  // from_chars would take "inf"/"nan", which YAML does not
    }
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, std::chars_format::general);
    if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
    return v;
}

std::optional<std::int64_t> to_int(const YAML::Node& n) {
    if (!n.IsScalar() || is_quoted(n)) return std::nullopt;
    std::string_view t = n.Scalar();
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 10);
    if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
    return v;
}

/// A bounded flow-style rendering of any value (for unknown keys).
void render(const YAML::Node& n, std::string& out, int depth, YamlBudget& budget) {
    if (out.size() > kMaxRenderChars) return;
    spend(budget, n);
    if (depth > kMaxDepth) {
        out += "...";
        return;
    }
    if (!n.IsDefined() || n.IsNull()) {
        out += "null";
    } else if (n.IsScalar()) {
        const bool q = is_quoted(n);
        if (q) out += '"';
        out += n.Scalar();
        if (q) out += '"';
    } else if (n.IsSequence()) {
        out += '[';
        bool first = true;
        for (const auto& item : n) {
            if (!first) out += ", ";
            first = false;
            render(item, out, depth + 1, budget);
            if (out.size() > kMaxRenderChars) break;
        }
        out += ']';
    } else {
        out += '{';
        bool first = true;
        for (const auto& kv : n) {
            if (!first) out += ", ";
            first = false;
            render(kv.first, out, depth + 1, budget);
            out += ": ";
            render(kv.second, out, depth + 1, budget);
            if (out.size() > kMaxRenderChars) break;
        }
        out += '}';
    }
}

std::string rendered(const YAML::Node& n, YamlBudget& budget) {
    std::string s;
    render(n, s, 0, budget);
    if (s.size() > kMaxRenderChars) s = s.substr(0, kMaxRenderChars) + "...";
    return s;
}

/// One member of a mapping.
struct Entry {
    std::string key;
    Mark key_mark;
    YAML::Node value;
    Mark value_mark;  ///< the value's place, or the key's when the value is empty
};

/// How one key of a section is read: its name, an optional alias, and the reader.
struct Key {
    std::string_view name;
    std::string_view alias;
    std::function<void(const Entry&)> read;
};

class Loader {
public:
    Loader(Contract& c, YamlBudget& budget) : c_(c), budget_(budget) {}

    void load(const YAML::Node& root) {
        if (!root.IsDefined() || root.IsNull()) {
            error("SCHEMA-101", "the document is empty: a contract needs at least `metadata` (version, description, "
                                "references)",
                  {});
            return;
        }
        if (!root.IsMap()) {
            error("SCHEMA-102", "a contract must be a mapping at the top level, got " + kind_text(root), mark_of(root));
            return;
        }
        read_mapping(root, "", {
            {"metadata", "", [&](const Entry& e) { read_metadata(e); }},
            {"equations", "", [&](const Entry& e) { read_equations(e); }},
            {"proof_obligations", "", [&](const Entry& e) { read_list(e, c_.proof_obligations, [&](const Entry& item, std::size_t i) { return read_obligation(item, i); }); }},
            {"falsification_tests", "", [&](const Entry& e) { read_list(e, c_.falsification_tests, [&](const Entry& item, std::size_t i) { return read_test(item, i); }); }},
            {"kani_harnesses", "", [&](const Entry& e) { read_list(e, c_.kani_harnesses, [&](const Entry& item, std::size_t i) { return read_kani(item, i); }); }},
            {"qa_gate", "", [&](const Entry& e) { read_qa_gate(e); }},
            {"verification_summary", "", [&](const Entry& e) { read_verification_summary(e); }},
            {"kernel_structure", "", [&](const Entry& e) { read_kernel_structure(e); }},
            {"simd_dispatch", "", [&](const Entry& e) { read_simd_dispatch(e); }},
            {"enforcement", "", [&](const Entry& e) { read_enforcement(e); }},
            {"type_invariants", "", [&](const Entry& e) { read_list(e, c_.type_invariants, [&](const Entry& item, std::size_t i) { return read_type_invariant(item, i); }); }},
            {"coq_spec", "", [&](const Entry& e) { opaque(e); }},
            {"beat", "", [&](const Entry& e) { opaque(e); }},
            {"parity", "", [&](const Entry& e) { opaque(e); }},
        });
        if (!c_.metadata.present) {
            error("SCHEMA-101", "missing `metadata` (a mapping with version, description and references)", {});
        }
    }

private:
    // -- findings --------------------------------------------------------------------------

    void error(const std::string& rule, std::string message, Mark mark) {
        c_.load_findings.push_back({Severity::Error, rule, std::move(message), mark});
    }
    void warn(const std::string& rule, std::string message, Mark mark) {
        c_.load_findings.push_back({Severity::Warning, rule, std::move(message), mark});
    }
    static std::string at(std::string_view section, std::string_view key) {
        return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
    }
    void wrong_type(const std::string& where, const std::string& expected, const YAML::Node& got, Mark mark) {
        error("SCHEMA-102", "`" + where + "` must be " + expected + ", got " + kind_text(got), mark);
    }
    void missing(const std::string& section, std::string_view key, Mark mark, std::string_view what = {}) {
        error("SCHEMA-101", "`" + section + "` is missing the required key `" + std::string(key) + "`" +
                                (what.empty() ? std::string() : " (" + std::string(what) + ")"),
              mark);
    }

    // -- mappings --------------------------------------------------------------------------

    /// The members of a mapping, in file order; duplicates (SCHEMA-104) and non-string keys
    /// (SCHEMA-102) are reported and left out.
    std::vector<Entry> entries(const YAML::Node& map, const std::string& section) {
        std::vector<Entry> out;
        std::unordered_map<std::string, int> first_line;  // a set, not a scan: maps may be huge
        for (const auto& kv : map) {
            spend(budget_, kv.first);
            spend(budget_, kv.second);
            const Mark key_mark = mark_of(kv.first);
            if (!kv.first.IsScalar()) {
                error("SCHEMA-102", "a key in `" + (section.empty() ? std::string("the top level") : section) +
                                        "` must be a string, got " + kind_text(kv.first),
                      key_mark);
                continue;
            }
            Entry e{kv.first.Scalar(), key_mark, kv.second, {}};
            e.value_mark = (kv.second.IsNull() || !mark_of(kv.second).known()) ? key_mark : mark_of(kv.second);
            const auto [it, fresh] = first_line.emplace(e.key, key_mark.line);
            if (!fresh) {
                error("SCHEMA-104", "duplicate key `" + at(section, e.key) + "` (first at line " +
                                        std::to_string(it->second) + "); YAML tools keep only one of them",
                      key_mark);
                continue;
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    /// Reads a mapping with the given keys; anything else is kept as an unknown key.
    void read_mapping(const YAML::Node& map, const std::string& section, const std::vector<Key>& keys) {
        std::vector<std::pair<const Key*, const Entry*>> seen;
        const std::vector<Entry> es = entries(map, section);
        for (const auto& e : es) {
            const Key* k = nullptr;
            for (const auto& cand : keys) {
                if (cand.name == e.key || (!cand.alias.empty() && cand.alias == e.key)) k = &cand;
            }
            if (k == nullptr) {
                unknown(section, e);
                continue;
            }
            const Entry* earlier = nullptr;
            for (const auto& [sk, se] : seen) {
                if (sk == k) earlier = se;
            }
            if (earlier != nullptr) {
                error("SCHEMA-105", "`" + at(section, e.key) + "` and `" + earlier->key + "` (line " +
                                        std::to_string(earlier->key_mark.line) + ") are the same field (`" +
                                        std::string(k->alias) + "` is an alias of `" + std::string(k->name) +
                                        "`); give only one",
                      e.key_mark);
                continue;
            }
            seen.emplace_back(k, &e);
            k->read(e);
        }
    }

    void unknown(const std::string& section, const Entry& e) {
        const std::string where = section.empty() ? std::string("at the top level") : "in `" + section + "`";
        warn("SCHEMA-100", "unknown key `" + e.key + "` " + where + " (not part of the contract schema; upstream pv "
                           "drops it silently)",
             e.key_mark);
        c_.unknown_keys.push_back({section, e.key, e.key_mark, rendered(e.value, budget_)});
    }

    void opaque(const Entry& e) { c_.opaque_sections.push_back({e.key, e.key_mark, rendered(e.value, budget_)}); }

    /// True when `e` holds a mapping; reports SCHEMA-102 otherwise (a null counts as wrong).
    bool expect_map(const Entry& e, const std::string& where) {
        if (e.value.IsMap()) return true;
        wrong_type(where, "a mapping", e.value, e.value_mark);
        return false;
    }

    template <class T>
    static void touch(Field<T>& f, const Entry& e) {
        f.present = true;
        f.key = e.key;
        f.mark = e.key_mark;
        f.value_mark = e.value_mark;
    }

    // -- scalar fields ---------------------------------------------------------------------

    /// A string; an empty value (`key:`) reads as "". `required_string`: upstream's field is a
    /// plain String (not an Option), so upstream rejects a null there.
    void text(const Entry& e, Text& out, const std::string& where, bool required_string = false) {
        touch(out, e);
        if (e.value.IsNull()) {
            if (required_string) {
                warn("SCHEMA-106", "`" + where + "` has no value; upstream pv rejects a null here (write \"\" or a "
                                   "value)",
                     e.key_mark);
            }
            return;
        }
        if (e.value.IsScalar()) {
            out.value = e.value.Scalar();
            not_a_yaml_string(e.value, where);
            return;
        }
        wrong_type(where, "a string", e.value, e.value_mark);
    }

    /// SCHEMA-106: a plain scalar that YAML 1.2 (upstream's serde_yaml) reads as a number or a
    /// boolean where the schema wants a string: we take its text, upstream rejects the file.
    void not_a_yaml_string(const YAML::Node& n, const std::string& where) {
        if (!n.IsScalar() || n.Tag() != "?") return;
        const std::string& t = n.Scalar();
        const bool is_bool = t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE";
        if (!is_bool && !to_number(n)) return;
        warn("SCHEMA-106", "`" + where + "` is the YAML " + (is_bool ? "boolean" : "number") + " " + t +
                               "; upstream pv expects a string here and rejects the file (quote it: \"" + t + "\")",
             mark_of(n));
    }

    /// A list of strings; an empty value reads as the empty list.
    void text_list(const Entry& e, TextList& out, const std::string& where) {
        touch(out, e);
        if (e.value.IsNull()) return;
        if (!e.value.IsSequence()) {
            wrong_type(where, "a list of strings", e.value, e.value_mark);
            return;
        }
        std::size_t i = 0;
        for (const auto& item : e.value) {
            spend(budget_, item);
            Text t;
            t.present = true;
            t.mark = t.value_mark = mark_of(item);
            if (item.IsScalar()) {
                t.value = item.Scalar();
                not_a_yaml_string(item, where + "[" + std::to_string(i) + "]");
                out.value.push_back(std::move(t));
            } else {
                wrong_type(where + "[" + std::to_string(i) + "]", "a string", item, mark_of(item));
            }
            ++i;
        }
    }

    /// A number; an empty value means "not given".
    void number(const Entry& e, Field<double>& out, const std::string& where) {
        if (e.value.IsNull()) return;
        touch(out, e);
        const auto d = to_number(e.value);
        if (!d || !std::isfinite(*d)) {
            out.present = false;
            wrong_type(where, "a finite number", e.value, e.value_mark);
            return;
        }
        out.value = *d;
    }

    /// An unsigned 32-bit integer (counts, bounds); an empty value means "not given".
    void count(const Entry& e, Field<std::int64_t>& out, const std::string& where) {
        if (e.value.IsNull()) return;
        touch(out, e);
        const auto i = to_int(e.value);
        if (!i || *i < 0 || *i > std::numeric_limits<std::uint32_t>::max()) {
            out.present = false;
            wrong_type(where, "an integer in [0, 4294967295]", e.value, e.value_mark);
            return;
        }
        out.value = *i;
    }

    void boolean(const Entry& e, Field<bool>& out, const std::string& where) {
        if (e.value.IsNull()) return;
        touch(out, e);
        if (e.value.IsScalar() && !is_quoted(e.value)) {
            const std::string& t = e.value.Scalar();
            if (t == "true" || t == "True" || t == "TRUE") {
                out.value = true;
                return;
            }
            if (t == "false" || t == "False" || t == "FALSE") {
                out.value = false;
                return;
            }
        }
        out.present = false;
        wrong_type(where, "true or false", e.value, e.value_mark);
    }

    /// One value of an enumeration (SCHEMA-103 when it is not one of them).
    template <class E>
    void enumeration(const Entry& e, Field<E>& out, const std::string& where,
                     std::optional<E> (*parse)(std::string_view), const std::vector<std::string_view>& names) {
        if (e.value.IsNull()) return;
        touch(out, e);
        out.present = false;
        if (!e.value.IsScalar()) {
            wrong_type(where, "one of " + join(names), e.value, e.value_mark);
            return;
        }
        const std::string& s = e.value.Scalar();
        if (const auto v = parse(s)) {
            out.value = *v;
            out.present = true;
            return;
        }
        const std::vector<std::string> candidates(names.begin(), names.end());
        const std::string hint = falsifiers::closest_name(s, candidates);
        error("SCHEMA-103", "`" + where + "` is `" + s + "`, which is not one of " + join(names) +
                                (hint.empty() ? std::string() : " (did you mean `" + hint + "`?)"),
              e.value_mark);
    }

    static std::string join(const std::vector<std::string_view>& names) {
        std::string s;
        for (const auto& n : names) {
            if (!s.empty()) s += ", ";
            s += n;
        }
        return s;
    }

    // -- lists -----------------------------------------------------------------------------

    /// A list of mappings, each read by `item` (which gets the item as an Entry and its index).
    template <class T, class F>
    void read_list(const Entry& e, Field<std::vector<T>>& out, F item) {
        touch(out, e);
        if (e.value.IsNull()) return;
        if (!e.value.IsSequence()) {
            wrong_type(e.key, "a list", e.value, e.value_mark);
            return;
        }
        std::size_t i = 0;
        for (const auto& node : e.value) {
            spend(budget_, node);
            const std::string where = e.key + "[" + std::to_string(i) + "]";
            Entry it{where, mark_of(node), node, mark_of(node)};
            if (!node.IsMap()) {
                wrong_type(where, "a mapping", node, mark_of(node));
            } else {
                out.value.push_back(item(it, i));
            }
            ++i;
        }
    }

    // -- sections --------------------------------------------------------------------------

    void read_metadata(const Entry& e) {
        touch(c_.metadata, e);
        Metadata& m = c_.metadata.value;
        m.mark = e.key_mark;
        if (!expect_map(e, "metadata")) return;
        const std::string s = "metadata";
        read_mapping(e.value, s, {
            {"version", "", [&](const Entry& x) { text(x, m.version, at(s, x.key), true); }},
            {"description", "", [&](const Entry& x) { text(x, m.description, at(s, x.key), true); }},
            {"created", "", [&](const Entry& x) { text(x, m.created, at(s, x.key)); }},
            {"author", "", [&](const Entry& x) { text(x, m.author, at(s, x.key)); }},
            {"references", "", [&](const Entry& x) { text_list(x, m.references, at(s, x.key)); }},
            {"depends_on", "", [&](const Entry& x) { text_list(x, m.depends_on, at(s, x.key)); }},
            {"registry", "", [&](const Entry& x) { boolean(x, m.registry, at(s, x.key)); }},
            {"kind", "", [&](const Entry& x) { enumeration(x, m.kind, at(s, x.key), parse_contract_kind, contract_kind_names()); }},
            {"enforcement_level", "", [&](const Entry& x) { enumeration(x, m.enforcement_level, at(s, x.key), parse_enforcement_level, enforcement_level_names()); }},
            {"locked_level", "", [&](const Entry& x) { text(x, m.locked_level, at(s, x.key)); }},
        });
        if (!m.version.present) missing(s, "version", e.key_mark);
        if (!m.description.present) missing(s, "description", e.key_mark);
    }

    void read_equation_body(const YAML::Node& map, Equation& q, const std::string& s, bool list_form) {
        std::vector<Key> keys = {
            {"formula", "", [&](const Entry& x) { text(x, q.formula, at(s, x.key), true); }},
            {"domain", "", [&](const Entry& x) { text(x, q.domain, at(s, x.key)); }},
            {"codomain", "", [&](const Entry& x) { text(x, q.codomain, at(s, x.key)); }},
            {"invariants", "", [&](const Entry& x) { text_list(x, q.invariants, at(s, x.key)); }},
            {"preconditions", "", [&](const Entry& x) { text_list(x, q.preconditions, at(s, x.key)); }},
            {"postconditions", "", [&](const Entry& x) { text_list(x, q.postconditions, at(s, x.key)); }},
            {"lean_theorem", "", [&](const Entry& x) { text(x, q.lean_theorem, at(s, x.key)); }},
            {"float_tolerance", "", [&](const Entry& x) { number(x, q.float_tolerance, at(s, x.key)); }},
        };
        if (list_form) keys.push_back({"id", "", [](const Entry&) {}});
        read_mapping(map, s, keys);
    }

    void read_equations(const Entry& e) {
        touch(c_.equations_as_list, e);
        if (e.value.IsNull()) return;
        if (e.value.IsMap()) {
            for (const auto& x : entries(e.value, "equations")) {
                Equation q;
                q.name = x.key;
                q.mark = x.key_mark;
                const std::string s = "equations." + x.key;
                if (x.value.IsMap()) {
                    read_equation_body(x.value, q, s, false);
                } else {
                    wrong_type(s, "a mapping (formula, domain, codomain, invariants)", x.value, x.value_mark);
                }
                c_.equations.push_back(std::move(q));
            }
            return;
        }
        if (!e.value.IsSequence()) {
            wrong_type("equations", "a mapping of name -> equation, or a list of equations with `id`", e.value,
                       e.value_mark);
            return;
        }
        c_.equations_as_list.value = true;
        std::unordered_map<std::string, int> first_line;
        std::size_t i = 0;
        for (const auto& node : e.value) {
            spend(budget_, node);
            const std::string where = "equations[" + std::to_string(i) + "]";
            Equation q;
            q.mark = mark_of(node);
            q.name = "equation_" + std::to_string(i);  // upstream's name for an item without `id`
            if (!node.IsMap()) {
                wrong_type(where, "a mapping with `id` and `formula`", node, mark_of(node));
                ++i;
                continue;
            }
            const YAML::Node id = node["id"];
            if (id.IsDefined() && id.IsScalar()) q.name = id.Scalar();
            if (const auto [it, fresh] = first_line.emplace(q.name, q.mark.line); !fresh) {
                error("SCHEMA-104", "equation id `" + q.name + "` is used twice (first at line " +
                                        std::to_string(it->second) + ")",
                      q.mark);
            }
            read_equation_body(node, q, where, true);
            c_.equations.push_back(std::move(q));
            ++i;
        }
    }

    ProofObligation read_obligation(const Entry& item, std::size_t) {
        ProofObligation o;
        o.mark = item.key_mark;
        const std::string& s = item.key;
        read_mapping(item.value, s, {
            {"type", "", [&](const Entry& x) { enumeration(x, o.type, at(s, x.key), parse_obligation_type, obligation_type_names()); }},
            {"property", "statement", [&](const Entry& x) { text(x, o.property, at(s, x.key), true); }},
            {"formal", "verification", [&](const Entry& x) { text(x, o.formal, at(s, x.key)); }},
            {"tolerance", "", [&](const Entry& x) { number(x, o.tolerance, at(s, x.key)); }},
            {"applies_to", "", [&](const Entry& x) { text(x, o.applies_to, at(s, x.key)); }},
            {"lean", "", [&](const Entry& x) { read_lean(x, o, at(s, x.key)); }},
            {"requires", "", [&](const Entry& x) { text(x, o.requires_precondition, at(s, x.key)); }},
            {"applies_to_phase", "", [&](const Entry& x) { text(x, o.applies_to_phase, at(s, x.key)); }},
            {"parent_contract", "", [&](const Entry& x) { text(x, o.parent_contract, at(s, x.key)); }},
        });
        return o;
    }

    void read_lean(const Entry& e, ProofObligation& o, const std::string& s) {
        if (e.value.IsNull()) return;
        if (!expect_map(e, s)) return;
        LeanProof l;
        l.mark = e.key_mark;
        read_mapping(e.value, s, {
            {"theorem", "", [&](const Entry& x) { text(x, l.theorem, at(s, x.key), true); }},
            {"module", "", [&](const Entry& x) { text(x, l.module, at(s, x.key)); }},
            {"status", "", [&](const Entry& x) { enumeration(x, l.status, at(s, x.key), parse_lean_status, lean_status_names()); }},
            {"depends_on", "", [&](const Entry& x) { text_list(x, l.depends_on, at(s, x.key)); }},
            {"mathlib_imports", "", [&](const Entry& x) { text_list(x, l.mathlib_imports, at(s, x.key)); }},
            {"notes", "", [&](const Entry& x) { text(x, l.notes, at(s, x.key)); }},
        });
        if (!l.theorem.present) missing(s, "theorem", e.key_mark);
        o.lean = std::move(l);
    }

    FalsificationTest read_test(const Entry& item, std::size_t) {
        FalsificationTest t;
        t.mark = item.key_mark;
        const std::string& s = item.key;
        read_mapping(item.value, s, {
            {"id", "", [&](const Entry& x) { text(x, t.id, at(s, x.key), true); }},
            {"rule", "description", [&](const Entry& x) { text(x, t.rule, at(s, x.key), true); }},
            {"prediction", "expected", [&](const Entry& x) { text(x, t.prediction, at(s, x.key), true); }},
            {"test", "command", [&](const Entry& x) { text(x, t.test, at(s, x.key)); }},
            {"if_fails", "fails_if", [&](const Entry& x) { text(x, t.if_fails, at(s, x.key), true); }},
            {"test_harness", "", [&](const Entry& x) { text(x, t.test_harness, at(s, x.key)); }},
            {"name", "", [&](const Entry& x) { text(x, t.name, at(s, x.key)); }},
            {"harness", "", [&](const Entry& x) { read_harness(x, t, at(s, x.key)); }},
        });
        if (!t.id.present) missing(s, "id", item.key_mark);
        return t;
    }

    void read_harness(const Entry& e, FalsificationTest& t, const std::string& s) {
        HarnessBinding h;
        h.mark = e.key_mark;
        std::size_t budget = kMaxParamNodes;
        bool overflow = false;
        h.block = to_param(e.value, e.value_mark, 0, budget, overflow);
        if (overflow) {
            error("SCHEMA-102", "`" + s + "` is too large or nests too deeply (more than " +
                                    std::to_string(kMaxParamNodes) + " values or " + std::to_string(kMaxDepth) +
                                    " levels; a cyclic alias?)",
                  e.key_mark);
        }
        if (const falsifiers::ParamNode* f = h.block.find("falsifier"); f != nullptr) {
            h.falsifier.present = true;
            h.falsifier.key = "falsifier";
            h.falsifier.value_mark = {f->pos.line, f->pos.column};
            for (const auto& m : h.block.members) {
                if (m.key == "falsifier") h.falsifier.mark = {m.key_pos.line, m.key_pos.column};
            }
            if (f->kind == falsifiers::ParamNode::Kind::Scalar) h.falsifier.value = f->text;
        }
        t.harness = std::move(h);
    }

    /// Converts a YAML value into the registry's parameter tree. Bounded in depth and size:
    /// aliases can make the YAML graph cyclic or exponentially large; `overflow` then says so.
    falsifiers::ParamNode to_param(const YAML::Node& n, Mark fallback, int depth, std::size_t& budget,
                                   bool& overflow) {
        falsifiers::ParamNode p;
        const Mark m = (n.IsNull() || !mark_of(n).known()) ? fallback : mark_of(n);
        p.pos = {m.line, m.column};
        if (budget == 0 || depth > kMaxDepth) {
            overflow = true;
            return p;
        }
        --budget;
        spend(budget_, n);
        if (!n.IsDefined() || n.IsNull()) return p;
        if (n.IsScalar()) {
            p.kind = falsifiers::ParamNode::Kind::Scalar;
            p.text = n.Scalar();
            p.quoted = is_quoted(n);
            return p;
        }
        if (n.IsSequence()) {
            p.kind = falsifiers::ParamNode::Kind::Sequence;
            for (const auto& item : n) {
                if (overflow) break;
                p.items.push_back(to_param(item, m, depth + 1, budget, overflow));
            }
            return p;
        }
        p.kind = falsifiers::ParamNode::Kind::Mapping;
        for (const auto& kv : n) {
            if (overflow) break;
            spend(budget_, kv.first);
            const Mark km = mark_of(kv.first);
            if (!kv.first.IsScalar()) {
                error("SCHEMA-102", "a key in a `harness` block must be a string, got " + kind_text(kv.first), km);
                continue;
            }
            p.members.push_back(
                {kv.first.Scalar(), {km.line, km.column}, to_param(kv.second, km, depth + 1, budget, overflow)});
        }
        return p;
    }

    KaniHarness read_kani(const Entry& item, std::size_t) {
        KaniHarness k;
        k.mark = item.key_mark;
        const std::string& s = item.key;
        read_mapping(item.value, s, {
            {"id", "", [&](const Entry& x) { text(x, k.id, at(s, x.key), true); }},
            {"obligation", "", [&](const Entry& x) { text(x, k.obligation, at(s, x.key), true); }},
            {"property", "", [&](const Entry& x) { text(x, k.property, at(s, x.key)); }},
            {"bound", "", [&](const Entry& x) { count(x, k.bound, at(s, x.key)); }},
            {"strategy", "", [&](const Entry& x) { enumeration(x, k.strategy, at(s, x.key), parse_kani_strategy, kani_strategy_names()); }},
            {"solver", "", [&](const Entry& x) { text(x, k.solver, at(s, x.key)); }},
            {"harness", "", [&](const Entry& x) { text(x, k.harness, at(s, x.key)); }},
            {"actually_verified", "", [&](const Entry& x) { boolean(x, k.actually_verified, at(s, x.key)); }},
        });
        if (!k.id.present) missing(s, "id", item.key_mark);
        if (!k.obligation.present) missing(s, "obligation", item.key_mark, "the proof obligation this harness proves");
        return k;
    }

    void read_qa_gate(const Entry& e) {
        if (e.value.IsNull()) return;  // `qa_gate:` with nothing is no gate
        if (!expect_map(e, "qa_gate")) return;
        QaGate g;
        g.mark = e.key_mark;
        const std::string s = "qa_gate";
        read_mapping(e.value, s, {
            {"id", "", [&](const Entry& x) { text(x, g.id, at(s, x.key), true); }},
            {"name", "", [&](const Entry& x) { text(x, g.name, at(s, x.key), true); }},
            {"description", "", [&](const Entry& x) { text(x, g.description, at(s, x.key)); }},
            {"checks", "", [&](const Entry& x) { text_list(x, g.checks, at(s, x.key)); }},
            {"pass_criteria", "", [&](const Entry& x) { text(x, g.pass_criteria, at(s, x.key)); }},
            {"falsification", "", [&](const Entry& x) { text(x, g.falsification, at(s, x.key)); }},
        });
        c_.qa_gate = std::move(g);
    }

    void read_verification_summary(const Entry& e) {
        if (e.value.IsNull()) return;
        if (!expect_map(e, "verification_summary")) return;
        VerificationSummary v;
        v.mark = e.key_mark;
        const std::string s = "verification_summary";
        read_mapping(e.value, s, {
            {"total_obligations", "", [&](const Entry& x) { count(x, v.total_obligations, at(s, x.key)); }},
            {"l2_property_tested", "", [&](const Entry& x) { count(x, v.l2_property_tested, at(s, x.key)); }},
            {"l3_kani_proved", "", [&](const Entry& x) { count(x, v.l3_kani_proved, at(s, x.key)); }},
            {"l4_lean_proved", "", [&](const Entry& x) { count(x, v.l4_lean_proved, at(s, x.key)); }},
            {"l4_sorry_count", "", [&](const Entry& x) { count(x, v.l4_sorry_count, at(s, x.key)); }},
            {"l4_not_applicable", "", [&](const Entry& x) { count(x, v.l4_not_applicable, at(s, x.key)); }},
        });
        if (!v.total_obligations.present) missing(s, "total_obligations", e.key_mark);
        c_.verification_summary = std::move(v);
    }

    void read_kernel_structure(const Entry& e) {
        if (e.value.IsNull()) return;
        if (!expect_map(e, "kernel_structure")) return;
        KernelStructure k;
        k.mark = e.key_mark;
        const std::string s = "kernel_structure";
        read_mapping(e.value, s, {
            {"phases", "", [&](const Entry& x) {
                 Field<std::vector<KernelPhase>>& phases = k.phases;
                 Entry named = x;
                 named.key = at(s, x.key);
                 read_list(named, phases, [&](const Entry& item, std::size_t) {
                     KernelPhase p;
                     p.mark = item.key_mark;
                     const std::string& ps = item.key;
                     read_mapping(item.value, ps, {
                         {"name", "", [&](const Entry& y) { text(y, p.name, at(ps, y.key), true); }},
                         {"description", "", [&](const Entry& y) { text(y, p.description, at(ps, y.key), true); }},
                         {"invariant", "", [&](const Entry& y) { text(y, p.invariant, at(ps, y.key)); }},
                     });
                     if (!p.name.present) missing(ps, "name", item.key_mark);
                     if (!p.description.present) missing(ps, "description", item.key_mark);
                     return p;
                 });
             }},
        });
        if (!k.phases.present) missing(s, "phases", e.key_mark);
        c_.kernel_structure = std::move(k);
    }

    void read_simd_dispatch(const Entry& e) {
        if (e.value.IsNull()) return;
        if (!expect_map(e, "simd_dispatch")) return;
        for (const auto& op : entries(e.value, "simd_dispatch")) {
            SimdDispatch d;
            d.mark = op.key_mark;
            d.op = op.key;
            const std::string s = "simd_dispatch." + op.key;
            if (!expect_map(op, s)) continue;
            for (const auto& v : entries(op.value, s)) {
                Text key, fn;
                touch(key, v);
                key.value = v.key;
                text(v, fn, at(s, v.key));
                d.variants.emplace_back(std::move(key), std::move(fn));
            }
            c_.simd_dispatch.push_back(std::move(d));
        }
    }

    void read_enforcement(const Entry& e) {
        if (e.value.IsNull()) return;
        if (!expect_map(e, "enforcement")) return;
        for (const auto& x : entries(e.value, "enforcement")) {
            EnforcementRule r;
            r.mark = x.key_mark;
            r.name = x.key;
            const std::string s = "enforcement." + x.key;
            if (!expect_map(x, s)) continue;
            read_mapping(x.value, s, {
                {"description", "", [&](const Entry& y) { text(y, r.description, at(s, y.key), true); }},
                {"check", "", [&](const Entry& y) { text(y, r.check, at(s, y.key)); }},
                {"severity", "", [&](const Entry& y) { text(y, r.severity, at(s, y.key)); }},
                {"reference", "", [&](const Entry& y) { text(y, r.reference, at(s, y.key)); }},
            });
            if (!r.description.present) missing(s, "description", x.key_mark);
            c_.enforcement.push_back(std::move(r));
        }
    }

    TypeInvariant read_type_invariant(const Entry& item, std::size_t) {
        TypeInvariant t;
        t.mark = item.key_mark;
        const std::string& s = item.key;
        read_mapping(item.value, s, {
            {"name", "", [&](const Entry& x) { text(x, t.name, at(s, x.key), true); }},
            {"type", "", [&](const Entry& x) { text(x, t.type, at(s, x.key), true); }},
            {"predicate", "", [&](const Entry& x) { text(x, t.predicate, at(s, x.key), true); }},
            {"description", "", [&](const Entry& x) { text(x, t.description, at(s, x.key)); }},
        });
        if (!t.name.present) missing(s, "name", item.key_mark);
        if (!t.type.present) missing(s, "type", item.key_mark);
        if (!t.predicate.present) missing(s, "predicate", item.key_mark);
        return t;
    }

    Contract& c_;
    YamlBudget& budget_;
};

}  // namespace

Contract load_contract_text(std::string_view text, const std::string& file_name) {
    YAML::Node root;
    try {
        root = load_one_document(text, "a contract");
    } catch (const YamlError& e) {
        throw ContractParseError(file_name, e.mark, e.cause);
    }
    Contract c;
    c.file = file_name;
    YamlBudget budget(text.size());
    Loader loader(c, budget);
    try {
        loader.load(root);
    } catch (const OverBudget& e) {
        throw ContractParseError(file_name, e.mark,
                                 "aliases repeat too much of the document: reading it would visit more than " +
                                     std::to_string(budget.limit()) + " nodes and bytes (an alias bomb?)");
    } catch (const YAML::Exception& e) {
        // Not expected (the loader only inspects nodes), but never let one escape as a crash.
        const Mark m = (e.mark.line < 0 || e.mark.column < 0) ? Mark{} : Mark{e.mark.line + 1, e.mark.column + 1};
        throw ContractParseError(file_name, m, "cannot read the YAML document: " + e.msg);
    }
    return c;
}

Contract load_contract_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path.string(), "cannot open the contract file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw IoError(path.string(), "cannot read the contract file");
    return load_contract_text(ss.str(), path.string());
}

}  // namespace parity::contract
