// The contract runner: plan (suite + contracts + validation + selection), then execute every
// planned test against one shared PathCache.

#include "harness/run/runner.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <new>
#include <stdexcept>
#include <system_error>

#include "engine/runtime/cuda_module.h"
#include "engine/error.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/memory_budget.h"
#include "engine/trace/aprt_tree.h"
#include "engine/trace/stage_trace.h"
#include "harness/contract/contract_loader.h"
#include "harness/contract/validate.h"
#include "harness/run/build_info.h"

namespace parity::run {

namespace {

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string canonical_text(const std::string& file) {
    std::error_code ec;
    const auto c = std::filesystem::weakly_canonical(file, ec);
    return ec ? std::filesystem::path(file).lexically_normal().string() : c.string();
}

/// The one line an allocation failure of a test becomes (never the exception's raw text).
std::string out_of_memory(const std::vector<std::string>& paths) {
    std::string names;
    for (const auto& p : paths) names += (names.empty() ? "" : ", ") + p;
    return allocation_failure("running path" + std::string(paths.size() == 1 ? " " : "s ") + names,
                              "smaller models or prompts on those paths, kv_type f16, mode incremental or fewer threads");
}

}  // namespace

RunInputError::RunInputError(std::vector<std::string> messages)
    : std::runtime_error(messages.empty() ? std::string("bad input") : messages.front()), messages_(std::move(messages)) {}

std::string shell_quote(const std::string& word) {
    if (!word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_-./=,:+@%").find(c) != std::string_view::npos;
        })) {
        return word;
    }
    std::string s = "'";
    for (const char c : word) {
        if (c == '\'') {
            s += "'\\''";
        } else {
            s += c;
        }
    }
    return s + "'";
}

// ---------------------------------------------------------------------------------------------
// PathCache

struct PathCache::PathState {
    const PathSpec* spec = nullptr;
    std::shared_ptr<Model> model;
    std::unique_ptr<Session> session;
    bool tokenizer_tried = false;
    std::optional<Tokenizer> tokenizer;
    std::string tokenizer_error;
    std::map<std::pair<std::vector<std::int32_t>, int>, ForwardTrace> traces;  // (tokens, mode)
    std::map<std::vector<std::int32_t>, std::vector<float>> logits;
    std::map<std::pair<std::vector<std::int32_t>, int>, falsifiers::Generation> generations;  // (prompt, n)
    std::map<std::vector<std::int32_t>, StageDump> stages;
    std::optional<ModelConfig> dump_config;  // a dump tree's: its layer count only

    const Tokenizer* tok() {
        if (!tokenizer_tried) {
            tokenizer_tried = true;
            if (!model) {
                tokenizer_error = "a dump tree has no tokenizer";
                return nullptr;
            }
            try {
                tokenizer.emplace(model->file().tokenizer());
            } catch (const std::exception& e) {
                tokenizer_error = e.what();
            }
        }
        return tokenizer ? &*tokenizer : nullptr;
    }
};

PathCache::PathCache(const SuiteConfig& suite) : suite_(suite) {}
PathCache::~PathCache() = default;

void PathCache::set_contract(const std::filesystem::path& contract_file) {
    contract_file_ = contract_file;
    contract_dir_ = contract_file.parent_path();
}

std::optional<std::string> PathCache::missing_file(const std::string& path) const {
    const PathSpec* spec = suite_.find_path(path);
    if (spec == nullptr) return std::nullopt;
    std::error_code ec;
    const std::string where = spec->origin.empty() ? "--path" : spec->origin;
    if (!spec->dumps.empty()) {
        if (std::filesystem::is_directory(spec->dumps, ec)) return std::nullopt;
        return where + ": path " + path + ": dump tree " + spec->dumps + " not found";
    }
    if (spec->optional || std::filesystem::is_regular_file(spec->model, ec)) return std::nullopt;
    std::string hint;
    if (spec->origin != "--path") hint = " (a model marked `optional: true` in the suite is skipped when absent)";
    return where + ": path " + path + ": model file " + spec->model + " not found" + hint;
}

std::optional<std::string> PathCache::unavailable(const std::string& path) const {
    const PathSpec* spec = suite_.find_path(path);
    if (spec == nullptr) return "path `" + path + "` is not defined by the suite";
    std::error_code ec;
    if (!spec->dumps.empty()) {
        if (!std::filesystem::is_directory(spec->dumps, ec)) return "path " + path + ": dump tree " + spec->dumps + " not found";
        return std::nullopt;
    }
    if (!std::filesystem::is_regular_file(spec->model, ec)) {
        if (spec->optional) return "path " + path + ": the optional model file " + spec->model + " is absent";
        return "path " + path + ": model file " + spec->model + " not found";
    }
    if (spec->backend == BackendKind::Cuda) {
        // The first cuda path loads the CUDA module; without it (or a device) the path is skipped.
        if (const auto& problem = cuda::cuda_backend().problem; !problem.empty()) {
            return "path " + path + ": backend cuda: " + problem;
        }
    }
    return std::nullopt;
}

PathCache::PathState& PathCache::state(const std::string& path) {
    if (const auto it = paths_.find(path); it != paths_.end()) return *it->second;
    if (const auto missing = missing_file(path)) throw std::runtime_error(*missing);
    if (const auto why = unavailable(path)) {
        if (suite_.find_path(path) == nullptr) throw std::runtime_error(*why);
        throw falsifiers::PathUnavailable(*why);
    }
    auto st = std::make_unique<PathState>();
    st->spec = suite_.find_path(path);
    if (!st->spec->dumps.empty()) return *paths_.emplace(path, std::move(st)).first->second;
    auto& model = models_[st->spec->model];
    if (!model) {
        model = std::make_shared<Model>(Model::load(st->spec->model));
        ++stats_.models_loaded;
    }
    st->model = model;
    return *paths_.emplace(path, std::move(st)).first->second;
}

Session& PathCache::session(PathState& st, std::size_t needed_context) {
    if (!st.model) {
        throw falsifiers::NotMeasured("path " + st.spec->name + " is a dump tree (dumps:): it holds the stage tensors "
                                      "of one run, not the logits of every position or generations");
    }
    if (!st.session || static_cast<std::size_t>(st.session->capacity()) < needed_context) {
        SessionOptions o;
        o.backend = st.spec->backend;
        o.matmul = st.spec->matmul;
        o.kv_type = st.spec->kv_type;
        o.threads = st.spec->threads;
        o.max_context = static_cast<int>(std::max<std::size_t>(needed_context, 256));
        for (const auto& f : st.spec->faults) o.faults.push_back({f.layer, f.slot, f.scale});
        st.session.reset();
        st.session = create_session(*st.model, o);
        ++stats_.sessions;
    }
    return *st.session;
}

const ModelConfig& PathCache::config(const std::string& path) {
    PathState& st = state(path);
    if (st.model) return st.model->config();
    if (!st.dump_config) {
        // What a dump tree tells without reading its values: how many layers it covers.
        ModelConfig c;
        c.arch = "dump tree";
        for (const aprt::DumpFile& f : aprt::scan_tree(st.spec->dumps).files) {
            if (f.layer != aprt::kWholeModelLayer) c.n_layers = std::max(c.n_layers, static_cast<int>(f.layer) + 1);
        }
        st.dump_config = c;
    }
    return *st.dump_config;
}

const StageDump& PathCache::stages(const std::string& path, std::span<const std::int32_t> tokens) {
    PathState& st = state(path);
    std::vector<std::int32_t> key(tokens.begin(), tokens.end());
    if (const auto it = st.stages.find(key); it != st.stages.end()) return it->second;
    StageDump dump;
    if (!st.spec->dumps.empty()) {
        dump = StageDump::read_tree(st.spec->dumps, static_cast<std::uint32_t>(tokens.size()));
    } else {
        dump_stages(session(st, tokens.size()), tokens, st.spec->mode, dump);
    }
    ++stats_.stage_dumps;
    return st.stages.emplace(std::move(key), std::move(dump)).first->second;
}

std::vector<std::int32_t> PathCache::input(const std::string& path, const falsifiers::InputRequest& request) {
    PathState& st = state(path);
    if (request.tokens) return *request.tokens;
    const std::optional<std::string>& prompt = request.prompt ? request.prompt : suite_.prompt;
    if (!prompt) {
        if (suite_.tokens) return *suite_.tokens;
        throw std::runtime_error("no input: the suite gives neither `prompt` nor `tokens`");
    }
    const Tokenizer* tok = st.tok();
    if (tok == nullptr) {
        throw std::runtime_error("path " + path + ": cannot encode the prompt: " + st.tokenizer_error +
                                 " (give the suite `tokens:` instead)");
    }
    auto ids = tok->encode(*prompt);
    if (ids.empty()) throw std::runtime_error("path " + path + ": the prompt encodes to no tokens");
    return ids;
}

const ForwardTrace& PathCache::trace(const std::string& path, std::span<const std::int32_t> tokens,
                                     std::optional<ForwardMode> mode) {
    PathState& st = state(path);
    const ForwardMode m = mode.value_or(st.spec->mode);
    auto key = std::make_pair(std::vector<std::int32_t>(tokens.begin(), tokens.end()), static_cast<int>(m));
    if (const auto it = st.traces.find(key); it != st.traces.end()) return it->second;
    if (!st.spec->dumps.empty()) {
        // A dump tree's statistics come from its stage values (every position, as a full
        // sequence); it holds one run, so no other mode can be asked of it.
        if (mode) {
            throw falsifiers::NotMeasured("path " + path + " is a dump tree (dumps:): it holds one run, not one per mode");
        }
        const StageDump& d = stages(path, tokens);
        ForwardTrace t = trace_from_stages(d, tokens, config(path).n_layers);
        ++stats_.traces;
        return st.traces.emplace(std::move(key), std::move(t)).first->second;
    }
    Session& s = session(st, tokens.size());
    ForwardTrace t = trace_forward(s, tokens, m, /*keep_values=*/true);
    ++stats_.traces;
    return st.traces.emplace(std::move(key), std::move(t)).first->second;
}

const std::vector<float>& PathCache::logits(const std::string& path, std::span<const std::int32_t> tokens) {
    PathState& st = state(path);
    std::vector<std::int32_t> key(tokens.begin(), tokens.end());
    if (const auto it = st.logits.find(key); it != st.logits.end()) return it->second;
    Session& s = session(st, tokens.size());
    std::vector<float> l = forward_logits(s, tokens, st.spec->mode);
    ++stats_.logits;
    return st.logits.emplace(std::move(key), std::move(l)).first->second;
}

std::vector<float> PathCache::logits_once(const std::string& path, std::span<const std::int32_t> tokens) {
    PathState& st = state(path);
    std::vector<std::int32_t> key(tokens.begin(), tokens.end());
    if (const auto it = st.logits.find(key); it != st.logits.end()) return it->second;
    std::vector<float> l = forward_logits(session(st, tokens.size()), tokens, st.spec->mode);
    ++stats_.logits;
    return l;
}

std::optional<std::int32_t> PathCache::bos_token(const std::string& path) {
    const Tokenizer* tok = state(path).tok();
    if (tok == nullptr || !tok->add_bos() || tok->bos() < 0) return std::nullopt;
    return tok->bos();
}

const falsifiers::Generation& PathCache::generate(const std::string& path, std::span<const std::int32_t> prompt,
                                                  int n_new) {
    PathState& st = state(path);
    auto key = std::make_pair(std::vector<std::int32_t>(prompt.begin(), prompt.end()), n_new);
    if (const auto it = st.generations.find(key); it != st.generations.end()) return it->second;
    if (prompt.empty()) throw std::runtime_error("generate: empty prompt");
    Session& s = session(st, prompt.size() + static_cast<std::size_t>(n_new));
    const auto n_vocab = static_cast<std::size_t>(st.model->config().n_vocab);
    std::vector<float> logits(n_vocab);
    s.reset();
    // The prompt as the path's mode feeds it: one batched pass, or one token at a time.
    if (st.spec->mode == ForwardMode::FullSequence) {
        s.evaluate(prompt, LogitsWanted::Last, logits, nullptr);
    } else {
        for (std::size_t i = 0; i + 1 < prompt.size(); ++i) s.evaluate(prompt.subspan(i, 1), LogitsWanted::None, {}, nullptr);
        s.evaluate(prompt.subspan(prompt.size() - 1, 1), LogitsWanted::Last, logits, nullptr);
    }
    falsifiers::Generation g;
    for (int i = 0; i < n_new; ++i) {
        const std::int32_t id = argmax(logits);
        g.tokens.push_back(id);
        if (i + 1 < n_new) s.evaluate(std::span<const std::int32_t>(&g.tokens.back(), 1), LogitsWanted::Last, logits, nullptr);
    }
    if (const Tokenizer* tok = st.tok()) {
        for (std::size_t i = 0; i < g.tokens.size(); ++i) {
            g.pieces.push_back(tok->piece(g.tokens[i]));
            if (g.eog_index < 0 && tok->is_eog(g.tokens[i])) g.eog_index = static_cast<int>(i);
        }
        const std::size_t shown = g.eog_index >= 0 ? static_cast<std::size_t>(g.eog_index) : g.tokens.size();
        g.text = tok->decode(std::span<const std::int32_t>(g.tokens).first(shown));
    } else {
        g.pieces.assign(g.tokens.size(), std::string());
    }
    ++stats_.generations;
    return st.generations.emplace(std::move(key), std::move(g)).first->second;
}

std::filesystem::path PathCache::resolve_file(const std::string& name) {
    const std::filesystem::path p(expand_variables(name, "reference file"));
    if (p.is_absolute() || contract_dir_.empty()) return p.lexically_normal();
    return (contract_dir_ / p).lexically_normal();
}

falsifiers::ContractFindings PathCache::contract_findings() {
    if (contract_file_.empty()) throw std::runtime_error("contract_valid: no contract file is being run");
    falsifiers::ContractFindings out;
    out.file = contract_file_.string();
    contract::Contract c;
    try {
        c = contract::load_contract_file(contract_file_);
    } catch (const std::exception& e) {
        out.errors.push_back(e.what());  // unreadable or not YAML: the validator's first message
        return out;
    }
    contract::ValidateOptions options;
    options.registry = &falsifiers::runtime_registry();
    options.known_paths = suite_.path_names();
    for (const auto& f : contract::validate_contract(c, options)) {
        if (f.severity == contract::Severity::Error) out.errors.push_back(contract::format_finding(f, out.file));
        if (f.severity == contract::Severity::Warning) out.warnings.push_back(contract::format_finding(f, out.file));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Planning

Plan plan_run(const RunRequest& request) {
    Plan plan;
    std::vector<std::string> errors;
    try {
        if (request.suite_file) plan.suite = load_suite(*request.suite_file);
        for (const auto& opt : request.path_options) apply_path_option(plan.suite, opt);
    } catch (const SuiteError& e) {
        throw RunInputError({e.what()});
    }
    // backend cuda asked for on the command line must run: an error, never a skip or a CPU run.
    for (const auto& p : plan.suite.paths) {
        if (p.backend != BackendKind::Cuda || p.backend_option.empty()) continue;
        if (const auto& problem = cuda::cuda_backend().problem; !problem.empty()) {
            throw RunInputError({"--path " + p.backend_option + ": backend cuda cannot run here: " + problem});
        }
    }

    std::vector<std::string> args = request.contracts;
    if (args.empty()) {
        for (const auto& c : plan.suite.contracts) args.push_back(c.file);
    }
    if (args.empty()) {
        throw RunInputError({"no contracts: give CONTRACT files or directories, or a suite whose `contracts:` lists them"});
    }
    const contract::CollectedFiles files = contract::collect_contract_files(args);
    errors.insert(errors.end(), files.errors.begin(), files.errors.end());

    falsifiers::Registry& registry = falsifiers::runtime_registry();
    contract::ValidateOptions vopts;
    vopts.registry = &registry;
    vopts.known_paths = plan.suite.path_names();
    for (const auto& file : files.files) {
        auto c = std::make_unique<contract::Contract>();
        try {
            *c = contract::load_contract_file(file);
        } catch (const std::exception& e) {
            errors.push_back(e.what());
            continue;
        }
        for (const auto& f : contract::validate_contract(*c, vopts)) {
            if (f.severity == contract::Severity::Error) {
                errors.push_back(contract::format_finding(f, file.string()));
            } else if (f.severity == contract::Severity::Warning) {
                ++plan.warnings;
            }
        }
        plan.contracts.push_back(std::move(c));
    }
    if (!errors.empty()) throw RunInputError(std::move(errors));

    // Suite entries by canonical file, for labels and timeouts.
    std::map<std::string, const ContractEntry*> entries;
    for (const auto& e : plan.suite.contracts) entries[canonical_text(e.file)] = &e;

    falsifiers::CheckOptions copts;
    copts.known_paths = plan.suite.path_names();
    std::vector<bool> only_found(request.only.size(), false);
    for (const auto& c : plan.contracts) {
        const auto it = entries.find(canonical_text(c->file));
        const ContractEntry* entry = it != entries.end() ? it->second : nullptr;
        for (const auto& t : c->falsification_tests.value) {
            const std::string& id = t.id.value;
            bool selected = request.only.empty();
            for (std::size_t i = 0; i < request.only.size(); ++i) {
                if (request.only[i] == id) {
                    selected = true;
                    only_found[i] = true;
                }
            }
            if (!selected) continue;
            PlannedTest pt;
            pt.contract = c->file;
            pt.test = &t;
            pt.labels = plan.suite.labels;
            if (entry != nullptr) {
                for (const auto& l : entry->labels) {
                    if (std::find(pt.labels.begin(), pt.labels.end(), l) == pt.labels.end()) pt.labels.push_back(l);
                }
                if (entry->timeout) pt.timeout = *entry->timeout;
                pt.allow_unmeasured = entry->allows_unmeasured(id);
            }
            if (pt.timeout == 0.0) pt.timeout = plan.suite.timeout;
            bool gpu = false;
            if (t.harness) {
                const falsifiers::CheckResult cr = registry.check(t.harness->block, copts);
                if (!cr.ok()) throw RunInputError({c->file + ": " + id + ": " + cr.issues.front().message});
                pt.falsifier = falsifiers::make_falsifier(registry, cr.params);
                for (const auto& p : pt.falsifier->paths()) {
                    const PathSpec* spec = plan.suite.find_path(p);
                    if (spec != nullptr && spec->backend == BackendKind::Cuda) gpu = true;
                }
            }
            // gpu when it reads a cuda path, else cpu (unbound tests too: the CPU suite shows
            // them, as UNBOUND, so nothing unevaluated goes unnoticed).
            const std::string auto_label = gpu ? "gpu" : "cpu";
            if (std::find(pt.labels.begin(), pt.labels.end(), auto_label) == pt.labels.end()) {
                pt.labels.push_back(auto_label);
            }
            if (!request.labels.empty()) {
                const bool any = std::any_of(request.labels.begin(), request.labels.end(), [&](const std::string& l) {
                    return std::find(pt.labels.begin(), pt.labels.end(), l) != pt.labels.end();
                });
                if (!any) continue;
            }
            std::string repro = "pv run " + shell_quote(c->file);
            if (request.suite_file) repro += " --suite " + shell_quote(*request.suite_file);
            for (const auto& opt : request.path_options) repro += " --path " + shell_quote(opt);
            repro += " --only " + shell_quote(id);
            pt.repro = std::move(repro);
            plan.tests.push_back(std::move(pt));
        }
    }
    // A test id in `allow_unmeasured` that its contract does not have is a typo.
    for (const auto& c : plan.contracts) {
        const auto it = entries.find(canonical_text(c->file));
        if (it == entries.end()) continue;
        for (const auto& id : it->second->allow_unmeasured) {
            const auto& tests = c->falsification_tests.value;
            if (std::none_of(tests.begin(), tests.end(), [&](const auto& t) { return t.id.value == id; })) {
                errors.push_back(it->second->origin + ": allow_unmeasured: " + c->file + " has no test " + id);
            }
        }
    }
    for (std::size_t i = 0; i < request.only.size(); ++i) {
        if (!only_found[i]) errors.push_back("--only " + request.only[i] + ": no falsification test with that id in the contracts");
    }
    if (!errors.empty()) throw RunInputError(std::move(errors));
    return plan;
}

// ---------------------------------------------------------------------------------------------
// Running

reports::RunReport execute(const Plan& plan, PathCache& cache, const std::string& command_line) {
    reports::RunReport report;
    report.build = build_info();
    report.tool_version = report.build.version;
    report.started_at = utc_now();
    report.command = command_line;
    const auto run_start = std::chrono::steady_clock::now();
    for (const PlannedTest& pt : plan.tests) {
        const auto start = std::chrono::steady_clock::now();
        reports::TestResult r;
        if (!pt.falsifier) {
            r.status = reports::Status::Unbound;
            r.message = "no `harness:` binding: not evaluated";
        } else {
            std::optional<std::string> missing, skip;
            for (const auto& p : pt.falsifier->paths()) {
                if (!missing) missing = cache.missing_file(p);
                if (!skip) skip = cache.unavailable(p);
            }
            if (missing) {
                r.status = reports::Status::Error;  // a typo in the suite never turns a job green
                r.message = *missing;
            } else if (skip) {
                r.status = reports::Status::Skipped;
                r.message = *skip;
            } else {
                cache.set_contract(pt.contract);
                try {
                    r = pt.falsifier->run(cache);
                } catch (const falsifiers::PathUnavailable& e) {
                    r = reports::TestResult{};
                    r.status = reports::Status::Skipped;
                    r.message = e.what();
                } catch (const falsifiers::NotMeasured& e) {
                    r = reports::TestResult{};
                    r.status = reports::Status::Unmeasured;
                    r.message = e.what();
                } catch (const std::bad_alloc&) {
                    r = reports::TestResult{};
                    r.status = reports::Status::Error;
                    r.message = out_of_memory(pt.falsifier->paths());
                } catch (const std::length_error&) {
                    r = reports::TestResult{};
                    r.status = reports::Status::Error;
                    r.message = out_of_memory(pt.falsifier->paths());
                } catch (const std::exception& e) {
                    r = reports::TestResult{};
                    r.status = reports::Status::Error;
                    r.message = e.what();
                }
            }
            r.falsifier = pt.falsifier->name();
            if (r.paths.empty()) r.paths = pt.falsifier->paths();
        }
        r.id = pt.test->id.value;
        r.contract = pt.contract;
        r.rule = pt.test->rule.value;
        r.prediction = pt.test->prediction.value;
        r.if_fails = pt.test->if_fails.value;
        r.labels = pt.labels;
        r.repro = pt.repro;
        r.allow_unmeasured = pt.allow_unmeasured;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report.results.push_back(std::move(r));
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    return report;
}

}  // namespace parity::run
