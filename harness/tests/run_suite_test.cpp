// The suite config (ctest.cfg) reader and the --path option.

#include <chrono>
#include <fstream>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness/run/suite.h"
#include "test_support.h"
#include "yaml_bombs.h"

namespace parity::run {
namespace {

SuiteConfig parse(const std::string& text) { return parse_suite(text, "s.cfg", "/base"); }

std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const SuiteError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Suite, ReadsPromptModelsPathsAndContracts) {
    const SuiteConfig s = parse(
        "version: 1\n"
        "prompt: \"What is 2+2?\"\n"
        "labels: [smoke]\n"
        "timeout: 30\n"
        "models:\n"
        "  m: models/tiny.apr\n"
        "paths:\n"
        "  apr: {model: m, backend: cpu, mode: full_sequence, matmul: dequant}\n"
        "  gguf_cuda: {model: /abs/t.gguf, backend: cuda, mode: incremental, kv_type: f16, threads: 2,\n"
        "              inject: [\"1:ffn_gate:scale=1.5\", \"2:output:scale=0\"]}\n"
        "contracts:\n"
        "  - {file: contracts/a.yaml, labels: [nightly, gpu], timeout: 5}\n"
        "  - contracts/b.yaml\n");
    EXPECT_EQ(s.prompt, "What is 2+2?");
    EXPECT_FALSE(s.tokens);
    EXPECT_EQ(s.labels, std::vector<std::string>{"smoke"});
    EXPECT_DOUBLE_EQ(s.timeout, 30.0);
    ASSERT_EQ(s.paths.size(), 2u);
    EXPECT_EQ(s.paths[0].model, "/base/models/tiny.apr");
    EXPECT_EQ(s.paths[0].mode, ForwardMode::FullSequence);
    EXPECT_EQ(s.paths[0].matmul, MatmulPolicy::Dequant);
    const PathSpec* c = s.find_path("gguf_cuda");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->model, "/abs/t.gguf");
    EXPECT_EQ(c->backend, BackendKind::Cuda);
    EXPECT_EQ(c->kv_type, KvType::F16);
    EXPECT_EQ(c->threads, 2);
    ASSERT_EQ(c->faults.size(), 2u);
    EXPECT_EQ(c->faults[0].layer, 1);
    EXPECT_EQ(c->faults[0].slot, TraceSlot::FfnGate);
    EXPECT_FLOAT_EQ(c->faults[0].scale, 1.5f);
    EXPECT_EQ(c->faults[1].slot, TraceSlot::Output);
    ASSERT_EQ(s.contracts.size(), 2u);
    EXPECT_EQ(s.contracts[0].file, "/base/contracts/a.yaml");
    EXPECT_EQ(s.contracts[0].labels, (std::vector<std::string>{"nightly", "gpu"}));
    EXPECT_EQ(s.contracts[0].timeout, 5.0);
    EXPECT_EQ(s.contracts[1].file, "/base/contracts/b.yaml");
    EXPECT_EQ(s.path_names(), (std::vector<std::string>{"apr", "gguf_cuda"}));
}

TEST(Suite, TokensInsteadOfPrompt) {
    const SuiteConfig s = parse("tokens: [1, 2, 3]\npaths: {}\n");
    ASSERT_TRUE(s.tokens);
    EXPECT_EQ(*s.tokens, (std::vector<std::int32_t>{1, 2, 3}));
}

TEST(Suite, PromptFileReadsALongPromptFromTheSuitesDirectory) {
    const testing::TempDir dir;
    const std::string text = "Line one.\nLine two, with \"quotes\" and: colons.\n";
    {
        std::ofstream(dir / "corpus.txt", std::ios::binary) << text;
    }
    const SuiteConfig s = parse_suite("prompt_file: corpus.txt\npaths: {}\n", "s.cfg", dir.path());
    EXPECT_EQ(s.prompt, text);
    EXPECT_FALSE(s.tokens);
    auto error = [&](const std::string& suite) {
        try {
            parse_suite(suite, "s.cfg", dir.path());
        } catch (const SuiteError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    EXPECT_NE(error("prompt_file: missing.txt\n").find("s.cfg:1:14: prompt_file: " + (dir / "missing.txt").string() +
                                                     " not found"),
              std::string::npos)
        << error("prompt_file: missing.txt\n");
    {
        std::ofstream(dir / "empty.txt", std::ios::binary);
    }
    EXPECT_NE(error("prompt_file: empty.txt\n").find("is empty"), std::string::npos);
    EXPECT_NE(error("prompt: x\nprompt_file: corpus.txt\n").find("give one of `prompt`, `prompt_file`, `tokens`"),
              std::string::npos);
    EXPECT_NE(error("prompt_file: corpus.txt\ntokens: [1]\n").find("give one of"), std::string::npos);
}

TEST(Suite, ErrorsNameThePlace) {
    EXPECT_NE(error_of("prompt: x\npromt: y\n").find("s.cfg:2:1: suite config: unknown key `promt`"), std::string::npos)
        << error_of("prompt: x\npromt: y\n");
    EXPECT_NE(error_of("paths:\n  a: {model: m, mode: batched}\n").find("s.cfg:2:"), std::string::npos);
    EXPECT_NE(error_of("paths:\n  a: {model: m, mode: batched}\n").find("full_sequence or incremental"), std::string::npos);
    EXPECT_NE(error_of("paths:\n  a: {backend: cpu}\n").find("`model` (or `dumps` for a dump tree) is required"), std::string::npos);
    EXPECT_NE(error_of("paths:\n  a: {model: m, matmul: dequant, matmul: ggml}\n").find("given twice"), std::string::npos);
    EXPECT_NE(error_of("paths:\n  1a: {model: m}\n").find("not a path name"), std::string::npos);
    EXPECT_NE(error_of("prompt: x\ntokens: [1]\n").find("s.cfg:2:9: give one of `prompt`, `prompt_file`, `tokens`"),
              std::string::npos)
        << error_of("prompt: x\ntokens: [1]\n");
    EXPECT_NE(error_of("tokens: [1, -2]\n").find("token id"), std::string::npos);
    EXPECT_NE(error_of("prompt: [x\n").find("YAML syntax error"), std::string::npos);
    EXPECT_NE(error_of("paths:\n  a: {model: m, inject: \"1:gate:scale=2\"}\n").find("SLOT must be one of"), std::string::npos);
    EXPECT_NE(error_of("- a\n").find("a suite config is a mapping"), std::string::npos);
    EXPECT_NE(error_of("timeout: -1\n").find("timeout"), std::string::npos);
}

// Alias bombs and 100k-deep nesting are refused within a second, each with one error naming
// the place and the cause.
TEST(Suite, AliasBombsAndDeepNestingAreRefusedWithinASecond) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"paths: {}\nlabels: " + testing::laughs(""), ": labels: expected a label (letters, digits, _ - .)"},
        {"paths: {}\nlabels: " + testing::repeated_scalar("", 'x'),
         ": aliases repeat too much of the document: reading it would visit more than"},
        {"prompt: " + testing::nested("[", "", "]", 100000),
         "s.cfg:1:265: YAML nests deeper than 256 levels of [ ] / { }; refused before parsing"},
        {"prompt: " + testing::nested("{a: ", "1", "}", 100000),
         "s.cfg:1:1033: YAML nests deeper than 256 levels of [ ] / { }; refused before parsing"},
        {testing::nested("- ", "x", "", 100000), ": YAML nests deeper than the parser's limit"},
    };
    for (const auto& [text, expected] : cases) {
        const auto start = std::chrono::steady_clock::now();
        const std::string error = error_of(text);
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << expected;
        EXPECT_NE(error.find(expected), std::string::npos) << error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
        EXPECT_EQ(error.rfind("s.cfg", 0), 0u) << error;
    }
}

TEST(Suite, OneDocumentWithoutStrayTokens) {
    EXPECT_NE(error_of(",\n").find("s.cfg:1:1: YAML syntax error: unexpected `,` where a value should start"),
              std::string::npos)
        << error_of(",\n");
    EXPECT_NE(error_of("paths: {}\n---\npaths: {}\n").find("s.cfg:2:1: holds 2 YAML documents; a suite config is "
                                                         "exactly one document"),
              std::string::npos)
        << error_of("paths: {}\n---\npaths: {}\n");
}

TEST(Suite, VariablesExpandFromTheEnvironment) {
    ::setenv("PARITY_RUN_TEST_DIR", "/models", 1);
    ::unsetenv("PARITY_RUN_TEST_UNSET");
    EXPECT_EQ(expand_variables("${PARITY_RUN_TEST_DIR}/a.gguf", "w"), "/models/a.gguf");
    EXPECT_EQ(expand_variables("${PARITY_RUN_TEST_UNSET:-build/m}/a", "w"), "build/m/a");
    EXPECT_EQ(expand_variables("${PARITY_RUN_TEST_DIR:-x}", "w"), "/models");
    EXPECT_EQ(expand_variables("no $vars {here}", "w"), "no $vars {here}");
    EXPECT_THROW(expand_variables("${PARITY_RUN_TEST_UNSET}", "w"), SuiteError);
    EXPECT_THROW(expand_variables("${OPEN", "w"), SuiteError);
    EXPECT_THROW(expand_variables("${1BAD}", "w"), SuiteError);
    const SuiteConfig s = parse("models:\n  m: ${PARITY_RUN_TEST_DIR}/t.gguf\npaths:\n  a: {model: m}\n");
    EXPECT_EQ(s.paths[0].model, "/models/t.gguf");
    EXPECT_NE(error_of("models:\n  m: ${PARITY_RUN_TEST_UNSET}/t\n").find("s.cfg:2:6: environment variable"),
              std::string::npos)
        << error_of("models:\n  m: ${PARITY_RUN_TEST_UNSET}/t\n");
}

TEST(Suite, PathOptionAddsOrOverrides) {
    SuiteConfig s = parse("models:\n  m: /m.gguf\npaths:\n  gguf: {model: m, mode: incremental}\n");
    apply_path_option(s, "gguf=inject=2:attn_out:scale=0.5,matmul=dequant");
    const PathSpec& g = *s.find_path("gguf");
    EXPECT_EQ(g.model, "/m.gguf");
    EXPECT_EQ(g.mode, ForwardMode::Incremental);
    EXPECT_EQ(g.matmul, MatmulPolicy::Dequant);
    ASSERT_EQ(g.faults.size(), 1u);
    EXPECT_EQ(to_string(g.faults[0]), "2:attn_out:scale=0.5");
    apply_path_option(s, "new=model=m,backend=cuda");
    ASSERT_NE(s.find_path("new"), nullptr);
    EXPECT_EQ(s.find_path("new")->model, "/m.gguf");  // a models name works on the command line too
    EXPECT_EQ(describe(*s.find_path("new")),
              "model=/m.gguf,backend=cuda,mode=full_sequence,matmul=ggml,kv_type=f32");
    // The option that set the backend is kept: plan_run refuses an explicit cuda that cannot run.
    EXPECT_EQ(s.find_path("new")->backend_option, "new=model=m,backend=cuda");
    EXPECT_EQ(s.find_path("gguf")->backend_option, "");
    EXPECT_THROW(apply_path_option(s, "other=backend=cpu"), SuiteError);  // a new path needs model=
    EXPECT_THROW(apply_path_option(s, "gguf"), SuiteError);
    EXPECT_THROW(apply_path_option(s, "gguf=colour=red"), SuiteError);
    EXPECT_THROW(apply_path_option(s, "gguf=threads=-1"), SuiteError);
    EXPECT_THROW(apply_path_option(s, "gguf=inject=1:ffn_gate"), SuiteError);
    EXPECT_THROW(apply_path_option(s, "gguf=inject=x:ffn_gate:scale=1"), SuiteError);
    EXPECT_THROW(apply_path_option(s, "gguf=inject=1:ffn_gate:scale=inf"), SuiteError);
}

TEST(Suite, OptionalModels) {
    const SuiteConfig s = parse(
        "models:\n"
        "  real: /m/real.gguf\n"
        "  fixture: {file: ref.gguf, optional: true}\n"
        "  plain: {file: plain.gguf}\n"
        "  notopt: {file: n.gguf, optional: false}\n"
        "paths:\n"
        "  a: {model: real}\n"
        "  b: {model: fixture}\n"
        "  c: {model: plain}\n"
        "  d: {model: /m/direct.gguf}\n"
        "  e: {model: notopt}\n");
    EXPECT_EQ(s.models.at(1).second, "/base/ref.gguf");
    EXPECT_EQ(s.optional_models, std::vector<std::string>{"fixture"});
    EXPECT_FALSE(s.find_path("a")->optional);
    EXPECT_TRUE(s.find_path("b")->optional);
    EXPECT_EQ(s.find_path("b")->model, "/base/ref.gguf");
    EXPECT_FALSE(s.find_path("c")->optional);
    EXPECT_FALSE(s.find_path("d")->optional);
    EXPECT_FALSE(s.find_path("e")->optional);
    // --path model= to another model takes that model's flag.
    SuiteConfig o = s;
    apply_path_option(o, "b=model=real");
    EXPECT_FALSE(o.find_path("b")->optional);
    apply_path_option(o, "a=model=fixture");
    EXPECT_TRUE(o.find_path("a")->optional);

    EXPECT_NE(error_of("models:\n  f: {file: x.gguf, optional: yes}\n").find("s.cfg:2:31: models.f.optional: expected true or false"),
              std::string::npos)
        << error_of("models:\n  f: {file: x.gguf, optional: yes}\n");
    EXPECT_NE(error_of("models:\n  f: {file: x.gguf, optinal: true}\n").find("unknown key `optinal` (did you mean `optional`?)"),
              std::string::npos);
    EXPECT_NE(error_of("models:\n  f: {optional: true}\n").find("s.cfg:2:6: models.f: `file` is required"),
              std::string::npos)
        << error_of("models:\n  f: {optional: true}\n");
}

TEST(Suite, AllowUnmeasured) {
    const SuiteConfig s = parse(
        "contracts:\n"
        "  - {file: a.yaml, allow_unmeasured: true}\n"
        "  - {file: b.yaml, allow_unmeasured: [T-1, T-2]}\n"
        "  - {file: c.yaml}\n"
        "  - {file: d.yaml, allow_unmeasured: false}\n");
    ASSERT_EQ(s.contracts.size(), 4u);
    EXPECT_TRUE(s.contracts[0].allows_unmeasured("ANY"));
    EXPECT_TRUE(s.contracts[1].allows_unmeasured("T-2"));
    EXPECT_FALSE(s.contracts[1].allows_unmeasured("T-3"));
    EXPECT_FALSE(s.contracts[2].allows_unmeasured("T-1"));
    EXPECT_FALSE(s.contracts[3].allows_unmeasured("T-1"));
    EXPECT_NE(error_of("contracts:\n  - {file: a.yaml, allow_unmeasured: maybe}\n").find("s.cfg:2:38: allow_unmeasured: expected true or false"),
              std::string::npos)
        << error_of("contracts:\n  - {file: a.yaml, allow_unmeasured: maybe}\n");
    EXPECT_NE(error_of("contracts:\n  - {file: a.yaml, allow_unmeasured: {x: 1}}\n").find("expected true, false or a list of test ids"),
              std::string::npos);
}

TEST(Suite, TheProjectSuiteParses) {
    const auto file = std::filesystem::path(PARITY_SOURCE_DIR) / "ctest.cfg";
    const SuiteConfig s = load_suite(file);
    EXPECT_EQ(s.prompt, "What is 2+2?");
    for (const char* name : {"apr", "gguf", "gguf_cuda"}) EXPECT_NE(s.find_path(name), nullptr) << name;
    EXPECT_EQ(s.find_path("apr")->mode, ForwardMode::FullSequence);
    EXPECT_EQ(s.find_path("apr")->matmul, MatmulPolicy::Dequant);
    EXPECT_EQ(s.find_path("gguf")->mode, ForwardMode::Incremental);
    EXPECT_EQ(s.find_path("gguf_cuda")->backend, BackendKind::Cuda);
    EXPECT_FALSE(s.contracts.empty());
    // The fixture models are optional (CI without ../shared/fixtures stays green); ours are not.
    EXPECT_TRUE(s.find_path("ref_qwen2_f32")->optional);
    EXPECT_TRUE(s.find_path("ref_llama_q4km")->optional);
    EXPECT_FALSE(s.find_path("apr")->optional);
    for (const auto& p : s.paths) {
        EXPECT_EQ(p.optional, p.name.rfind("ref_", 0) == 0) << p.name;
    }
}

}  // namespace
}  // namespace parity::run
