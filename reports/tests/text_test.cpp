#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "reports/describe.h"
#include "reports/text.h"

namespace parity::reports {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

TEST(ReportText, FormatNumberIsShortestUpToEightDigits) {
    EXPECT_EQ(format_number(1.07), "1.07");
    EXPECT_EQ(format_number(2.0), "2");
    EXPECT_EQ(format_number(0.1 + 0.2), "0.3");  // 0.30000000000000004 needs 17 digits
    EXPECT_EQ(format_number(0.1 + 0.2, 0), "0.30000000000000004");
    EXPECT_EQ(format_number(0.99999987), "0.99999987");
    EXPECT_EQ(format_number(1e-5), "1e-05");
    EXPECT_EQ(format_number(123456789012.0), "1.2345679e+11");
    EXPECT_EQ(format_number(-0.0), "-0");
    EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "nan");
    EXPECT_EQ(format_number(std::numeric_limits<double>::infinity()), "inf");
    EXPECT_EQ(format_number(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(ReportText, InvalidUtf8BecomesReplacementPerMaximalSubpart) {
    EXPECT_EQ(to_valid_utf8("plain \xc3\xa9 \xf0\x9f\x98\x80"), "plain \xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ(to_valid_utf8("a\xff"
                            "b"),
              "a" + kFFFD + "b");
    EXPECT_EQ(to_valid_utf8("a\xe2\x82"
                            "b"),
              "a" + kFFFD + "b");                                                 // truncated: one U+FFFD
    EXPECT_EQ(to_valid_utf8("\xed\xa0\x80"), kFFFD + kFFFD + kFFFD);              // encoded surrogate
    EXPECT_EQ(to_valid_utf8("\xc0\xaf"), kFFFD + kFFFD);                          // overlong '/'
    EXPECT_EQ(to_valid_utf8("\xf4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // > U+10FFFF
    EXPECT_EQ(to_valid_utf8("\xe2\x82"), kFFFD);                                  // truncated at the end
    EXPECT_EQ(to_valid_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));     // NUL is valid UTF-8
}

TEST(ReportText, XmlCharsDropControlsAndNonCharacters) {
    EXPECT_EQ(to_xml_chars(std::string("a\0b\x01\x08\x0b\x0c\x1f"
                                       "c",
                                       9)),
              "abc");
    EXPECT_EQ(to_xml_chars("t\tn\nr\r"), "t\tn\nr\r");
    EXPECT_EQ(to_xml_chars("x\xef\xbf\xbe\xef\xbf\xbfy"), "xy");  // U+FFFE, U+FFFF
    EXPECT_EQ(to_xml_chars("\xc2\x85"), "\xc2\x85");              // C1 controls are XML 1.0 chars
}

TEST(ReportText, EscapeXml) {
    EXPECT_EQ(escape_xml("a<b>&\"c\" 'd' ]]>"), "a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39; ]]&gt;");
    EXPECT_EQ(escape_xml("t\tn\nr\r"), "t\tn\nr&#13;");
    EXPECT_EQ(escape_xml("t\tn\nr\r", true), "t&#9;n&#10;r&#13;");
}

TEST(ReportText, DescribeLocationsBoundsAndDivergence) {
    EXPECT_EQ(describe_location(3, "ffn_out"), "layer 3, slot ffn_out");
    EXPECT_EQ(describe_location(-1, "logits"), "model level, slot logits");
    EXPECT_EQ(describe_location(2, ""), "layer 2");
    LayerMetric row{4, "qkv", 3.5, 0.5, 2.0, false};
    EXPECT_EQ(describe_bounds(row), "[0.5, 2]");
    row.lo.reset();
    EXPECT_EQ(describe_bounds(row), "<= 2");
    row.hi.reset();
    EXPECT_EQ(describe_bounds(row), "");

    TestResult r;
    r.status = Status::Fail;
    r.metric_name = "max |d|";
    r.per_layer = {{0, "qkv", 0.1, std::nullopt, 0.5, true}, {1, "qkv", 0.75, std::nullopt, 0.5, false}};
    auto d = first_divergence(r);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(describe_divergence(*d), "layer 1, slot qkv: max |d| 0.75 outside <= 0.5");
    r.first_failure = Divergence{0, "attn_out", "given"};
    EXPECT_EQ(describe_divergence(*first_divergence(r)), "layer 0, slot attn_out: given");
    r.first_failure.reset();
    r.status = Status::Pass;
    EXPECT_FALSE(first_divergence(r).has_value());
}

}  // namespace
}  // namespace parity::reports
