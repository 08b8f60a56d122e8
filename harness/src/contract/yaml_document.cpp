// load_one_document (harness/contract/yaml_document.h): a counting parse, then yaml-cpp's Load.

#include "harness/contract/yaml_document.h"

#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include "harness/contract/yaml_limits.h"

namespace parity::contract {

namespace {

Mark mark_of(const YAML::Mark& m) {
    if (m.line < 0 || m.column < 0) return {};
    return {m.line + 1, m.column + 1};
}

/// A document that starts where the previous one started: the parser consumed nothing.
struct Stuck {
    YAML::Mark mark;
};

/// Counts documents without building them; throws Stuck when the parser makes no progress.
class DocumentCounter : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override {
        if (count_ > 0 && mark.pos == last_.pos) throw Stuck{mark};
        if (count_ == 1) second_ = mark;
        last_ = mark;
        ++count_;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

    int count() const noexcept { return count_; }
    const YAML::Mark& second() const noexcept { return second_; }

private:
    int count_ = 0;
    YAML::Mark last_;
    YAML::Mark second_;
};

[[noreturn]] void rethrow_parse_error(const YAML::Exception& e) {
    if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e)) {
        throw YamlError{mark_of(e.mark),
                        "YAML nests deeper than the parser's limit (" + std::to_string(deep->depth()) + " levels)"};
    }
    throw YamlError{mark_of(e.mark), "YAML syntax error: " + e.msg};
}

}  // namespace

YAML::Node load_one_document(std::string_view text, std::string_view what) {
    if (const auto deep = find_too_deep_nesting(text)) {
        throw YamlError{*deep, "YAML nests deeper than " + std::to_string(kMaxYamlFlowDepth) +
                                   " levels of [ ] / { }; refused before parsing"};
    }
    const std::string owned(text);
    DocumentCounter counter;
    try {
        std::istringstream in(owned);
        YAML::Parser parser(in);
        while (parser.HandleNextDocument(counter)) {
        }
    } catch (const Stuck& s) {
        const auto pos = static_cast<std::size_t>(s.mark.pos);
        const std::string token = pos < owned.size() ? "`" + std::string(1, owned[pos]) + "`" : "token";
        throw YamlError{mark_of(s.mark), "YAML syntax error: unexpected " + token + " where a value should start"};
    } catch (const YAML::Exception& e) {
        rethrow_parse_error(e);
    }
    if (counter.count() > 1) {
        throw YamlError{mark_of(counter.second()), "holds " + std::to_string(counter.count()) +
                                                       " YAML documents; " + std::string(what) +
                                                       " is exactly one document"};
    }
    try {
        return YAML::Load(owned);
    } catch (const YAML::Exception& e) {
        rethrow_parse_error(e);
    }
}

}  // namespace parity::contract
