// APR metadata: the JSON object, parsed strictly (no duplicate keys, bounded nesting) and read
// through typed accessors that fail for one key, never for the whole metadata.

#include "metadata.h"

#include <set>
#include <vector>

#include "engine/error.h"

namespace parity::apr {

namespace detail {

namespace {

/// "parse error at line 1, column 8: ..." without nlohmann's "[json.exception.parse_error.101] ".
std::string strip_exception_id(const std::string& what) {
    const auto pos = what.find("] ");
    return pos == std::string::npos ? what : what.substr(pos + 2);
}

/// Offset of the first occurrence of `"key"` followed by optional whitespace and ':' at or
/// after `from` in `text` (a best effort to point an error at the key), or npos.
std::size_t locate_key(std::string_view text, std::string_view key, std::size_t from = 0) {
    std::string needle;
    try {
        needle = Json(std::string(key)).dump();
    } catch (const Json::exception&) {
        return std::string_view::npos;
    }
    for (auto pos = text.find(needle, from); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) {
        auto after = pos + needle.size();
        while (after < text.size() && (text[after] == ' ' || text[after] == '\t' || text[after] == '\n' || text[after] == '\r')) {
            ++after;
        }
        if (after < text.size() && text[after] == ':') return pos;
    }
    return std::string_view::npos;
}

}  // namespace

Json parse_metadata(std::string_view text, const std::string& file, std::uint64_t base) {
    // Keys seen in each open object, innermost last.
    std::vector<std::set<std::string, std::less<>>> open_objects;
    const auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
        if (depth > kMaxJsonDepth) {
            throw FormatError(file, base, "metadata JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
        switch (event) {
            case Json::parse_event_t::object_start: open_objects.emplace_back(); break;
            case Json::parse_event_t::object_end:
                if (!open_objects.empty()) open_objects.pop_back();
                break;
            case Json::parse_event_t::key: {
                const auto& key = parsed.get_ref<const std::string&>();
                if (!open_objects.empty() && !open_objects.back().insert(key).second) {
                    // Point at the second occurrence of the key's text (a best effort).
                    auto at = locate_key(text, key);
                    if (at != std::string_view::npos) at = locate_key(text, key, at + 1);
                    throw FormatError(file, base + (at == std::string_view::npos ? 0 : at),
                                      "metadata JSON has the key '" + key +
                                          "' twice in one object (one value would be lost)");
                }
                break;
            }
            default: break;
        }
        return true;
    };
    Json j;
    try {
        j = Json::parse(text.begin(), text.end(), callback);
    } catch (const Json::parse_error& e) {
        const std::uint64_t at = e.byte == 0 ? 0 : std::min<std::uint64_t>(e.byte - 1, text.size());
        throw FormatError(file, base + at, "metadata is not valid JSON: " + strip_exception_id(e.what()));
    } catch (const Json::exception& e) {
        // A number too large for a double (out_of_range 406) carries no position, but its
        // message quotes the number: point at the first place the text has it.
        const std::string cause = strip_exception_id(e.what());
        std::size_t at = 0;
        const auto open = cause.find('\'');
        const auto close = cause.rfind('\'');
        if (open != std::string::npos && close > open + 1) {
            const auto found = text.find(std::string_view(cause).substr(open + 1, close - open - 1));
            if (found != std::string_view::npos) at = found;
        }
        throw FormatError(file, base + at, "metadata is not valid JSON: " + cause);
    }
    if (!j.is_object()) {
        throw FormatError(file, base, std::string("metadata must be a JSON object, found ") + j.type_name());
    }
    return j;
}

bool has_tokenizer(const Json& metadata) noexcept {
    if (!metadata.is_object()) return false;
    const auto it = metadata.find("tokenizer");
    if (it != metadata.end() && !it->is_null()) return true;
    return metadata.contains("tokenizer.vocabulary");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Typed access (File members).

namespace {

/// Reads typed values out of one JSON object; errors name the key with `prefix` and point at
/// the key's text in the file.
class Reader {
public:
    Reader(const std::string& file, std::uint64_t base, std::string_view text, const Json& object,
           std::string prefix = "", std::size_t search_from = 0)
        : file_(file), base_(base), text_(text), obj_(object), prefix_(std::move(prefix)), from_(search_from) {}

    /// The value, or nullptr when absent or null.
    const Json* get(std::string_view key) const {
        const auto it = obj_.find(key);
        if (it == obj_.end() || it->is_null()) return nullptr;
        return &*it;
    }

    [[noreturn]] void fail(std::string_view key, const std::string& expected, const Json& found) const {
        throw FormatError(file_, where(key),
                          "metadata key '" + prefix_ + std::string(key) + "' is " + describe(found) + ", expected " +
                              expected);
    }
    [[noreturn]] void fail_at(std::string_view key, const std::string& cause) const {
        throw FormatError(file_, where(key), "metadata key '" + prefix_ + std::string(key) + "' " + cause);
    }

    std::optional<std::string> str(std::string_view key) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_string()) fail(key, "a string", *v);
        return v->get<std::string>();
    }
    std::optional<std::int64_t> integer(std::string_view key, bool non_negative = false) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        return to_int(key, *v, non_negative);
    }
    std::optional<double> number(std::string_view key) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number()) fail(key, "a number", *v);
        return v->get<double>();
    }
    std::optional<bool> boolean(std::string_view key) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_boolean()) fail(key, "true or false", *v);
        return v->get<bool>();
    }
    /// An array of strings; `pairs` also accepts [a, b] elements, joined as "a b" (merges).
    std::optional<std::vector<std::string>> strings(std::string_view key, bool pairs = false) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_array()) fail(key, "an array of strings", *v);
        std::vector<std::string> out;
        out.reserve(v->size());
        for (std::size_t i = 0; i < v->size(); ++i) {
            const Json& e = (*v)[i];
            if (e.is_string()) {
                out.push_back(e.get<std::string>());
            } else if (pairs && e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
                out.push_back(e[0].get<std::string>() + " " + e[1].get<std::string>());
            } else {
                fail_at(key, "has element [" + std::to_string(i) + "] of type " + std::string(e.type_name()) +
                                 ", expected " + (pairs ? "a string or a pair of strings" : "a string"));
            }
        }
        return out;
    }
    std::optional<std::vector<std::int32_t>> int32s(std::string_view key) const {
        const Json* v = get(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_array()) fail(key, "an array of integers", *v);
        std::vector<std::int32_t> out;
        out.reserve(v->size());
        for (std::size_t i = 0; i < v->size(); ++i) {
            const Json& e = (*v)[i];
            bool ok = e.is_number_integer();
            std::int64_t x = 0;
            if (ok && e.is_number_unsigned()) {
                const auto u = e.get<std::uint64_t>();
                ok = u <= static_cast<std::uint64_t>(INT32_MAX);
                x = ok ? static_cast<std::int64_t>(u) : 0;
            } else if (ok) {
                x = e.get<std::int64_t>();
                ok = x >= INT32_MIN && x <= INT32_MAX;
            }
            if (!ok) {
                fail_at(key, "has element [" + std::to_string(i) + "] = " + e.dump() + ", expected a 32-bit integer");
            }
            out.push_back(static_cast<std::int32_t>(x));
        }
        return out;
    }

    std::int64_t to_int(std::string_view key, const Json& v, bool non_negative) const {
        const std::string expected = non_negative ? "a non-negative integer" : "an integer";
        if (!v.is_number_integer()) fail(key, expected, v);
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
            fail_at(key, "= " + v.dump() + " does not fit a signed 64-bit integer");
        }
        const auto x = v.get<std::int64_t>();
        if (non_negative && x < 0) fail_at(key, "= " + std::to_string(x) + ", expected " + expected);
        return x;
    }

    std::uint64_t where(std::string_view key) const {
        const auto at = detail::locate_key(text_, key, from_);
        return base_ + (at == std::string_view::npos ? 0 : at);
    }
    std::size_t text_pos(std::string_view key) const {
        const auto at = detail::locate_key(text_, key, from_);
        return at == std::string_view::npos ? from_ : at;
    }

    static std::string describe(const Json& v) {
        if (v.is_string()) return "a string";
        if (v.is_boolean()) return "a boolean";
        if (v.is_number_float()) return "a float (" + v.dump() + ")";
        if (v.is_number()) return "an integer (" + v.dump() + ")";
        if (v.is_array()) return "an array";
        if (v.is_object()) return "an object";
        return v.type_name();
    }

private:
    const std::string& file_;
    std::uint64_t base_;
    std::string_view text_;
    const Json& obj_;
    std::string prefix_;
    std::size_t from_;
};

/// Merges a nested and a flat value of one tokenizer field; they must agree when both exist.
template <typename T>
std::optional<T> agree(const Reader& flat, std::optional<T> nested, std::optional<T> flat_value,
                       const std::string& nested_key, const std::string& flat_key) {
    if (nested && flat_value && *nested != *flat_value) {
        flat.fail_at(flat_key, "disagrees with '" + nested_key + "'; the tokenizer is ambiguous");
    }
    return nested ? std::move(nested) : std::move(flat_value);
}

}  // namespace

std::string_view File::metadata_text() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data() + metadata_offset_), metadata_size_};
}

const Json* File::find(std::string_view key) const noexcept {
    const auto it = metadata_.find(key);
    return it == metadata_.end() ? nullptr : &*it;
}

std::string File::get_string(std::string_view key) const {
    Reader r(path_, metadata_offset_, metadata_text(), metadata_);
    auto v = r.str(key);
    if (!v) r.fail_at(key, find(key) == nullptr ? "is missing" : "is null");
    return *v;
}

std::int64_t File::get_int(std::string_view key) const {
    Reader r(path_, metadata_offset_, metadata_text(), metadata_);
    auto v = r.integer(key);
    if (!v) r.fail_at(key, find(key) == nullptr ? "is missing" : "is null");
    return *v;
}

double File::get_number(std::string_view key) const {
    Reader r(path_, metadata_offset_, metadata_text(), metadata_);
    auto v = r.number(key);
    if (!v) r.fail_at(key, find(key) == nullptr ? "is missing" : "is null");
    return *v;
}

bool File::get_bool(std::string_view key) const {
    Reader r(path_, metadata_offset_, metadata_text(), metadata_);
    auto v = r.boolean(key);
    if (!v) r.fail_at(key, find(key) == nullptr ? "is missing" : "is null");
    return *v;
}

Architecture File::architecture() const {
    Reader r(path_, metadata_offset_, metadata_text(), metadata_);
    Architecture a;
    a.model_type = r.str("model_type");
    a.architecture = r.str("architecture");
    a.hidden_size = r.integer("hidden_size", true);
    a.num_layers = r.integer("num_layers", true);
    a.num_heads = r.integer("num_heads", true);
    a.num_kv_heads = r.integer("num_kv_heads", true);
    a.vocab_size = r.integer("vocab_size", true);
    a.intermediate_size = r.integer("intermediate_size", true);
    a.max_position_embeddings = r.integer("max_position_embeddings", true);
    a.head_dim = r.integer("head_dim", true);
    a.rope_theta = r.number("rope_theta");
    a.rope_type = r.integer("rope_type", true);
    if (a.rope_type && *a.rope_type != 0 && *a.rope_type != 2) {
        r.fail_at("rope_type", "= " + std::to_string(*a.rope_type) + ", expected 0 (NORM) or 2 (NEOX)");
    }
    a.rms_norm_eps = r.number("rms_norm_eps");
    a.tied_embeddings = r.boolean("tied_embeddings");
    a.num_experts = r.integer("num_experts", true);
    a.num_experts_per_tok = r.integer("num_experts_per_tok", true);
    a.moe_intermediate_size = r.integer("moe_intermediate_size", true);
    a.sliding_window = r.integer("sliding_window", true);
    a.sliding_window_pattern = r.integer("sliding_window_pattern", true);
    a.rope_local_base_freq = r.number("rope_local_base_freq");
    if (const Json* rs = r.get("rope_scaling")) {
        if (!rs->is_object()) r.fail("rope_scaling", "an object", *rs);
        const Reader s(path_, metadata_offset_, metadata_text(), *rs, "rope_scaling.", r.text_pos("rope_scaling"));
        a.rope_scaling_type = s.str("rope_type");
        if (!a.rope_scaling_type) a.rope_scaling_type = s.str("type");
        a.rope_scaling_factor = s.number("factor");
    }
    return a;
}

Tokenizer File::tokenizer() const {
    const std::string_view text = metadata_text();
    Reader flat(path_, metadata_offset_, text, metadata_);
    Tokenizer t;

    const Json* nested_obj = flat.get("tokenizer");
    if (nested_obj != nullptr && !nested_obj->is_object()) flat.fail("tokenizer", "an object", *nested_obj);
    static const Json kEmpty = Json::object();
    const Json& obj = nested_obj != nullptr ? *nested_obj : kEmpty;
    Reader nested(path_, metadata_offset_, text, obj, "tokenizer.", nested_obj != nullptr ? flat.text_pos("tokenizer") : 0);

    t.present = nested_obj != nullptr;
    for (const char* k : {"tokenizer.vocabulary", "tokenizer.merges", "tokenizer.bos_token_id",
                          "tokenizer.eos_token_id", "tokenizer.model"}) {
        if (flat.get(k) != nullptr) t.present = true;
    }
    if (!t.present) return t;

    auto flat_model = flat.str("tokenizer.model");
    if (!flat_model) flat_model = flat.str("tokenizer.model_type");
    t.model = agree(flat, nested.str("model"), flat_model, "tokenizer.model (nested)", "tokenizer.model");
    t.pre = nested.str("pre");
    t.tokens = agree(flat, nested.strings("tokens"), flat.strings("tokenizer.vocabulary"), "tokenizer.tokens (nested)",
                     "tokenizer.vocabulary")
                   .value_or(std::vector<std::string>{});
    t.merges = agree(flat, nested.strings("merges", true), flat.strings("tokenizer.merges", true),
                     "tokenizer.merges (nested)", "tokenizer.merges")
                   .value_or(std::vector<std::string>{});
    if (auto tt = nested.int32s("token_type")) t.token_type = std::move(*tt);
    t.bos_token_id = agree(flat, nested.integer("bos_token_id", true), flat.integer("tokenizer.bos_token_id", true),
                           "tokenizer.bos_token_id (nested)", "tokenizer.bos_token_id");
    t.eos_token_id = agree(flat, nested.integer("eos_token_id", true), flat.integer("tokenizer.eos_token_id", true),
                           "tokenizer.eos_token_id (nested)", "tokenizer.eos_token_id");
    if (!t.token_type.empty() && !t.tokens.empty() && t.token_type.size() != t.tokens.size()) {
        nested.fail_at("token_type", "has " + std::to_string(t.token_type.size()) + " entries for " +
                                         std::to_string(t.tokens.size()) + " tokens");
    }
    return t;
}

}  // namespace parity::apr
