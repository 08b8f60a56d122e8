// The SentencePiece (llama) tokenizer on hand-made vocabularies whose ids are known: byte
// fallback, merges by score, the space prefix, Phi-3's right-stripping special tokens, EOS,
// decoding.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/model/model_file.h"
#include "engine/tokenizer/tokenizer.h"

namespace parity {
namespace {

using Ids = std::vector<std::int32_t>;

constexpr std::int32_t kUnk = 0;
constexpr std::int32_t kBos = 1;
constexpr std::int32_t kEos = 2;
constexpr std::int32_t byte_id(unsigned char b) { return 3 + b; }  // <0x00> is id 3
constexpr std::int32_t kFirstPiece = 259;

// <unk> <s> </s>, the 256 byte tokens, then pieces (type 1) with the given scores.
TokenizerData spm_vocab(const std::vector<std::pair<std::string, float>>& pieces) {
    TokenizerData d;
    d.model = "llama";
    d.tokens = {"<unk>", "<s>", "</s>"};
    d.token_types = {2, 3, 3};
    d.scores = {0, 0, 0};
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        d.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
        d.token_types.push_back(6);
        d.scores.push_back(0);
    }
    for (const auto& [text, score] : pieces) {
        d.tokens.push_back(text);
        d.token_types.push_back(1);
        d.scores.push_back(score);
    }
    d.bos = kBos;
    d.eos = kEos;
    d.unk = kUnk;
    return d;
}

const std::string kU = "\xE2\x96\x81";  // ▁

TEST(TokenizerSpm, UnknownCharactersFallBackToByteTokens) {
    // 259 ▁, 260 a
    const Tokenizer t(spm_vocab({{kU, -1}, {"a", -2}}));
    EXPECT_EQ(t.encode("ab", false), (Ids{259, 260, byte_id('b')}));
    // é is C3 A9; 日 is E6 97 A5: one byte token per byte, in order.
    EXPECT_EQ(t.encode("a\xC3\xA9", false), (Ids{259, 260, byte_id(0xC3), byte_id(0xA9)}));
    EXPECT_EQ(t.encode("\xE6\x97\xA5", false), (Ids{259, byte_id(0xE6), byte_id(0x97), byte_id(0xA5)}));
    // Newlines and tabs are not spaces: they stay bytes.
    EXPECT_EQ(t.encode("a\n\ta", false), (Ids{259, 260, byte_id('\n'), byte_id('\t'), 260}));
}

TEST(TokenizerSpm, ByteWithoutTokenBecomesTheOneCharacterTokenOrUnk) {
    TokenizerData d = spm_vocab({{kU, -1}, {"a", -2}, {"b", -3}});  // b is 261
    d.tokens[static_cast<std::size_t>(byte_id('b'))] = "<0x62-gone>";
    d.tokens[static_cast<std::size_t>(byte_id('c'))] = "<0x63-gone>";
    d.token_types[static_cast<std::size_t>(byte_id('b'))] = 1;
    d.token_types[static_cast<std::size_t>(byte_id('c'))] = 1;
    const Tokenizer t(d);
    // "b" is a token itself; "c" has neither <0x63> nor "c": <unk>.
    EXPECT_EQ(t.encode("abc", false), (Ids{259, 260, 261, kUnk}));
}

TEST(TokenizerSpm, HighestScoreMergesFirstNotIdOrder) {
    // 259 ▁, 260 a, 261 b, 262 c, 263 bc, 264 ab
    auto d = spm_vocab({{kU, -1}, {"a", -1}, {"b", -1}, {"c", -1}, {"bc", -20}, {"ab", -10}});
    EXPECT_EQ(Tokenizer(d).encode("abc", false), (Ids{259, 264, 262}));  // ab (-10) beats bc (-20)
    d.scores[263] = -5;
    EXPECT_EQ(Tokenizer(d).encode("abc", false), (Ids{259, 260, 263}));  // now bc (-5) first
    d.scores[263] = -10;
    EXPECT_EQ(Tokenizer(d).encode("abc", false), (Ids{259, 264, 262}));  // a tie: the leftmost pair
}

TEST(TokenizerSpm, MergedPiecesKeepMerging) {
    // 259 ▁, 260 a, 261 b, 262 ▁a, 263 ▁ab, 264 ab
    const Tokenizer t(spm_vocab({{kU, -1}, {"a", -1}, {"b", -1}, {kU + "a", -2}, {kU + "ab", -3}, {"ab", -1.5f}}));
    // ▁ a b: ab (-1.5) merges before ▁a (-2); then ▁ + ab = ▁ab (-3).
    EXPECT_EQ(t.encode("ab", false), (Ids{263}));
    EXPECT_EQ(t.encode("ab ab", false), (Ids{263, 263}));
    EXPECT_EQ(t.encode("a  a", false), (Ids{262, 259, 262}));
}

TEST(TokenizerSpm, SpacePrefixFollowsTheFlagAndSpecialTokens) {
    // 259 ▁, 260 a, 261 ▁a
    auto d = spm_vocab({{kU, -1}, {"a", -1}, {kU + "a", -2}});
    const Tokenizer with(d);
    EXPECT_TRUE(with.add_space_prefix());  // the default for llama models
    EXPECT_EQ(with.encode("a", false), (Ids{261}));
    EXPECT_EQ(with.encode(" a", false), (Ids{259, 261}));
    // After a special token the next fragment is prefixed again, not after plain text.
    EXPECT_EQ(with.encode("a</s>a", false), (Ids{261, kEos, 261}));
    EXPECT_EQ(with.encode("<s>a", false), (Ids{kBos, 261}));
    EXPECT_TRUE(with.encode("", false).empty());
    d.add_space_prefix = false;
    const Tokenizer without(d);
    EXPECT_FALSE(without.add_space_prefix());
    EXPECT_EQ(without.encode("a", false), (Ids{260}));
    EXPECT_EQ(without.encode("a a", false), (Ids{260, 261}));
    EXPECT_EQ(without.encode("a</s>a", false), (Ids{260, kEos, 260}));
}

TEST(TokenizerSpm, BosEosAndDefaults) {
    auto d = spm_vocab({{kU, -1}, {"a", -1}, {kU + "a", -2}});
    d.bos = d.eos = d.unk = -1;  // absent keys: llama.cpp's defaults 1, 2, 0
    d.add_bos = true;
    EXPECT_EQ(Tokenizer(d).encode("a"), (Ids{kBos, 261}));
    d.add_eos = true;
    const Tokenizer t(d);
    EXPECT_EQ(t.encode("a"), (Ids{kBos, 261, kEos}));
    EXPECT_EQ(t.encode("a", false), (Ids{261}));
    EXPECT_EQ(t.encode(""), (Ids{kBos, kEos}));
    EXPECT_TRUE(t.is_eog(kEos));
}

TEST(TokenizerSpm, Phi3ControlTokensStripWhitespaceAfterThem) {
    // 259 ▁, 260 a, 261 ▁a, 262 <|user|>, 263 <|endoftext|>
    auto d = spm_vocab({{kU, -1}, {"a", -1}, {kU + "a", -2}, {"<|user|>", 0}, {"<|endoftext|>", 0}});
    d.token_types[262] = 3;
    d.token_types[263] = 3;
    const std::string text = "<|user|>\n a<|endoftext|>\na<s> a";
    // Without the Phi-3 name nothing is stripped: "\n a" -> ▁ <0x0A> ▁a.
    EXPECT_EQ(Tokenizer(d).encode(text, false),
              (Ids{262, 259, byte_id('\n'), 261, 263, 259, byte_id('\n'), 260, kBos, 259, 261}));
    d.name = "Tiny-Phi3-Ref";
    // <|user|> strips "\n "; <|endoftext|> and <s> do not strip.
    EXPECT_EQ(Tokenizer(d).encode(text, false), (Ids{262, 261, 263, 259, byte_id('\n'), 260, kBos, 259, 261}));
    d.name = "phi-3-mini";
    EXPECT_EQ(Tokenizer(d).encode("<|user|>  ", false), (Ids{262}));
}

TEST(TokenizerSpm, DecodeTurnsPiecesBackIntoText) {
    // 259 ▁, 260 a, 261 ▁a
    const Tokenizer t(spm_vocab({{kU, -1}, {"a", -1}, {kU + "a", -2}}));
    EXPECT_EQ(t.piece(261), " a");
    EXPECT_EQ(t.token_text(261), kU + "a");
    EXPECT_EQ(t.piece(byte_id(0xE6)), "\xE6");
    EXPECT_EQ(t.piece(kBos), "<s>");
    EXPECT_TRUE(t.is_control(kBos));
    EXPECT_FALSE(t.is_control(byte_id('a')));
    // The first token loses one leading space, unless it is a special token.
    EXPECT_EQ(t.decode(Ids{261, 261}), "a a");
    EXPECT_EQ(t.decode(Ids{259, 261}), " a");
    EXPECT_EQ(t.decode(Ids{kBos, 261, byte_id('b')}), "<s> ab");
    EXPECT_EQ(t.decode(Ids{kBos, 261}, false), " a");
    EXPECT_EQ(t.decode(Ids{byte_id(0xE6), byte_id(0x97), byte_id(0xA5)}), "\xE6\x97\xA5");
    for (const char* s : {"a", " a", "a  a\n\tb", "\xE6\x97\xA5 caf\xC3\xA9", "  "}) {
        EXPECT_EQ(t.decode(t.encode(s, false)), s) << "'" << s << "'";
    }
}

TEST(TokenizerSpm, BadVocabulariesAreRejected) {
    auto d = spm_vocab({{kU, -1}});
    d.scores.pop_back();
    EXPECT_THROW(Tokenizer{d}, UsageError);
    d = spm_vocab({{kU, -1}});
    d.tokens[3] = "<0xZZ>";  // a byte token that names no byte
    EXPECT_THROW(Tokenizer{d}, UsageError);
    d = spm_vocab({{kU, -1}});
    d.add_eos = true;
    d.eos = 5000;
    EXPECT_THROW(Tokenizer{d}, UsageError);
    d = spm_vocab({{kU, -1}});
    d.scores.clear();  // no scores: every merge scores 0, still valid
    EXPECT_EQ(Tokenizer(d).encode("b", false), (Ids{259, byte_id('b')}));
}

}  // namespace
}  // namespace parity
