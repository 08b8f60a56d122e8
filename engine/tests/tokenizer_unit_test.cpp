// The tokenizer on hand-made vocabularies, where each test knows the expected ids independently:
// pre-tokenizer word boundaries (a merge never joins two words), merge order, ignore_merges,
// special tokens, BOS, decoding, errors; and round trips on a synthetic model file.

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/quant/file_type.h"
#include "engine/tokenizer/gpt2_bytes.h"
#include "engine/model/model_file.h"
#include "engine/synth/synth.h"
#include "engine/tokenizer/tokenizer.h"
#include "test_support.h"

namespace parity {
namespace {

using Ids = std::vector<std::int32_t>;

// A byte-level vocabulary: the 256 byte tokens, then one token per merge (given as plain text
// pairs), then extra tokens with their types.
struct VocabBuilder {
    TokenizerData data;

    explicit VocabBuilder(std::string pre = "qwen2") {
        data.model = "gpt2";
        data.pre = std::move(pre);
        for (std::uint8_t b : gpt2::vocabulary_byte_order()) {
            data.tokens.push_back(gpt2::byte_to_utf8(b));
            data.token_types.push_back(1);
        }
    }
    VocabBuilder& merge(const std::string& left, const std::string& right) {
        data.merges.push_back(gpt2::encode_bytes(left) + " " + gpt2::encode_bytes(right));
        return token(gpt2::encode_bytes(left + right), 1);
    }
    VocabBuilder& token(const std::string& text, std::int32_t type) {
        data.tokens.push_back(text);
        data.token_types.push_back(type);
        return *this;
    }
    // Id of the normal token whose bytes are `plain`.
    std::int32_t id(const std::string& plain) const {
        const auto it = std::find(data.tokens.begin(), data.tokens.end(), gpt2::encode_bytes(plain));
        EXPECT_NE(it, data.tokens.end()) << plain;
        return static_cast<std::int32_t>(it - data.tokens.begin());
    }
    std::int32_t special(const std::string& text) const {
        return static_cast<std::int32_t>(std::find(data.tokens.begin(), data.tokens.end(), text) - data.tokens.begin());
    }
    Ids ids(std::initializer_list<const char*> pieces) const {
        Ids out;
        for (const char* p : pieces) out.push_back(id(p));
        return out;
    }
};

TEST(TokenizerBpe, LowestRankMergesFirst) {
    VocabBuilder v;
    v.merge("b", "c").merge("a", "b");  // "b c" has rank 0
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("abc"), v.ids({"a", "bc"}));

    VocabBuilder w;
    w.merge("a", "b").merge("b", "c");  // now "a b" first
    EXPECT_EQ(Tokenizer(w.data).encode("abc"), w.ids({"ab", "c"}));
}

TEST(TokenizerBpe, EqualRanksMergeLeftmostFirstAndResultsKeepMerging) {
    VocabBuilder v;
    v.merge("a", "a").merge("aa", "aa");
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("aaa"), v.ids({"aa", "a"}));
    EXPECT_EQ(t.encode("aaaaa"), v.ids({"aaaa", "a"}));
    EXPECT_EQ(t.encode("aaaaaa"), v.ids({"aaaa", "aa"}));
}

TEST(TokenizerBpe, MultiByteCharactersAndLongWords) {
    VocabBuilder v;
    v.merge("\xC3", "\xA9");  // é
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("\xC3\xA9"), v.ids({"\xC3\xA9"}));
    // A long word stays fast (priority queue, not rescanning): 200k letters.
    const std::string long_word(200000, 'a');
    VocabBuilder w;
    w.merge("a", "a").merge("aa", "aa").merge("aaaa", "aaaa");
    const auto ids = Tokenizer(w.data).encode(long_word);
    EXPECT_EQ(ids.size(), 200000u / 8);
    EXPECT_EQ(Tokenizer(w.data).decode(ids), long_word);
}

TEST(TokenizerBpe, PieceMissingFromVocabularyIsAClearError) {
    VocabBuilder v;
    v.data.tokens[v.id("z")] = "not-a-byte";  // the vocabulary no longer holds byte 'z'
    const Tokenizer t(v.data);
    try {
        t.encode("zz");
        FAIL() << "expected UsageError";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("'z' is not in the vocabulary"), std::string::npos) << e.what();
    }
}

// Merges across every boundary the pre-tokenizer must keep: if a word boundary were missed the
// merged token would appear.
VocabBuilder boundary_vocab(const std::string& pre) {
    VocabBuilder v(pre);
    v.merge("1", "2").merge("12", "3").merge("4", "5").merge("3", "4")   // digits
        .merge("t", "'").merge("'", "s").merge("'", "S").merge("'", "x").merge("'", "l").merge("'l", "l")  // contractions
        .merge(" ", " ").merge(" ", "b").merge("a", " ")                   // spaces
        .merge("!", "\n").merge("!\n", "\n").merge(" ", "\n").merge(" \n", "\n").merge("\n", "b")
        .merge("!", "a").merge(" ", "!")
        .merge("\xC3\xA9", "a").merge("\xC3", "\xA9")                      // é + letter: one word
        .merge("x", "1").merge("1", "x");
    return v;
}

TEST(TokenizerPreQwen2, DigitsAreSingleWords) {
    const auto v = boundary_vocab("qwen2");
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("12345"), v.ids({"1", "2", "3", "4", "5"}));
    EXPECT_EQ(t.encode("x1x"), v.ids({"x", "1", "x"}));
}

TEST(TokenizerPreLlama3, DigitsGoInThrees) {
    const auto v = boundary_vocab("llama-bpe");
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("12345", false), v.ids({"123", "45"}));
    EXPECT_EQ(t.encode("1234", false), v.ids({"123", "4"}));
}

class TokenizerPreBoth : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerPreBoth, ContractionsAreTheirOwnWords) {
    const auto v = boundary_vocab(GetParam());
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("t's", false), v.ids({"t", "'s"}));
    EXPECT_EQ(t.encode("t'S", false), v.ids({"t", "'S"}));   // case-insensitive
    EXPECT_EQ(t.encode("t'll", false), v.ids({"t", "'ll"}));
    EXPECT_EQ(t.encode("'x", false), v.ids({"'x"}));        // not a contraction: ' leads the letters
}

TEST_P(TokenizerPreBoth, WhitespaceRuns) {
    const auto v = boundary_vocab(GetParam());
    const Tokenizer t(v.data);
    // \s+(?!\S): the run but its last space, which leads the next word.
    EXPECT_EQ(t.encode("a  b", false), v.ids({"a", " ", " b"}));
    // At the end of the text the whole run is one word.
    EXPECT_EQ(t.encode("a  ", false), v.ids({"a", "  "}));
    // \s*[\r\n]+ ends after the last newline; the letter after it starts a new word.
    EXPECT_EQ(t.encode("a \n\nb", false), v.ids({"a", " \n\n", "b"}));
    // Punctuation takes the newlines that follow it.
    EXPECT_EQ(t.encode("!\n\nb", false), v.ids({"!\n\n", "b"}));
    // A space leads punctuation; punctuation leads letters.
    EXPECT_EQ(t.encode(" !", false), v.ids({" !"}));
    EXPECT_EQ(t.encode("!a", false), v.ids({"!a"}));
}

TEST_P(TokenizerPreBoth, NonAsciiLettersJoinWords) {
    const auto v = boundary_vocab(GetParam());
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("\xC3\xA9" "a", false), v.ids({"\xC3\xA9" "a"}));  // é is \p{L}
    // U+00A0 (no-break space) is \s: "a" and the NBSP are separate words; the NBSP then leads "b".
    const auto ids = t.encode("a\xC2\xA0" "b", false);
    EXPECT_EQ(ids.front(), v.id("a"));
    EXPECT_EQ(t.decode(ids), "a\xC2\xA0" "b");
}

INSTANTIATE_TEST_SUITE_P(Rules, TokenizerPreBoth, ::testing::Values("qwen2", "llama-bpe"),
                         [](const auto& p) { return testing::param_name(p.param); });

TEST(TokenizerPre, LlamaBpeTakesWholeWordTokensBeforeMerging) {
    // "abc" is a token, but the merges only reach "ab" + "c".
    VocabBuilder q("qwen2");
    q.merge("a", "b").token(gpt2::encode_bytes("abc"), 1);
    EXPECT_EQ(Tokenizer(q.data).encode("abc"), q.ids({"ab", "c"}));
    VocabBuilder l("llama-bpe");
    l.merge("a", "b").token(gpt2::encode_bytes("abc"), 1);
    EXPECT_EQ(Tokenizer(l.data).encode("abc", false), l.ids({"abc"}));
}

TEST(TokenizerSpecial, ControlTokensMatchLongestFirst) {
    VocabBuilder v;
    v.token("<|a|>", 3).token("<|a|>b", 3).token("<|user|>", 4);
    const Tokenizer t(v.data);
    const auto a = v.special("<|a|>");
    const auto ab = v.special("<|a|>b");
    const auto user = v.special("<|user|>");
    EXPECT_EQ(t.encode("<|a|>b<|a|>x"), (Ids{ab, a, v.id("x")}));
    EXPECT_EQ(t.encode("x<|user|><|a|>"), (Ids{v.id("x"), user, a}));
    // parse_special = false: control tokens are text, user-defined ones are still matched.
    const auto plain = t.encode("<|a|><|user|>", true, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), a), 0);
    EXPECT_EQ(plain.back(), user);
    EXPECT_EQ(t.decode(plain), "<|a|><|user|>");
}

TEST(TokenizerSpecial, EogTextsAreControlAndEndGeneration) {
    VocabBuilder v;
    v.token("<|im_end|>", 1).token("<|eos|>", 3).token("<|other|>", 3);  // <|im_end|> stored as normal
    v.data.eos = v.special("<|eos|>");
    const Tokenizer t(v.data);
    const auto im_end = v.special("<|im_end|>");
    EXPECT_TRUE(t.is_eog(im_end));
    EXPECT_TRUE(t.is_control(im_end));
    EXPECT_TRUE(t.is_eog(v.special("<|eos|>")));
    EXPECT_FALSE(t.is_eog(v.special("<|other|>")));
    EXPECT_FALSE(t.is_eog(-1));
    EXPECT_FALSE(t.is_eog(1 << 20));
    EXPECT_EQ(t.encode("x<|im_end|>"), (Ids{v.id("x"), im_end}));
}

TEST(TokenizerSpecial, BosFollowsTheModelAndAddSpecial) {
    VocabBuilder v("llama-bpe");
    v.token("<s>", 3);
    v.data.bos = v.special("<s>");
    v.data.add_bos = true;
    const Tokenizer t(v.data);
    EXPECT_EQ(t.encode("x"), (Ids{v.special("<s>"), v.id("x")}));
    EXPECT_EQ(t.encode("x", false), (Ids{v.id("x")}));
    v.data.add_bos = false;
    EXPECT_EQ(Tokenizer(v.data).encode("x"), (Ids{v.id("x")}));
}

TEST(TokenizerDecode, PiecesAndSpecialRendering) {
    VocabBuilder v;
    v.merge(" ", "x").token("<|c|>", 3).token("<u>", 4).token("unused", 5);
    const Tokenizer t(v.data);
    EXPECT_EQ(t.piece(v.id(" x")), " x");
    EXPECT_EQ(t.token_text(v.id(" x")), "\xC4\xA0x");  // Ġx
    EXPECT_EQ(t.piece(v.id("\xC3")), "\xC3");            // one byte of a UTF-8 sequence
    const Ids ids{v.special("<|c|>"), v.id(" x"), v.special("<u>"), v.special("unused")};
    EXPECT_EQ(t.decode(ids), "<|c|> x<u>");
    EXPECT_EQ(t.decode(ids, false), " x<u>");
    EXPECT_THROW(t.piece(-1), UsageError);
    EXPECT_THROW(t.piece(t.n_vocab()), UsageError);
    const Ids bad{0, 5000};
    EXPECT_THROW(t.decode(bad), UsageError);
}

TEST(TokenizerUtf8, InvalidBytesBecomeReplacementCharacters) {
    const VocabBuilder v;
    const Tokenizer t(v.data);
    // As llama.cpp: each byte that does not start a complete sequence is U+FFFD (EF BF BD).
    EXPECT_EQ(t.decode(t.encode("a\xFF" "b")), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(t.decode(t.encode("\xE4\xBD")), "\xEF\xBF\xBD\xEF\xBF\xBD");
    // A code point beyond U+10FFFF cannot be re-encoded (llama.cpp throws too).
    EXPECT_THROW(t.encode("\xF7\xBF\xBF\xBF"), UsageError);
}

TEST(TokenizerErrors, UnsupportedModelsAreRejected) {
    VocabBuilder v;
    v.data.pre = "gpt-9";
    EXPECT_THROW(Tokenizer{v.data}, UsageError);
    v.data.pre = "";
    EXPECT_THROW(Tokenizer{v.data}, UsageError);
    v.data.pre = "qwen2";
    v.data.model = "t5";
    EXPECT_THROW(Tokenizer{v.data}, UsageError);
    v.data.model = "gpt2";
    v.data.add_bos = true;  // no bos id
    EXPECT_THROW(Tokenizer{v.data}, UsageError);
    v.data.add_bos = false;
    v.data.token_types.pop_back();
    EXPECT_THROW(Tokenizer{v.data}, UsageError);
}

// The synthetic models pv synth writes: text round-trips through the file's tokenizer.
class TokenizerSynth : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerSynth, RoundTripsText) {
    testing::TempDir dir;
    const auto path = (dir / "synth.gguf").string();
    synth::write_gguf(synth::preset(GetParam(), "tiny"), 42, FileType::ALL_F32, path);
    const Tokenizer t(ModelFile::open(path).tokenizer());
    EXPECT_EQ(t.n_vocab(), 1024);
    const std::vector<std::string> texts = {
        "The quick brown fox jumps over the lazy dog.", "  leading and trailing  ", "line one\nline two\r\n\n",
        "digits 0 12 345 6789 and 3.14", "caf\xC3\xA9 na\xC3\xAFve \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80!",
        "tabs\t\tand\vvertical\fform", "don't can't WON'T", "", "\n", "     "};
    for (const auto& s : texts) {
        const auto ids = t.encode(s, false);
        EXPECT_EQ(t.decode(ids), s) << "'" << s << "'";
        for (const auto id : ids) EXPECT_TRUE(id >= 0 && id < t.n_vocab());
    }
    // Learned merges apply: common English words take fewer tokens than bytes.
    EXPECT_LT(t.encode("the model", false).size(), 9u);
}

INSTANTIATE_TEST_SUITE_P(Archs, TokenizerSynth, ::testing::Values("qwen2", "llama"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace parity
