#include "falsifiers/registry.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace parity::falsifiers {
namespace {

// Small builders for parameter trees (line numbers make positions checkable).
ParamNode s(std::string text, int line = 0, int col = 0) { return ParamNode::scalar(std::move(text), {line, col}); }
ParamNode q(std::string text, int line = 0, int col = 0) { return ParamNode::scalar(std::move(text), {line, col}, true); }
ParamNode seq(std::vector<ParamNode> items, int line = 0, int col = 0) {
    return ParamNode::sequence(std::move(items), {line, col});
}
ParamMember m(std::string key, ParamNode value, int line = 0, int col = 0) {
    return {std::move(key), {line, col}, std::move(value)};
}
ParamNode block(std::vector<ParamMember> members, int line = 1, int col = 1) {
    return ParamNode::mapping(std::move(members), {line, col});
}

// The DESIGN.md example binding.
ParamNode design_example() {
    return block({m("falsifier", s("stat_ratio_band", 2, 20), 2, 9),
                  m("paths", seq({s("apr", 3, 17), s("gguf", 3, 22)}, 3, 16), 3, 9),
                  m("sample", s("last_token", 4, 17), 4, 9),
                  m("slot", s("ffn_swiglu_inner", 5, 15), 5, 9),
                  m("stat", s("std_dev", 6, 15), 6, 9),
                  m("layers", s("all", 7, 17), 7, 9),
                  m("band", seq({s("0.5", 8, 16), s("2.0", 8, 21)}, 8, 15), 8, 9)});
}

const Registry& reg() {
    static const Registry r = Registry::with_builtin_specs();
    return r;
}

bool has_issue(const CheckResult& r, IssueCode code, const std::string& fragment) {
    return std::any_of(r.issues.begin(), r.issues.end(), [&](const Issue& i) {
        return i.code == code && i.message.find(fragment) != std::string::npos;
    });
}

std::string dump(const CheckResult& r) {
    std::string out;
    for (const auto& i : r.issues) {
        out += std::to_string(i.pos.line) + ":" + std::to_string(i.pos.column) + " " + i.message + "\n";
    }
    return out;
}

TEST(Registry, HasTheBuiltinFalsifiers) {
    const std::vector<std::string> expected = {"sample_count_parity", "stat_ratio_band",     "slot_tolerance",
                                               "finite",              "logits_agreement",    "greedy_tokens_agree",
                                               "prefill_vs_decode",   "output_matches",      "reference_logits",
                                               "per_op",              "contract_valid",
                                               "kl_divergence"};
    EXPECT_EQ(reg().specs().size(), expected.size());
    for (const auto& name : expected) {
        const FalsifierSpec* spec = reg().find(name);
        ASSERT_NE(spec, nullptr) << name;
        EXPECT_EQ(spec->name, name);
        EXPECT_FALSE(spec->summary.empty()) << name;
        EXPECT_FALSE(spec->params.empty()) << name;
        for (const auto& p : spec->params) EXPECT_FALSE(p.description.empty()) << name << "." << p.name;
    }
    EXPECT_EQ(reg().find("no_such_falsifier"), nullptr);
    EXPECT_EQ(&Registry::builtin(), &Registry::builtin());
    EXPECT_EQ(Registry::builtin().specs().size(), expected.size());
}

TEST(Registry, EveryDefaultIsAValidValueOfItsParameter) {
    for (const auto& spec : reg().specs()) {
        for (const auto& p : spec.params) {
            if (p.default_text.empty()) continue;
            EXPECT_FALSE(p.required) << spec.name << "." << p.name << " is required and has a default";
            // Give just this parameter, written as its default: it must parse without issues.
            const auto r = reg().check(spec, block({m(p.name, s(p.default_text))}));
            for (const auto& i : r.issues) EXPECT_NE(i.param, p.name) << spec.name << ": " << i.message;
        }
        for (const auto& c : spec.constraints) {
            for (const auto& n : c.params) EXPECT_NE(spec.param(n), nullptr) << spec.name << " constraint names " << n;
        }
    }
}

TEST(Registry, AcceptsTheDesignExampleAndTypesItsParameters) {
    const auto r = reg().check(design_example());
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.params.falsifier(), "stat_ratio_band");
    EXPECT_EQ(r.params.at("paths").names, (std::vector<std::string>{"apr", "gguf"}));
    EXPECT_EQ(r.params.at("sample").text, "last_token");
    EXPECT_EQ(r.params.at("slot").text, "ffn_swiglu_inner");
    EXPECT_EQ(r.params.at("stat").text, "std_dev");
    EXPECT_TRUE(r.params.at("layers").all);
    EXPECT_DOUBLE_EQ(r.params.at("band").lo, 0.5);
    EXPECT_DOUBLE_EQ(r.params.at("band").hi, 2.0);
    EXPECT_EQ(r.params.at("band").pos.line, 8);
    EXPECT_FALSE(r.params.at("band").from_default);
    // Not written: the default applies and says so.
    ASSERT_TRUE(r.params.has("min_denominator"));
    EXPECT_TRUE(r.params.at("min_denominator").from_default);
    EXPECT_DOUBLE_EQ(r.params.at("min_denominator").number, 1e-9);
    EXPECT_THROW((void)r.params.at("nonexistent"), std::out_of_range);
}

TEST(Registry, UnknownFalsifierSuggestsTheClosestName) {
    auto b = design_example();
    b.members[0].value = s("stat_ratio_bnd", 2, 20);
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::UnknownFalsifier);
    EXPECT_NE(r.issues[0].message.find("unknown falsifier `stat_ratio_bnd` (did you mean `stat_ratio_band`?)"),
              std::string::npos)
        << r.issues[0].message;
    EXPECT_EQ(r.issues[0].pos.line, 2);
    EXPECT_EQ(r.issues[0].pos.column, 20);
    EXPECT_EQ(reg().closest("fnite"), "finite");
    EXPECT_EQ(reg().closest("completely_different_words"), "");
}

TEST(Registry, BlockWithoutFalsifierOrNotAMapping) {
    auto r = reg().check(block({m("paths", seq({s("a"), s("b")}))}, 4, 7));
    ASSERT_EQ(r.issues.size(), 1u);
    EXPECT_EQ(r.issues[0].code, IssueCode::UnknownFalsifier);
    EXPECT_NE(r.issues[0].message.find("names no falsifier"), std::string::npos);
    EXPECT_EQ(r.issues[0].pos.line, 4);

    r = reg().check(s("stat_ratio_band", 9, 3));
    ASSERT_EQ(r.issues.size(), 1u);
    EXPECT_EQ(r.issues[0].code, IssueCode::NotAMapping);
    EXPECT_EQ(r.issues[0].pos.line, 9);
}

TEST(Registry, FalsifierGivenTwice) {
    auto b = design_example();
    b.members.push_back(m("falsifier", s("finite", 9, 18), 9, 7));
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::Conflict);
    EXPECT_EQ(r.issues[0].message, "`falsifier` is given twice");
    EXPECT_EQ(r.issues[0].pos.line, 9);
}

TEST(Registry, MissingRequiredParameterNamesItsType) {
    auto b = design_example();
    b.members.erase(b.members.begin() + 4);  // stat
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::MissingParameter);
    EXPECT_EQ(r.issues[0].param, "stat");
    EXPECT_NE(r.issues[0].message.find("falsifier stat_ratio_band requires `stat` (stat name)"), std::string::npos)
        << r.issues[0].message;
    EXPECT_EQ(r.issues[0].pos.line, 1);  // the block
}

TEST(Registry, UnknownParameterIsAnErrorWithSuggestion) {
    auto b = design_example();
    b.members.push_back(m("layer", s("3", 9, 16), 9, 9));
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::UnknownParameter);
    EXPECT_NE(r.issues[0].message.find("takes no parameter `layer` (did you mean `layers`?)"), std::string::npos)
        << r.issues[0].message;
    EXPECT_EQ(r.issues[0].pos.line, 9);
    EXPECT_EQ(r.issues[0].pos.column, 9);
}

TEST(Registry, UnknownSlotStatSampleAndPath) {
    auto b = design_example();
    b.members[3].value = s("ffn_swiglu", 5, 15);
    b.members[4].value = s("stddev", 6, 15);
    b.members[2].value = s("lasttoken", 4, 17);
    b.members[1].value = seq({s("apr", 3, 17), s("9gguf", 3, 22)}, 3, 16);
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 4u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::BadPathName);
    EXPECT_EQ(r.issues[0].pos.column, 22);
    EXPECT_EQ(r.issues[1].code, IssueCode::UnknownChoice);
    EXPECT_NE(r.issues[1].message.find("`sample` must be one of last_token, full, got `lasttoken`"), std::string::npos);
    EXPECT_EQ(r.issues[2].code, IssueCode::UnknownSlot);
    EXPECT_NE(r.issues[2].message.find("names no slot: `ffn_swiglu` (did you mean `ffn_swiglu_inner`?)"),
              std::string::npos)
        << r.issues[2].message;
    EXPECT_EQ(r.issues[3].code, IssueCode::UnknownStat);
    EXPECT_NE(r.issues[3].message.find("did you mean `std_dev`?"), std::string::npos);
    EXPECT_EQ(r.issues[3].pos.line, 6);
}

TEST(Registry, KnownPathsRestrictPathNames) {
    CheckOptions opts;
    opts.known_paths = std::vector<std::string>{"apr", "gguf", "gguf_cuda"};
    EXPECT_TRUE(reg().check(design_example(), opts).ok());
    opts.known_paths = std::vector<std::string>{"apr", "gguf_cpu"};
    const auto r = reg().check(design_example(), opts);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::BadPathName);
    EXPECT_NE(r.issues[0].message.find("names path `gguf`, which the suite does not define (did you mean `gguf_cpu`?)"),
              std::string::npos)
        << r.issues[0].message;
    EXPECT_EQ(r.issues[0].pos.line, 3);
    EXPECT_EQ(r.issues[0].pos.column, 22);
}

TEST(Registry, IllTypedValuesAreRejectedWithTheExpectedType) {
    auto b = design_example();
    b.members[1].value = s("apr", 3, 16);                                   // paths: not a list
    b.members[6].value = seq({s("2.0", 8, 16), s("0.5", 8, 21)}, 8, 15);    // empty band
    b.members.push_back(m("min_denominator", q("1e-9", 10, 26), 10, 9));    // quoted number
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 3u) << dump(r);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`paths` must be a list of 2 path names, got `apr`"));
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`band` is empty: lower bound 2.0 is above upper bound 0.5"));
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`min_denominator` must be a number >= 0, got `1e-9`"));
}

TEST(Registry, PathListLengthAndDuplicates) {
    auto b = design_example();
    b.members[1].value = seq({s("apr"), s("gguf"), s("gguf_cuda")}, 3, 16);
    auto r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "must be a list of 2 path names, got 3 items")) << dump(r);
    b.members[1].value = seq({s("apr"), s("apr", 3, 22)}, 3, 16);
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "names path `apr` twice")) << dump(r);
}

TEST(Registry, BandAndNumbersMustBeFinite) {
    auto b = design_example();
    b.members[6].value = seq({s("0.5"), s(".inf")}, 8, 15);
    auto r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "upper bound must be a finite number")) << dump(r);
    b.members[6].value = seq({s("0.5"), s("2.0"), s("3.0")}, 8, 15);
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "must be a band [lo, hi] of two numbers, got 3 items")) << dump(r);
    b.members[6].value = seq({s("0.5"), s("2.0")}, 8, 15);
    b.members.push_back(m("min_denominator", s("-1")));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`min_denominator` must be a number >= 0, got -1")) << dump(r);
}

TEST(Registry, LayersAcceptAllOneIndexOrAList) {
    auto b = design_example();
    b.members[5].value = s("3");
    auto r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.params.at("layers").indices, (std::vector<std::int64_t>{3}));
    b.members[5].value = seq({s("0"), s("27")});
    r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.params.at("layers").indices, (std::vector<std::int64_t>{0, 27}));
    b.members[5].value = seq({s("0"), s("-1", 7, 22)});
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`-1` is not an integer >= 0")) << dump(r);
    b.members[5].value = seq({s("1"), s("1")});
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "names 1 twice")) << dump(r);
    b.members[5].value = s("some");
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`layers` must be `all`, a layer index or a list")) << dump(r);
}

TEST(Registry, SlotToleranceNeedsExactlyOneSlotFormAndSomeTolerance) {
    auto base = [] {
        return block({m("falsifier", s("slot_tolerance")), m("paths", seq({s("gguf"), s("gguf_cuda")}))});
    };
    auto r = reg().check(base());
    EXPECT_TRUE(has_issue(r, IssueCode::MissingParameter, "needs one of `slot` or `slots`")) << dump(r);
    EXPECT_TRUE(has_issue(r, IssueCode::MissingParameter, "needs at least one of `atol`, `rtol` or `nmse`")) << dump(r);

    auto b = base();
    b.members.push_back(m("slot", s("qkv")));
    b.members.push_back(m("slots", s("all"), 7, 3));
    b.members.push_back(m("atol", s("1e-3")));
    r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 1u) << dump(r);
    EXPECT_EQ(r.issues[0].code, IssueCode::Conflict);
    EXPECT_NE(r.issues[0].message.find("give only one of `slot` or `slots`"), std::string::npos);
    EXPECT_EQ(r.issues[0].pos.line, 7);

    b = base();
    b.members.push_back(m("slots", seq({s("attn_norm"), s("qkv"), s("logits")})));
    b.members.push_back(m("atol", s("1e-3")));
    b.members.push_back(m("rtol", s("5e-3")));
    r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.params.at("slots").names, (std::vector<std::string>{"attn_norm", "qkv", "logits"}));
    EXPECT_FALSE(r.params.has("nmse"));

    b = base();
    b.members.push_back(m("slots", s("all")));
    b.members.push_back(m("nmse", s("1e-4")));
    r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.params.at("slots").all);
    EXPECT_EQ(r.params.at("slots").names.size(), 13u);
}

TEST(Registry, LogitsAgreementTopKNeedsMinOverlapNotAboveIt) {
    auto base = [] {
        return block({m("falsifier", s("logits_agreement")), m("paths", seq({s("apr"), s("gguf")}))});
    };
    auto r = reg().check(base());
    EXPECT_TRUE(has_issue(r, IssueCode::MissingParameter, "needs at least one of `min_cosine`, `max_kl`")) << dump(r);

    auto b = base();
    b.members.push_back(m("top_k", s("5"), 4, 3));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::MissingParameter, "`top_k` needs `min_overlap`")) << dump(r);

    b.members.push_back(m("min_overlap", s("6"), 5, 3));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::Conflict, "`min_overlap` (6) must not exceed `top_k` (5)")) << dump(r);

    b = base();
    b.members.push_back(m("min_cosine", s("0.999")));
    b.members.push_back(m("max_kl", s("0.01")));
    b.members.push_back(m("max_abs", s("1.0")));
    b.members.push_back(m("top_k", s("5")));
    b.members.push_back(m("min_overlap", s("4")));
    r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.params.at("positions").last);
    EXPECT_EQ(r.params.at("top_k").integer, 5);

    b = base();
    b.members.push_back(m("min_cosine", s("1.5")));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`min_cosine` must be a number in [-1, 1], got 1.5")) << dump(r);
}

TEST(Registry, OutputMatchesChecksTheRegexAndCounts) {
    auto b = block({m("falsifier", s("output_matches")), m("path", s("gguf")), m("prompt", q("What is 2+2?")),
                    m("n_tokens", s("16")), m("regex", q("\\b4\\b"))});
    auto r = reg().check(b);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.params.at("regex").text, "\\b4\\b");
    EXPECT_EQ(r.params.at("n_tokens").integer, 16);

    b.members[4].value = q("(unclosed", 6, 12);
    b.members[3].value = s("0", 5, 15);
    r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 2u) << dump(r);
    EXPECT_NE(r.issues[0].message.find("`n_tokens` must be an integer >= 1, got 0"), std::string::npos);
    EXPECT_NE(r.issues[1].message.find("`regex` `(unclosed` is not a valid regular expression"), std::string::npos);
    EXPECT_EQ(r.issues[1].pos.line, 6);

    b.members[4].value = q(std::string(1001, 'a'));
    b.members[3].value = s("16");
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::InvalidValue, "`regex` is longer than 1000 characters")) << dump(r);

    b.members[4].value = q("4");
    b.members.push_back(m("tokens", seq({s("3838"), s("374")}), 8, 3));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::Conflict, "give only one of `prompt` or `tokens`")) << dump(r);

    b.members.pop_back();
    b.members.push_back(m("n_tokens", s("3"), 9, 3));
    r = reg().check(b);
    EXPECT_TRUE(has_issue(r, IssueCode::Conflict, "`n_tokens` is given twice")) << dump(r);
}

TEST(Registry, EachFalsifierAcceptsAMinimalGoodBinding) {
    const std::vector<ParamNode> good = {
        block({m("falsifier", s("sample_count_parity")), m("paths", seq({s("apr"), s("gguf")})),
               m("sample", s("full"))}),
        design_example(),
        block({m("falsifier", s("slot_tolerance")), m("paths", seq({s("gguf"), s("gguf_cuda")})),
               m("slot", s("ffn_out")), m("atol", s("1e-3")), m("rtol", s("5e-3")), m("layers", s("all"))}),
        block({m("falsifier", s("finite")), m("path", s("gguf_cuda"))}),
        block({m("falsifier", s("logits_agreement")), m("paths", seq({s("apr"), s("gguf")})),
               m("min_cosine", s("0.999"))}),
        block({m("falsifier", s("greedy_tokens_agree")), m("paths", seq({s("gguf"), s("gguf_cuda")})),
               m("n_tokens", s("32"))}),
        block({m("falsifier", s("prefill_vs_decode")), m("path", s("gguf"))}),
        block({m("falsifier", s("output_matches")), m("path", s("gguf_cuda")), m("n_tokens", s("8")),
               m("regex", q("4"))}),
        block({m("falsifier", s("reference_logits")), m("path", s("gguf")),
               m("reference", q("fixtures/qwen2-logits.bin")), m("positions", seq({s("0"), s("6")})),
               m("min_cosine", s("0.99"))}),
        block({m("falsifier", s("per_op")), m("paths", seq({s("gguf"), s("apr")})), m("min_cosine", s("0.999")),
               m("stages", seq({s("attn_norm"), s("ffn_out")}))}),
        block({m("falsifier", s("contract_valid")), m("strict", s("true"))}),
        block({m("falsifier", s("kl_divergence")), m("paths", seq({s("apr"), s("gguf_q8")})),
               m("prompt_file", q("corpus/en-small.txt")), m("n_ctx", s("128")), m("max_mean_kld", s("0.01"))}),
    };
    std::vector<std::string> seen;
    for (const auto& b : good) {
        const auto r = reg().check(b);
        EXPECT_TRUE(r.ok()) << r.params.falsifier() << ":\n" << dump(r);
        seen.push_back(r.params.falsifier());
    }
    for (const auto& spec : reg().specs()) {
        EXPECT_NE(std::find(seen.begin(), seen.end(), spec.name), seen.end()) << spec.name << " has no good example";
    }
    // Defaults are filled in for what was not written.
    const auto r = reg().check(good[6]);
    EXPECT_DOUBLE_EQ(r.params.at("atol").number, 1e-4);
    EXPECT_DOUBLE_EQ(r.params.at("rtol").number, 1e-3);
    EXPECT_TRUE(r.params.at("slots").all);
}

TEST(Registry, NullValuesAndNestedMappingsAreRejected) {
    auto b = design_example();
    b.members[4].value = ParamNode{};  // `stat:` with nothing
    b.members[4].value.pos = {6, 9};
    b.members[3].value = block({m("x", s("y"))}, 5, 15);
    const auto r = reg().check(b);
    ASSERT_EQ(r.issues.size(), 2u) << dump(r);
    EXPECT_NE(r.issues[0].message.find("`slot` must be a slot name, got a mapping"), std::string::npos);
    EXPECT_NE(r.issues[1].message.find("`stat` has no value"), std::string::npos);
}

TEST(Registry, ImplementationsAttachByName) {
    Registry r = Registry::with_builtin_specs();
    EXPECT_EQ(r.factory("finite"), nullptr);
    r.attach("finite", [](const BoundParams&) { return std::shared_ptr<Falsifier>(); });
    ASSERT_NE(r.factory("finite"), nullptr);
    EXPECT_EQ(r.factory("stat_ratio_band"), nullptr);
    EXPECT_THROW(r.attach("not_registered", {}), std::invalid_argument);
}

TEST(Registry, VocabularyMatchesTheTraceModel) {
    EXPECT_EQ(layer_slot_names().size(), 10u);
    EXPECT_EQ(layer_slot_names().front(), "attn_norm");
    EXPECT_EQ(layer_slot_names().back(), "output");
    EXPECT_EQ(model_slot_names().size(), 3u);
    EXPECT_EQ(stat_names().size(), 8u);
    EXPECT_EQ(sample_names().size(), 2u);
    EXPECT_TRUE(is_path_name("gguf_cuda"));
    EXPECT_TRUE(is_path_name("apr-q4k"));
    EXPECT_FALSE(is_path_name("9gguf"));
    EXPECT_FALSE(is_path_name(""));
    EXPECT_FALSE(is_path_name("a b"));
}

}  // namespace
}  // namespace parity::falsifiers
