// Tokenizer: vocabulary set-up (token attributes, special tokens, EOG set) and the encode/decode
// pipeline. The pieces live in tokenizer_special, tokenizer_pretokenize and tokenizer_bpe.

#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "engine/error.h"
#include "engine/tokenizer/gpt2_bytes.h"
#include "bpe.h"
#include "pretokenize.h"
#include "special.h"
#include "unicode.h"

namespace parity {

namespace {

// tokenizer.ggml.token_type values (llama_token_type).
enum TokenType : std::int32_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct PreRule {
    tok::SplitRule rule;
    bool ignore_merges;
};

PreRule pre_rule(const std::string& pre) {
    static const std::unordered_map<std::string, PreRule> rules = {
        {"qwen2", {tok::SplitRule::Qwen2, false}},
        {"deepseek-r1-qwen", {tok::SplitRule::Qwen2, false}},
        {"stablelm2", {tok::SplitRule::Qwen2, false}},
        {"megrez", {tok::SplitRule::Qwen2, false}},
        {"llama-bpe", {tok::SplitRule::Llama3, true}},
        {"llama3", {tok::SplitRule::Llama3, true}},
        {"llama-v3", {tok::SplitRule::Llama3, true}},
        {"falcon3", {tok::SplitRule::Llama3, true}},
        {"pixtral", {tok::SplitRule::Llama3, true}},
        {"dbrx", {tok::SplitRule::Llama3, false}},
        {"smaug-bpe", {tok::SplitRule::Llama3, false}},
    };
    if (const auto it = rules.find(pre); it != rules.end()) return it->second;
    if (pre.empty()) {
        throw UsageError("tokenizer: the model names no pre-tokenizer (tokenizer.ggml.pre); supported: qwen2, llama-bpe "
                         "and their aliases (llama.cpp would fall back to its 'default' regexes, not implemented)");
    }
    throw UsageError("tokenizer: unsupported pre-tokenizer '" + pre + "' (supported: qwen2, deepseek-r1-qwen, stablelm2, "
                     "megrez, llama-bpe, llama3, llama-v3, falcon3, pixtral, dbrx, smaug-bpe)");
}

// Texts llama.cpp (c392e50) treats as end of generation, forcing them to control type.
bool is_eog_text(const std::string& t) {
    static const std::unordered_set<std::string> texts = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>",  // <｜end▁of▁sentence｜> (DeepSeek)
        "<|fim_pad|>", "<fim-pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<|file_sep|>",
    };
    return texts.count(t) > 0;
}

std::int32_t checked_special_id(std::int64_t id, std::size_t n_vocab) {
    return (id >= 0 && static_cast<std::uint64_t>(id) < n_vocab) ? static_cast<std::int32_t>(id) : -1;
}

}  // namespace

struct Tokenizer::Impl {
    std::string pre;
    PreRule rule{};
    std::vector<std::string> tokens;
    std::vector<std::int32_t> types;      // one per token (TokenType), after the EOG override
    std::vector<std::string> pieces;      // special = true rendering of each token
    std::unordered_map<std::string, std::int32_t> token_ids;
    std::vector<tok::SpecialToken> specials;  // control, user-defined, unknown; longest text first
    std::vector<bool> eog;
    std::int32_t bos = -1;
    std::int32_t eos = -1;
    bool add_bos = false;
    std::unique_ptr<tok::BpeMerger> bpe;

    bool renders_only_with_special(std::int32_t id) const {
        const std::int32_t t = types[static_cast<std::size_t>(id)];
        return t == kControl || t == kUnknown;
    }

    void check_id(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= tokens.size()) {
            throw UsageError("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(tokens.size()) + ")");
        }
    }

    void tokenize_text(std::string_view text, std::vector<std::int32_t>& out) const;
};

namespace {

// llama_decode_text: each code point of a normal token's text is one byte in the GPT-2 alphabet.
std::string decode_alphabet(const std::string& text) {
    std::string bytes;
    const std::u32string cps = tok::decode_utf8(text);
    for (const char32_t cp : cps) {
        if (const auto b = gpt2::codepoint_to_byte(cp)) {
            bytes += static_cast<char>(*b);
        } else {
            tok::append_utf8(bytes, cp);  // not in the alphabet: kept as is (see tokenizer.h)
        }
    }
    return bytes;
}

}  // namespace

Tokenizer::Tokenizer(const TokenizerData& data) {
    if (data.model != "gpt2") {
        throw UsageError("tokenizer: model '" + data.model + "' is not supported (only 'gpt2', byte-level BPE)");
    }
    if (data.tokens.empty()) throw UsageError("tokenizer: the vocabulary is empty");
    if (data.tokens.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) throw UsageError("tokenizer: vocabulary too large");
    if (!data.token_types.empty() && data.token_types.size() < data.tokens.size()) {
        throw UsageError("tokenizer: token_type has " + std::to_string(data.token_types.size()) + " entries for " +
                         std::to_string(data.tokens.size()) + " tokens");
    }

    auto impl = std::make_shared<Impl>();
    impl->pre = data.pre;
    impl->rule = pre_rule(data.pre);
    const std::size_t n = data.tokens.size();

    impl->tokens.reserve(n);
    impl->types.resize(n, kNormal);
    impl->token_ids.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string text = data.tokens[i];
        if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";
        impl->token_ids[text] = static_cast<std::int32_t>(i);  // last duplicate wins, as in llama.cpp
        impl->tokens.push_back(std::move(text));
        if (!data.token_types.empty()) {
            const std::int32_t t = data.token_types[i];
            impl->types[i] = (t >= kNormal && t <= kByte) ? t : kUndefined;
        }
    }

    impl->bos = checked_special_id(data.bos, n);
    impl->eos = checked_special_id(data.eos, n);
    impl->add_bos = data.add_bos;
    if (impl->add_bos && impl->bos < 0) {
        throw UsageError("tokenizer: add_bos_token is true, but the bos token id is " +
                         (data.bos < 0 ? std::string("not set") : std::to_string(data.bos) + ", outside the vocabulary"));
    }

    impl->eog.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_eog_text(impl->tokens[i])) continue;
        impl->eog[i] = true;
        if (impl->types[i] != kControl) impl->types[i] = kControl;  // llama.cpp overrides the type
    }
    if (impl->eos >= 0) impl->eog[static_cast<std::size_t>(impl->eos)] = true;

    for (std::size_t i = 0; i < n; ++i) {
        const std::int32_t t = impl->types[i];
        if (t == kControl || t == kUserDefined || t == kUnknown) {
            impl->specials.push_back({static_cast<std::int32_t>(i), impl->tokens[i]});
        }
    }
    std::stable_sort(impl->specials.begin(), impl->specials.end(),
                     [](const tok::SpecialToken& a, const tok::SpecialToken& b) { return a.text.size() > b.text.size(); });

    impl->pieces.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        switch (impl->types[i]) {
            case kNormal: impl->pieces[i] = decode_alphabet(impl->tokens[i]); break;
            case kControl:
            case kUnknown:
            case kUserDefined: impl->pieces[i] = impl->tokens[i]; break;
            default: break;  // unused, byte, undefined: rendered as nothing
        }
    }

    impl->bpe = std::make_unique<tok::BpeMerger>(data.merges, impl->token_ids);
    impl_ = std::move(impl);
}

void Tokenizer::Impl::tokenize_text(std::string_view text, std::vector<std::int32_t>& out) const {
    const std::u32string cps = tok::decode_utf8(text);
    std::string word;
    std::size_t begin = 0;
    for (const std::size_t len : tok::split_words(cps, rule.rule)) {
        word.clear();
        for (std::size_t k = begin; k < begin + len; ++k) tok::append_utf8(word, cps[k]);
        begin += len;
        if (rule.ignore_merges) {
            if (const auto it = token_ids.find(gpt2::encode_bytes(word)); it != token_ids.end()) {
                out.push_back(it->second);
                continue;
            }
        }
        bpe->encode_word(word, out);
    }
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const Impl& m = *impl_;
    std::vector<std::int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (add_special && m.add_bos) out.push_back(m.bos);

    std::vector<tok::SpecialToken> user_defined;
    const std::vector<tok::SpecialToken>* specials = &m.specials;
    if (!parse_special) {
        for (const auto& s : m.specials) {
            if (m.types[static_cast<std::size_t>(s.id)] == kUserDefined) user_defined.push_back(s);
        }
        specials = &user_defined;
    }
    for (const tok::Fragment& f : tok::partition_special(text, *specials)) {
        if (f.is_text()) {
            m.tokenize_text(text.substr(f.offset, f.length), out);
        } else {
            out.push_back(f.token);
        }
    }
    return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool special) const {
    const Impl& m = *impl_;
    std::string text;
    for (const std::int32_t id : ids) {
        m.check_id(id);
        if (!special && m.renders_only_with_special(id)) continue;
        text += m.pieces[static_cast<std::size_t>(id)];
    }
    return text;
}

std::string Tokenizer::piece(std::int32_t id) const {
    impl_->check_id(id);
    return impl_->pieces[static_cast<std::size_t>(id)];
}

const std::string& Tokenizer::token_text(std::int32_t id) const {
    impl_->check_id(id);
    return impl_->tokens[static_cast<std::size_t>(id)];
}

std::int32_t Tokenizer::n_vocab() const noexcept { return static_cast<std::int32_t>(impl_->tokens.size()); }
std::int32_t Tokenizer::bos() const noexcept { return impl_->bos; }
std::int32_t Tokenizer::eos() const noexcept { return impl_->eos; }
bool Tokenizer::add_bos() const noexcept { return impl_->add_bos; }
const std::string& Tokenizer::pre() const noexcept { return impl_->pre; }

bool Tokenizer::is_eog(std::int32_t id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->eog.size() && impl_->eog[static_cast<std::size_t>(id)];
}

bool Tokenizer::is_control(std::int32_t id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->types.size() && impl_->renders_only_with_special(id);
}

}  // namespace parity
