// The suite configuration (ctest.cfg): YAML -> SuiteConfig, and the --path option.

#include "harness/run/suite.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include <yaml-cpp/yaml.h>

#include "falsifiers/registry.h"
#include "harness/contract/yaml_document.h"
#include "harness/contract/yaml_limits.h"

namespace parity::run {

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::optional<std::int64_t> parse_int(std::string_view t) {
    std::int64_t v = 0;
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 10);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view t) {
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t.front())) || t.front() == '-' || t.front() == '.')) {
        return std::nullopt;
    }
    double v = 0.0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, std::chars_format::general);
    if (ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

bool is_label(std::string_view s) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

std::string resolve(const std::string& file, const std::filesystem::path& base_dir) {
    const std::filesystem::path p(file);
    if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
    return (base_dir / p).lexically_normal().string();
}

std::optional<TraceSlot> parse_slot(std::string_view name) {
    for (const TraceSlot s : all_trace_slots()) {
        if (slot_name(s) == name) return s;
    }
    return std::nullopt;
}

std::string slot_list() {
    std::string s;
    for (const TraceSlot t : all_trace_slots()) s += (s.empty() ? "" : ", ") + std::string(slot_name(t));
    return s;
}

struct ModelRef {
    std::string file;
    bool optional = false;
};

/// The text of a suite's `prompt_file:` (a long prompt, e.g. a corpus). Throws SuiteError.
std::string read_prompt_file(const std::string& file, const std::string& where) {
    constexpr std::uintmax_t max_bytes = 64u << 20;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) throw SuiteError(where + ": prompt_file: " + file + " not found");
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) throw SuiteError(where + ": prompt_file: cannot read " + file + ": " + ec.message());
    if (size > max_bytes) {
        throw SuiteError(where + ": prompt_file: " + file + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw SuiteError(where + ": prompt_file: cannot read " + file);
    if (text.str().empty()) throw SuiteError(where + ": prompt_file: " + file + " is empty");
    return text.str();
}


/// Model names -> files; the first of duplicate names wins (a map: suites may be long).
using ModelIndex = std::unordered_map<std::string, ModelRef>;

ModelIndex index_models(const SuiteConfig& suite) {
    ModelIndex index;
    for (const auto& [name, file] : suite.models) index.emplace(name, ModelRef{file, false});
    for (const auto& name : suite.optional_models) {
        if (const auto it = index.find(name); it != index.end()) it->second.optional = true;
    }
    return index;
}

/// One path field from text (shared by the YAML reader and --path). Throws SuiteError.
void set_path_field(PathSpec& p, const std::string& key, const std::string& value, const std::string& where,
                    const ModelIndex& models,
                    const std::filesystem::path& base_dir) {
    auto bad = [&](const std::string& expected) {
        throw SuiteError(where + ": path " + p.name + ": " + key + ": expected " + expected + ", got '" + value + "'");
    };
    if (key == "model") {
        if (value.empty()) bad("a model name or file");
        const auto it = models.find(value);
        p.model = it != models.end() ? it->second.file : resolve(expand_variables(value, where), base_dir);
        p.optional = it != models.end() && it->second.optional;
    } else if (key == "dumps") {
        if (value.empty()) bad("an APRT dump tree directory");
        p.dumps = resolve(expand_variables(value, where), base_dir);
    } else if (key == "backend") {
        const auto b = parse_backend(value);
        if (!b) bad("cpu, cuda or f64");
        p.backend = *b;
    } else if (key == "mode") {
        const auto m = parse_forward_mode(value);
        if (!m) bad("full_sequence or incremental");
        p.mode = *m;
    } else if (key == "matmul") {
        const auto m = parse_matmul_policy(value);
        if (!m) bad("dequant or ggml");
        p.matmul = *m;
    } else if (key == "kv_type" || key == "kv-type") {
        const auto k = parse_kv_type(value);
        if (!k) bad("f32 or f16");
        p.kv_type = *k;
    } else if (key == "threads") {
        const auto t = parse_int(value);
        if (!t || *t < 0 || *t > 4096) bad("an integer 0..4096 (0: every hardware thread)");
        p.threads = static_cast<int>(*t);
    } else if (key == "inject") {
        p.faults.push_back(parse_fault(value, where + ": path " + p.name + ": inject"));
    } else {
        throw SuiteError(where + ": path " + p.name + ": unknown field `" + key +
                         "` (expected model, dumps, backend, mode, matmul, kv_type, threads, inject)");
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

class Reader {
public:
    Reader(std::string file, std::filesystem::path base_dir, std::size_t text_size)
        : file_(std::move(file)), base_(std::move(base_dir)), budget_(text_size) {}

    SuiteConfig read(std::string_view text) {
        YAML::Node root;
        try {
            root = contract::load_one_document(text, "a suite config");
        } catch (const contract::YamlError& e) {
            const std::string where = e.mark.known()
                                          ? file_ + ":" + std::to_string(e.mark.line) + ":" + std::to_string(e.mark.column)
                                          : file_;
            throw SuiteError(where + ": " + e.cause);
        }
        try {
            return read_root(root);
        } catch (const YAML::Exception& e) {
            // Not expected (the reader only inspects nodes), but never let one escape raw.
            throw SuiteError(place(e.mark) + ": cannot read the YAML document: " + e.msg);
        }
    }

private:
    std::string place(const YAML::Mark& m) const {
        if (m.line < 0 || m.column < 0) return file_;
        return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    }

    /// Charges one visit of `n` to the budget; aliases can repeat a big node many times.
    void spend(const YAML::Node& n) {
        if (!budget_.spend(n.IsScalar() ? n.Scalar().size() : 0)) {
            throw SuiteError(at(n) + ": aliases repeat too much of the document: reading it would visit more than " +
                             std::to_string(budget_.limit()) + " nodes and bytes (an alias bomb?)");
        }
    }

    SuiteConfig read_root(const YAML::Node& root) {
        SuiteConfig s;
        s.file = file_;
        if (!root.IsDefined() || root.IsNull()) throw SuiteError(file_ + ": empty suite config (expected a mapping with `paths`)");
        if (!root.IsMap()) throw SuiteError(at(root) + ": a suite config is a mapping (prompt, models, paths, contracts)");
        check_keys(root, {"version", "prompt", "prompt_file", "tokens", "labels", "timeout", "models", "paths", "contracts"}, "suite config");
        if (const auto v = root["version"]; v) {
            const auto n = v.IsScalar() ? parse_int(v.Scalar()) : std::nullopt;
            if (!n || *n != 1) throw SuiteError(at(v) + ": version: only version 1 exists");
        }
        if (const auto v = root["prompt"]; v) {
            s.prompt = scalar(v, "prompt", "a prompt text");
            if (s.prompt->empty()) throw SuiteError(at(v) + ": prompt: must not be empty");
        }
        if (const auto v = root["prompt_file"]; v) {
            if (s.prompt) throw SuiteError(at(v) + ": give one of `prompt`, `prompt_file`, `tokens`");
            s.prompt = read_prompt_file(resolve(expand_variables(scalar(v, "prompt_file", "a text file"), at(v)), base_), at(v));
        }
        if (const auto v = root["tokens"]; v) {
            if (s.prompt) throw SuiteError(at(v) + ": give one of `prompt`, `prompt_file`, `tokens`");
            if (!v.IsSequence() || v.size() == 0) throw SuiteError(at(v) + ": tokens: expected a non-empty list of token ids");
            std::vector<std::int32_t> ids;
            for (const auto& t : v) {
                spend(t);
                const auto n = t.IsScalar() ? parse_int(t.Scalar()) : std::nullopt;
                if (!n || *n < 0 || *n > INT32_MAX) throw SuiteError(at(t) + ": tokens: expected a token id (integer >= 0)");
                ids.push_back(static_cast<std::int32_t>(*n));
            }
            s.tokens = std::move(ids);
        }
        if (const auto v = root["labels"]; v) s.labels = labels(v);
        if (const auto v = root["timeout"]; v) s.timeout = timeout(v);
        if (const auto v = root["models"]; v) {
            if (!v.IsMap()) throw SuiteError(at(v) + ": models: expected a mapping name -> model file");
            for (const auto& kv : v) {
                spend(kv.first);
                spend(kv.second);
                const std::string name = kv.first.Scalar();
                const auto [file, optional] = model(name, kv.second);
                s.models.emplace_back(name, resolve(expand_variables(file, at(kv.second)), base_));
                if (optional) s.optional_models.push_back(name);
            }
        }
        if (const auto v = root["paths"]; v) {
            if (!v.IsMap()) throw SuiteError(at(v) + ": paths: expected a mapping name -> {model, backend, mode, matmul}");
            const ModelIndex models = index_models(s);
            for (const auto& kv : v) {
                spend(kv.first);
                spend(kv.second);
                s.paths.push_back(path(kv.first, kv.second, models));
            }
        }
        if (const auto v = root["contracts"]; v) {
            if (!v.IsSequence()) throw SuiteError(at(v) + ": contracts: expected a list of {file, labels, timeout}");
            for (const auto& item : v) {
                spend(item);
                s.contracts.push_back(contract(item));
            }
        }
        return s;
    }

    std::string at(const YAML::Node& n) const {
        const auto m = n.Mark();
        if (m.line < 0) return file_;
        return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    }

    void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& what) {
        std::set<std::string> seen;
        for (const auto& kv : map) {
            spend(kv.first);
            spend(kv.second);
            if (!kv.first.IsScalar()) throw SuiteError(at(kv.first) + ": " + what + ": keys must be strings");
            const std::string& k = kv.first.Scalar();
            if (!seen.insert(k).second) throw SuiteError(at(kv.first) + ": " + what + ": `" + k + "` given twice");
            if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
                std::string list;
                for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
                const std::string hint = falsifiers::closest_name(k, allowed);
                throw SuiteError(at(kv.first) + ": " + what + ": unknown key `" + k + "`" +
                                 (hint.empty() ? "" : " (did you mean `" + hint + "`?)") + "; expected one of " + list);
            }
        }
    }

    std::string scalar(const YAML::Node& n, const std::string& key, const std::string& expected) const {
        if (!n.IsScalar()) throw SuiteError(at(n) + ": " + key + ": expected " + expected);
        return n.Scalar();
    }

    std::vector<std::string> labels(const YAML::Node& n) {
        std::vector<std::string> out;
        std::set<std::string> seen;
        if (n.IsScalar()) {
            if (!is_label(n.Scalar())) throw SuiteError(at(n) + ": labels: `" + n.Scalar() + "` is not a label");
            out.push_back(n.Scalar());
            return out;
        }
        if (!n.IsSequence()) throw SuiteError(at(n) + ": labels: expected a list of labels");
        for (const auto& l : n) {
            spend(l);
            if (!l.IsScalar() || !is_label(l.Scalar())) {
                throw SuiteError(at(l) + ": labels: expected a label (letters, digits, _ - .)");
            }
            if (seen.insert(l.Scalar()).second) out.push_back(l.Scalar());
        }
        return out;
    }

    /// A `models:` value: FILE, or {file: FILE, optional: BOOL}.
    std::pair<std::string, bool> model(const std::string& name, const YAML::Node& v) {
        if (!v.IsMap()) return {scalar(v, "models." + name, "a model file or {file, optional}"), false};
        check_keys(v, {"file", "optional"}, "models." + name);
        if (!v["file"]) throw SuiteError(at(v) + ": models." + name + ": `file` is required");
        bool optional = false;
        if (const auto o = v["optional"]; o) optional = boolean(o, "models." + name + ".optional");
        return {scalar(v["file"], "models." + name + ".file", "a model file"), optional};
    }

    bool boolean(const YAML::Node& n, const std::string& key) const {
        if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) return n.Scalar() == "true";
        throw SuiteError(at(n) + ": " + key + ": expected true or false");
    }

    double timeout(const YAML::Node& n) const {
        const auto d = n.IsScalar() ? parse_double(n.Scalar()) : std::nullopt;
        if (!d || *d < 0) throw SuiteError(at(n) + ": timeout: expected seconds (a number >= 0)");
        return *d;
    }

    PathSpec path(const YAML::Node& key, const YAML::Node& v,
                  const ModelIndex& models) {
        PathSpec p;
        p.name = key.Scalar();
        p.origin = at(key);
        if (!falsifiers::is_path_name(p.name)) {
            throw SuiteError(at(key) + ": `" + p.name + "` is not a path name (a letter or _, then letters, digits, _ or -)");
        }
        if (!v.IsMap()) throw SuiteError(at(v) + ": path " + p.name + ": expected a mapping {model, backend, mode, matmul}");
        check_keys(v, {"model", "dumps", "backend", "mode", "matmul", "kv_type", "threads", "inject"}, "path " + p.name);
        if (!v["model"] && !v["dumps"]) {
            throw SuiteError(at(key) + ": path " + p.name + ": `model` (or `dumps` for a dump tree) is required");
        }
        if (v["model"] && v["dumps"]) {
            throw SuiteError(at(key) + ": path " + p.name + ": give `model` or `dumps`, not both");
        }
        for (const auto& kv : v) {
            const std::string k = kv.first.Scalar();
            if (k == "inject" && kv.second.IsSequence()) {
                for (const auto& f : kv.second) {
                    spend(f);
                    set_path_field(p, k, scalar(f, "inject", "LAYER:SLOT:scale=F"), at(f), models, base_);
                }
                continue;
            }
            set_path_field(p, k, scalar(kv.second, "path " + p.name + "." + k, "a value"), at(kv.second), models, base_);
        }
        return p;
    }

    ContractEntry contract(const YAML::Node& item) {
        ContractEntry c;
        c.origin = at(item);
        if (item.IsScalar()) {
            c.file = resolve(expand_variables(item.Scalar(), at(item)), base_);
            return c;
        }
        if (!item.IsMap()) {
            throw SuiteError(at(item) + ": contracts: expected {file, labels, timeout, allow_unmeasured} or a file name");
        }
        check_keys(item, {"file", "labels", "timeout", "allow_unmeasured"}, "contract entry");
        if (!item["file"]) throw SuiteError(at(item) + ": contract entry: `file` is required");
        c.file = resolve(expand_variables(scalar(item["file"], "file", "a contract file"), at(item["file"])), base_);
        if (const auto l = item["labels"]; l) c.labels = labels(l);
        if (const auto t = item["timeout"]; t) c.timeout = timeout(t);
        if (const auto a = item["allow_unmeasured"]; a) allow_unmeasured(a, c);
        return c;
    }

    /// `allow_unmeasured: true | false | [TEST-ID, ...]`.
    void allow_unmeasured(const YAML::Node& n, ContractEntry& c) {
        if (n.IsScalar()) {
            c.allow_unmeasured_all = boolean(n, "allow_unmeasured");
            return;
        }
        if (!n.IsSequence()) throw SuiteError(at(n) + ": allow_unmeasured: expected true, false or a list of test ids");
        for (const auto& id : n) {
            spend(id);
            if (!id.IsScalar() || id.Scalar().empty()) throw SuiteError(at(id) + ": allow_unmeasured: expected a test id");
            c.allow_unmeasured.push_back(id.Scalar());
        }
    }

    std::string file_;
    std::filesystem::path base_;
    contract::YamlBudget budget_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

FaultSpec parse_fault(std::string_view text, const std::string& where) {
    auto bad = [&](const std::string& why) {
        throw SuiteError(where + ": '" + std::string(text) + "': " + why +
                         " (expected LAYER:SLOT:scale=F, e.g. 2:ffn_gate:scale=1.5)");
    };
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (true) {
        const auto colon = text.find(':', pos);
        parts.push_back(trim(text.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos)));
        if (colon == std::string_view::npos) break;
        pos = colon + 1;
    }
    if (parts.size() != 3) bad("three fields separated by ':'");
    FaultSpec f;
    const auto layer = parse_int(parts[0]);
    if (!layer || *layer < 0 || *layer > 100000) bad("LAYER must be a layer index >= 0");
    f.layer = static_cast<int>(*layer);
    const auto slot = parse_slot(parts[1]);
    if (!slot) bad("SLOT must be one of " + slot_list());
    f.slot = *slot;
    if (parts[2].rfind("scale=", 0) != 0) bad("the third field must be scale=F");
    const auto scale = parse_double(std::string_view(parts[2]).substr(6));
    if (!scale) bad("scale must be a finite number");
    f.scale = static_cast<float>(*scale);
    return f;
}

std::string to_string(const FaultSpec& f) {
    std::ostringstream os;
    os << f.layer << ":" << slot_name(f.slot) << ":scale=" << f.scale;
    return os.str();
}

std::string describe(const PathSpec& p) {
    if (!p.dumps.empty()) return "dumps=" + p.dumps;
    std::string s = "model=" + p.model + ",backend=" + std::string(to_string(p.backend)) +
                    ",mode=" + std::string(to_string(p.mode)) + ",matmul=" + std::string(to_string(p.matmul)) +
                    ",kv_type=" + std::string(to_string(p.kv_type));
    if (p.threads != 0) s += ",threads=" + std::to_string(p.threads);
    for (const auto& f : p.faults) s += ",inject=" + to_string(f);
    return s;
}

bool ContractEntry::allows_unmeasured(std::string_view id) const noexcept {
    return allow_unmeasured_all || std::find(allow_unmeasured.begin(), allow_unmeasured.end(), id) != allow_unmeasured.end();
}

const PathSpec* SuiteConfig::find_path(std::string_view name) const noexcept {
    for (const auto& p : paths) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::vector<std::string> SuiteConfig::path_names() const {
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(p.name);
    return out;
}

std::string expand_variables(std::string_view text, const std::string& where) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            const auto close = text.find('}', i + 2);
            if (close == std::string_view::npos) {
                throw SuiteError(where + ": unterminated ${...} in '" + std::string(text) + "'");
            }
            const std::string_view inner = text.substr(i + 2, close - i - 2);
            const auto dflt = inner.find(":-");
            const std::string name(inner.substr(0, dflt));
            const bool name_ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                                 std::all_of(name.begin(), name.end(), [](char c) {
                                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                                 });
            if (!name_ok) throw SuiteError(where + ": '${" + std::string(inner) + "}' is not a variable reference");
            const char* env = std::getenv(name.c_str());
            if (env != nullptr && *env != '\0') {
                out += env;
            } else if (dflt != std::string_view::npos) {
                out += inner.substr(dflt + 2);
            } else {
                throw SuiteError(where + ": environment variable " + name + " is not set (write ${" + name +
                                 ":-default} for a fallback)");
            }
            i = close + 1;
        } else {
            out += text[i++];
        }
    }
    return out;
}

SuiteConfig load_suite(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw SuiteError(file.string() + ": cannot read the suite config");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_suite(ss.str(), file.string(), file.parent_path());
}

SuiteConfig parse_suite(std::string_view text, const std::string& file_name, const std::filesystem::path& base_dir) {
    return Reader(file_name, base_dir, text.size()).read(text);
}

void apply_path_option(SuiteConfig& suite, std::string_view option) {
    const std::string where = "--path " + std::string(option);
    const auto eq = option.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw SuiteError(where + ": expected NAME=key=value,... (e.g. gguf=model=m.gguf,backend=cpu,mode=incremental)");
    }
    const std::string name = trim(option.substr(0, eq));
    if (!falsifiers::is_path_name(name)) throw SuiteError(where + ": `" + name + "` is not a path name");
    PathSpec* p = nullptr;
    for (auto& q : suite.paths) {
        if (q.name == name) p = &q;
    }
    const bool is_new = p == nullptr;
    PathSpec fresh;
    if (is_new) {
        fresh.name = name;
        fresh.origin = "--path";
        p = &fresh;
    } else {
        p->origin += " + --path";
    }
    bool has_model = !is_new;
    std::string_view rest = option.substr(eq + 1);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (item.empty()) continue;
        const auto e = item.find('=');
        if (e == std::string::npos) throw SuiteError(where + ": '" + item + "' is not key=value");
        const std::string key = trim(std::string_view(item).substr(0, e));
        const std::string value = trim(std::string_view(item).substr(e + 1));
        set_path_field(*p, key, value, where, index_models(suite), {});
        if (key == "model" || key == "dumps") has_model = true;
        if (key == "backend") p->backend_option = std::string(option);
    }
    if (!has_model) throw SuiteError(where + ": a new path needs model=FILE (or dumps=DIR)");
    if (!p->model.empty() && !p->dumps.empty()) throw SuiteError(where + ": give model= or dumps=, not both");
    if (is_new) suite.paths.push_back(std::move(fresh));
}

}  // namespace parity::run
