#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "reports/junit_report.h"

namespace parity::reports {
namespace testing {
RunReport sample_report();  // report_fixture.cpp
}  // namespace testing

namespace {

std::string render(const RunReport& report) {
    std::ostringstream out;
    write_junit(report, out);
    return out.str();
}

// --- A strict, tiny XML reader: enough of XML 1.0 to check well-formedness of what the writer
// may emit (declaration, elements, attributes, text, character and predefined entities, CDATA)
// and to read the tree back. Written independently of the writer.

struct Element {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::vector<Element> children;
    std::string text;

    const Element& child(const std::string& n, std::size_t index = 0) const {
        for (const auto& c : children) {
            if (c.name == n && index-- == 0) return c;
        }
        throw std::runtime_error("no child <" + n + "> in <" + name + ">");
    }
    std::size_t count(const std::string& n) const {
        std::size_t k = 0;
        for (const auto& c : children) k += c.name == n;
        return k;
    }
};

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

bool xml_char(char32_t c) {
    return c == 9 || c == 10 || c == 13 || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

/// Decodes the whole document as strict UTF-8 and checks every code point is an XML Char.
void check_chars(const std::string& doc) {
    for (std::size_t i = 0; i < doc.size();) {
        const auto b = static_cast<unsigned char>(doc[i]);
        std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > doc.size()) throw std::runtime_error("bad UTF-8 at " + std::to_string(i));
        char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
            const auto t = static_cast<unsigned char>(doc[i + k]);
            if ((t & 0xC0) != 0x80) throw std::runtime_error("bad UTF-8 at " + std::to_string(i));
            c = (c << 6) | (t & 0x3F);
        }
        const char32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < min[n] || (c >= 0xD800 && c <= 0xDFFF))
            throw std::runtime_error("bad UTF-8 at " + std::to_string(i));
        if (!xml_char(c)) throw std::runtime_error("not an XML char at " + std::to_string(i));
        i += n;
    }
}

class XmlReader {
public:
    explicit XmlReader(std::string doc) : s_(std::move(doc)) {}

    Element document() {
        check_chars(s_);
        if (s_.compare(0, 5, "<?xml") == 0) {
            const auto end = s_.find("?>");
            if (end == std::string::npos) fail("unterminated declaration");
            i_ = end + 2;
        }
        skip_space();
        Element root = element();
        skip_space();
        if (i_ != s_.size()) fail("content after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("XML error at byte " + std::to_string(i_) + ": " + what);
    }
    bool at(const char* lit) const { return s_.compare(i_, std::strlen(lit), lit) == 0; }
    void expect(const char* lit) {
        if (!at(lit)) fail(std::string("expected ") + lit);
        i_ += std::strlen(lit);
    }
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    std::string name() {
        const std::size_t start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                                  s_[i_] == '-' || s_[i_] == ':' || s_[i_] == '.')) {
            ++i_;
        }
        if (i_ == start) fail("expected a name");
        return s_.substr(start, i_ - start);
    }
    /// One reference after '&' (already consumed), decoded.
    std::string reference() {
        const auto end = s_.find(';', i_);
        if (end == std::string::npos || end - i_ > 10) fail("unterminated reference");
        const std::string ref = s_.substr(i_, end - i_);
        i_ = end + 1;
        if (ref == "amp") return "&";
        if (ref == "lt") return "<";
        if (ref == "gt") return ">";
        if (ref == "quot") return "\"";
        if (ref == "apos") return "'";
        if (ref.size() > 1 && ref[0] == '#') {
            const bool hex = ref[1] == 'x';
            const char32_t c =
                static_cast<char32_t>(std::stoul(ref.substr(hex ? 2 : 1), nullptr, hex ? 16 : 10));
            if (!xml_char(c)) fail("reference to a non-XML char");
            std::string out;
            append_utf8(out, c);
            return out;
        }
        fail("unknown entity &" + ref + ";");
    }
    Element element() {
        expect("<");
        Element e;
        e.name = name();
        for (;;) {
            const std::size_t before = i_;
            skip_space();
            if (at("/>")) {
                i_ += 2;
                return e;
            }
            if (at(">")) {
                ++i_;
                break;
            }
            if (i_ == before) fail("expected space before an attribute");
            const std::string key = name();
            expect("=\"");
            std::string value;
            while (i_ < s_.size() && s_[i_] != '"') {
                const char c = s_[i_++];
                if (c == '<') fail("'<' in an attribute value");
                if (c == '&') {
                    value += reference();
                } else if (c == '\t' || c == '\n' || c == '\r') {
                    value += ' ';  // attribute-value normalization
                } else {
                    value += c;
                }
            }
            expect("\"");
            if (!e.attrs.emplace(key, value).second) fail("duplicate attribute " + key);
        }
        for (;;) {
            if (i_ >= s_.size()) fail("unterminated <" + e.name + ">");
            if (at("</")) {
                i_ += 2;
                if (name() != e.name) fail("mismatched end tag for <" + e.name + ">");
                skip_space();
                expect(">");
                return e;
            }
            if (at("<![CDATA[")) {
                i_ += 9;
                const auto end = s_.find("]]>", i_);
                if (end == std::string::npos) fail("unterminated CDATA");
                e.text += s_.substr(i_, end - i_);
                i_ = end + 3;
            } else if (at("<")) {
                e.children.push_back(element());
            } else if (at("]]>")) {
                fail("']]>' in character data");
            } else if (s_[i_] == '&') {
                ++i_;
                e.text += reference();
            } else if (s_[i_] == '\r') {
                ++i_;
                if (!at("\n")) e.text += '\n';  // line-end normalization
            } else {
                e.text += s_[i_++];
            }
        }
    }

    std::string s_;
    std::size_t i_ = 0;
};

Element parse(const std::string& doc) { return XmlReader(doc).document(); }

TEST(JunitReport, WellFormedByStrictReader) {
    const std::string doc = render(testing::sample_report());
    EXPECT_NO_THROW(parse(doc)) << doc;
    EXPECT_EQ(doc.find("]]>"), std::string::npos);
    EXPECT_EQ(doc.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
}

TEST(JunitReport, StrictReaderRejectsBrokenXml) {  // the checker itself is not a no-op
    EXPECT_THROW(parse("<a>x]]>y</a>"), std::runtime_error);
    EXPECT_THROW(parse("<a b=\"<\"/>"), std::runtime_error);
    EXPECT_THROW(parse(std::string("<a>\x01</a>")), std::runtime_error);
    EXPECT_THROW(parse("<a>\xff</a>"), std::runtime_error);
    EXPECT_THROW(parse("<a>&bogus;</a>"), std::runtime_error);
    EXPECT_THROW(parse("<a><b></a></b>"), std::runtime_error);
    EXPECT_NO_THROW(parse("<a b=\"&amp;&#10;\">x<![CDATA[]]]]><![CDATA[>]]>y</a>"));
}

TEST(JunitReport, WellFormedByXmllint) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "xmllint not installed";
    const auto path =
        std::filesystem::temp_directory_path() / ("parity-junit-" + std::to_string(::getpid()) + ".xml");
    {
        std::ofstream out(path, std::ios::binary);
        out << render(testing::sample_report());
    }
    const int rc = std::system(("xmllint --noout '" + path.string() + "'").c_str());
    std::filesystem::remove(path);
    EXPECT_EQ(rc, 0) << "xmllint rejected the JUnit report";
}

TEST(JunitReport, WellFormedByPythonMinidomWhenAvailable) {
    if (std::system("python3 -c 'import xml.dom.minidom' >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "python3 with xml.dom.minidom not available";
    }
    const auto path =
        std::filesystem::temp_directory_path() / ("parity-junit-py-" + std::to_string(::getpid()) + ".xml");
    {
        std::ofstream out(path, std::ios::binary);
        out << render(testing::sample_report());
    }
    const int rc =
        std::system(("python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' '" +
                     path.string() + "'")
                        .c_str());
    std::filesystem::remove(path);
    EXPECT_EQ(rc, 0) << "minidom rejected the JUnit report";
}

TEST(JunitReport, CountsOnSuitesAndRoot) {
    const Element root = parse(render(testing::sample_report()));
    EXPECT_EQ(root.name, "testsuites");
    EXPECT_EQ(root.attrs.at("tests"), "6");
    EXPECT_EQ(root.attrs.at("failures"), "2");
    EXPECT_EQ(root.attrs.at("errors"), "1");
    EXPECT_EQ(root.attrs.at("skipped"), "2");  // SKIPPED and UNBOUND
    EXPECT_EQ(root.attrs.at("time"), "12.500");
    ASSERT_EQ(root.count("testsuite"), 2u);

    const Element& a = root.child("testsuite", 0);
    EXPECT_EQ(a.attrs.at("name"), "contracts/a.yaml");
    EXPECT_EQ(a.attrs.at("tests"), "4");
    EXPECT_EQ(a.attrs.at("failures"), "2");
    EXPECT_EQ(a.attrs.at("errors"), "1");
    EXPECT_EQ(a.attrs.at("skipped"), "0");
    EXPECT_EQ(a.attrs.at("time"), "0.750");  // 0.25 + 0.5 + 0 + NaN (counted as 0)
    EXPECT_EQ(a.attrs.at("timestamp"), "2026-11-26T06:30:00Z");
    EXPECT_EQ(a.count("testcase"), 4u);

    const Element& b = root.child("testsuite", 1);
    EXPECT_EQ(b.attrs.at("name"), "./contracts/b.yml");
    EXPECT_EQ(b.attrs.at("tests"), "2");
    EXPECT_EQ(b.attrs.at("failures"), "0");
    EXPECT_EQ(b.attrs.at("errors"), "0");
    EXPECT_EQ(b.attrs.at("skipped"), "2");
    EXPECT_EQ(b.count("testcase"), 2u);
}

TEST(JunitReport, OneTestcasePerTestWithStatusElement) {
    const Element root = parse(render(testing::sample_report()));
    const Element& a = root.child("testsuite", 0);
    const Element& b = root.child("testsuite", 1);

    const Element& pass = a.child("testcase", 0);
    EXPECT_EQ(pass.attrs.at("classname"), "contracts.a");
    EXPECT_EQ(pass.attrs.at("name"), "FALSIFY-A-001");
    EXPECT_EQ(pass.attrs.at("time"), "0.250");
    EXPECT_EQ(pass.count("failure") + pass.count("error") + pass.count("skipped"), 0u);
    EXPECT_EQ(pass.child("system-out").text, "repro: pv run contracts/a.yaml --only FALSIFY-A-001\n");

    const Element& fail = a.child("testcase", 1);
    EXPECT_EQ(fail.attrs.at("name"), "FALSIFY-A-002");
    const Element& failure = fail.child("failure");
    EXPECT_EQ(failure.attrs.at("message"), "layer 3, slot ffn_swiglu_inner: std ratio 2.31 outside [0.5, 2]");
    for (const char* want :
         {"max_ratio = 2.31", "nan = nan", "ninf = -inf", "failing rows (std_dev ratio): 3 of 29",
          "layer 3, slot ffn_swiglu_inner: 2.31 outside [0.5, 2]",
          "layer 5, slot ffn_swiglu_inner: nan outside [0.5, 2]",
          "layer 7, slot ffn_swiglu_inner: inf outside [0.5, 2]",
          "repro: pv run contracts/a.yaml --only FALSIFY-A-002"}) {
        EXPECT_NE(failure.text.find(want), std::string::npos) << want << "\n" << failure.text;
    }

    const Element& error = a.child("testcase", 2);
    EXPECT_EQ(error.child("error").attrs.at("message"),
              "models/q.gguf: at byte 24: tensor count exceeds file size");
    EXPECT_NE(error.child("error").text.find("repro: pv run contracts/a.yaml --only FALSIFY-A-003"),
              std::string::npos);

    const Element& skipped = b.child("testcase", 0);
    EXPECT_EQ(skipped.attrs.at("classname"), "contracts.b");
    EXPECT_EQ(skipped.child("skipped").attrs.at("message"), "skipped: no CUDA device");
    const Element& unbound = b.child("testcase", 1);
    EXPECT_EQ(unbound.attrs.at("name"), "FALSIFY-B-002");
    EXPECT_EQ(unbound.child("skipped").attrs.at("message"), "unbound: no harness binding");
    EXPECT_EQ(unbound.count("system-out"), 0u);  // no repro line
}

TEST(JunitReport, HostileTextReadsBackCleaned) {
    const Element root = parse(render(testing::sample_report()));
    const Element& hostile = root.child("testsuite", 0).child("testcase", 3);
    // By hand: control characters and U+FFFE dropped, invalid UTF-8 -> U+FFFD per maximal
    // subpart; in an attribute the kept tab, LF and CR read back as themselves.
    std::string expected = "FALSIFY-H-001 a<b>&c \"dq\" 'sq' ]]> x]]]]>y |t\tn\nr\r|nul::";
    expected +=
        " ff:\xEF\xBF\xBD tr:\xEF\xBF\xBD sur:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
        "ovl:\xEF\xBF\xBD\xEF\xBF\xBD fffe:";
    expected +=
        " emoji:\xf0\x9f\x98\x80 e-acute:\xc3\xa9 ```code``` *b* _u_ #h [l](x) <script>alert(1)</script> "
        "&amp;";
    // Our reader normalizes raw whitespace in attributes to spaces; character references keep it.
    EXPECT_EQ(hostile.attrs.at("name"), expected);
    EXPECT_EQ(hostile.attrs.at("time"), "0.000");  // NaN seconds
    const Element& failure = hostile.child("failure");
    // No first_failure: the first failing row names the layer and slot.
    EXPECT_EQ(failure.attrs.at("message").rfind("layer 0, slot a<b>&c", 0), 0u)
        << failure.attrs.at("message");
    EXPECT_NE(failure.text.find("\xf0\x9f\x98\x80"), std::string::npos);
    EXPECT_NE(failure.text.find("x]]]]>y"), std::string::npos);
}

TEST(JunitReport, ClassnameFromContractPath) {
    EXPECT_EQ(junit_classname("contracts/apr-gguf.yaml"), "contracts.apr-gguf");
    EXPECT_EQ(junit_classname("./contracts/x.yml"), "contracts.x");
    EXPECT_EQ(junit_classname("../../c/d.yaml"), "c.d");
    EXPECT_EQ(junit_classname("plain"), "plain");
}

TEST(JunitReport, EmptyRunIsWellFormed) {
    const Element root = parse(render(RunReport{}));
    EXPECT_EQ(root.attrs.at("tests"), "0");
    EXPECT_TRUE(root.children.empty());
}

}  // namespace
}  // namespace parity::reports
