// Tokenizer: vocabulary set-up (token attributes, special tokens, EOG set) and the encode/decode
// pipeline. The pieces live in special, pretokenize, bpe (gpt2 models) and spm (llama models).

#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "engine/error.h"
#include "engine/tokenizer/gpt2_bytes.h"
#include "bpe.h"
#include "pretokenize.h"
#include "special.h"
#include "spm.h"
#include "unicode.h"

namespace parity {

namespace {

// tokenizer.ggml.token_type values (llama_token_type).
enum TokenType : std::int32_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

enum class Kind { Bpe, Spm };

Kind vocabulary_kind(const std::string& model) {
    if (model == "gpt2") return Kind::Bpe;
    if (model == "llama") return Kind::Spm;
    throw UsageError("tokenizer: model '" + model +
                     "' is not supported (only 'gpt2', byte-level BPE, and 'llama', SentencePiece)");
}

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

// Texts llama.cpp (d32676d) treats as end of generation, forcing them to control type: its EOG
// list and the fill-in-the-middle pad/repo/file-separator texts.
bool is_eog_text(const std::string& t) {
    static const std::unordered_set<std::string> texts = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "[e~[",
        "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>",  // <｜end▁of▁sentence｜> (DeepSeek)
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    };
    return texts.count(t) > 0;
}

std::int32_t checked_special_id(std::int64_t id, std::size_t n_vocab) {
    return (id >= 0 && static_cast<std::uint64_t>(id) < n_vocab) ? static_cast<std::int32_t>(id) : -1;
}

// llama.cpp sets per-token attributes by general.name: for Phi-3 every special token strips the
// whitespace after it, except <unk>, <s> and <|endoftext|>.
bool is_phi3(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos;
}

}  // namespace

struct Tokenizer::Impl {
    Kind kind = Kind::Bpe;
    std::string pre;
    PreRule rule{};                       // gpt2 models only
    std::vector<std::string> tokens;
    std::vector<std::int32_t> types;      // one per token (TokenType), after the EOG override
    std::vector<std::string> pieces;      // special = true rendering of each token
    std::unordered_map<std::string, std::int32_t> token_ids;
    std::vector<tok::SpecialToken> specials;  // control, user-defined, unknown; longest text first
    std::vector<bool> eog;
    std::int32_t bos = -1;
    std::int32_t eos = -1;
    bool add_bos = false;
    bool add_eos = false;
    bool add_space_prefix = false;
    std::unique_ptr<tok::BpeMerger> bpe;
    std::unique_ptr<tok::SpmMerger> spm;

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

    std::int32_t find(const std::string& text) const {
        const auto it = token_ids.find(text);
        return it == token_ids.end() ? -1 : it->second;
    }

    void mark_eog(std::int64_t eos_id);
    void collect_specials(const std::string& model_name);
    void render_pieces();
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

std::string id_not_set(std::int64_t id) {
    return id < 0 ? std::string("not set") : std::to_string(id) + ", outside the vocabulary";
}

}  // namespace

void Tokenizer::Impl::mark_eog(std::int64_t eos_id) {
    const std::size_t n = tokens.size();
    eog.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_eog_text(tokens[i])) continue;
        eog[i] = true;
        types[i] = kControl;  // llama.cpp overrides the type
    }
    if (eos_id >= 0) eog[static_cast<std::size_t>(eos_id)] = true;

    // llama.cpp's workarounds: <|end|> does not end generation next to <|return|> and <|call|>
    // (gpt-oss) or <|calls|> and <|flush|> (solar-open); </s> does not next to <|tool_response>.
    const auto eog_has = [&](const char* text) {
        const std::int32_t id = find(text);
        return id >= 0 && eog[static_cast<std::size_t>(id)];
    };
    const bool has_call = eog_has("<|call|>") || eog_has("<|calls|>");
    if (eog_has("<|end|>") && has_call && (eog_has("<|return|>") || eog_has("<|flush|>"))) {
        const auto id = static_cast<std::size_t>(find("<|end|>"));
        eog[id] = false;
        types[id] = kUserDefined;
    }
    if (eog_has("<|tool_response>") && eog_has("</s>")) {
        const auto id = static_cast<std::size_t>(find("</s>"));
        eog[id] = false;
        types[id] = kNormal;
    }
    for (const char* text : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
        if (const std::int32_t id = find(text); id >= 0) types[static_cast<std::size_t>(id)] = kUserDefined;
    }
}

void Tokenizer::Impl::collect_specials(const std::string& model_name) {
    const bool phi3 = is_phi3(model_name);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::int32_t t = types[i];
        if (t != kControl && t != kUserDefined && t != kUnknown) continue;
        const std::string& text = tokens[i];
        const bool rstrip = phi3 && text != "<unk>" && text != "<s>" && text != "<|endoftext|>";
        specials.push_back({static_cast<std::int32_t>(i), text, false, rstrip});
    }
    std::stable_sort(specials.begin(), specials.end(),
                     [](const tok::SpecialToken& a, const tok::SpecialToken& b) { return a.text.size() > b.text.size(); });
}

void Tokenizer::Impl::render_pieces() {
    pieces.resize(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        switch (types[i]) {
            case kNormal: pieces[i] = kind == Kind::Spm ? tok::unescape_spaces(tokens[i]) : decode_alphabet(tokens[i]); break;
            case kControl:
            case kUnknown:
            case kUserDefined: pieces[i] = tokens[i]; break;
            case kByte:
                if (kind == Kind::Spm) {
                    const int b = tok::parse_byte_token(tokens[i]);
                    if (b < 0) throw UsageError("tokenizer: byte token " + std::to_string(i) + " is '" + tokens[i] + "', not <0xNN>");
                    pieces[i] = std::string(1, static_cast<char>(b));
                }
                break;
            default: break;  // unused, undefined (and byte-typed tokens of gpt2 models): nothing
        }
    }
}

Tokenizer::Tokenizer(const TokenizerData& data) {
    const Kind kind = vocabulary_kind(data.model);
    if (data.tokens.empty()) throw UsageError("tokenizer: the vocabulary is empty");
    if (data.tokens.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) throw UsageError("tokenizer: vocabulary too large");
    if (!data.token_types.empty() && data.token_types.size() < data.tokens.size()) {
        throw UsageError("tokenizer: token_type has " + std::to_string(data.token_types.size()) + " entries for " +
                         std::to_string(data.tokens.size()) + " tokens");
    }

    auto impl = std::make_shared<Impl>();
    impl->kind = kind;
    impl->pre = data.pre;
    if (kind == Kind::Bpe) impl->rule = pre_rule(data.pre);
    const std::size_t n = data.tokens.size();

    impl->tokens.reserve(n);
    impl->types.resize(n, kNormal);
    impl->token_ids.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string text = data.tokens[i];
        if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";
        impl->token_ids[text] = static_cast<std::int32_t>(i);  // last duplicate wins
        impl->tokens.push_back(std::move(text));
        if (!data.token_types.empty()) {
            const std::int32_t t = data.token_types[i];
            impl->types[i] = (t >= kNormal && t <= kByte) ? t : kUndefined;
        }
    }

    // SentencePiece files without the keys get llama.cpp's defaults: bos 1, eos 2, unk 0.
    const bool spm = kind == Kind::Spm;
    impl->bos = checked_special_id(data.bos < 0 && spm ? 1 : data.bos, n);
    impl->eos = checked_special_id(data.eos < 0 && spm ? 2 : data.eos, n);
    const std::int32_t unk = checked_special_id(data.unk < 0 && spm ? 0 : data.unk, n);
    impl->add_bos = data.add_bos;
    impl->add_eos = data.add_eos;
    impl->add_space_prefix = data.add_space_prefix.value_or(spm);
    if (impl->add_bos && impl->bos < 0) throw UsageError("tokenizer: add_bos_token is true, but the bos token id is " + id_not_set(data.bos));
    if (impl->add_eos && impl->eos < 0) throw UsageError("tokenizer: add_eos_token is true, but the eos token id is " + id_not_set(data.eos));

    impl->mark_eog(impl->eos);
    impl->collect_specials(data.name);
    impl->render_pieces();
    if (spm) {
        impl->spm = std::make_unique<tok::SpmMerger>(impl->tokens, data.scores, unk);
    } else {
        impl->bpe = std::make_unique<tok::BpeMerger>(data.merges, impl->token_ids);
    }
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
    bool after_special = true;  // SentencePiece: a text fragment after a special token (or first) gets the ▁ prefix
    for (const tok::Fragment& f : tok::partition_special(text, *specials)) {
        if (!f.is_text()) {
            out.push_back(f.token);
            after_special = true;
            continue;
        }
        const std::string_view fragment = text.substr(f.offset, f.length);
        if (m.kind == Kind::Spm) {
            const std::string prefixed = (m.add_space_prefix && after_special ? " " : "") + std::string(fragment);
            m.spm->encode(tok::escape_spaces(prefixed), out);
        } else {
            m.tokenize_text(fragment, out);
        }
        after_special = false;
    }
    if (add_special && m.add_eos) out.push_back(m.eos);
    return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool special) const {
    const Impl& m = *impl_;
    std::string text;
    // llama_detokenize: with add_space_prefix the first token loses one leading space.
    bool strip_space = m.add_space_prefix;
    for (const std::int32_t id : ids) {
        m.check_id(id);
        std::string_view p = m.pieces[static_cast<std::size_t>(id)];
        if (!special && m.renders_only_with_special(id)) p = {};
        if (strip_space && p.starts_with(' ')) p.remove_prefix(1);
        strip_space = false;
        text += p;
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
bool Tokenizer::add_eos() const noexcept { return impl_->add_eos; }
bool Tokenizer::add_space_prefix() const noexcept { return impl_->add_space_prefix; }
const std::string& Tokenizer::pre() const noexcept { return impl_->pre; }

bool Tokenizer::is_eog(std::int32_t id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->eog.size() && impl_->eog[static_cast<std::size_t>(id)];
}

bool Tokenizer::is_control(std::int32_t id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < impl_->types.size() && impl_->renders_only_with_special(id);
}

}  // namespace parity
