// SVG writer: escaping, number formatting, the 1-2-5 tick algorithm, colours, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "taupe/report/svg.h"

namespace taupe::report {
namespace {

TEST(SvgEscape, EscapesMarkupAndQuotes) {
  EXPECT_EQ(xml_escape("a < b & c > d \"e\" 'f'"), "a &lt; b &amp; c &gt; d &quot;e&quot; &#39;f&#39;");
  EXPECT_EQ(xml_escape("plain ± µm²"), "plain ± µm²");  // UTF-8 passes through
  EXPECT_EQ(xml_escape(std::string("x\x01y\tz", 5)), "xy\tz");  // invalid XML control chars dropped
}

TEST(SvgText, TextAndAttributesAreEscaped) {
  Svg s(100, 50, "title <&>");
  Font f;
  f.fill = "\"><script>";
  s.text(1, 2, "</text><script>alert(1)</script>", f);
  const std::string out = s.str();
  EXPECT_EQ(out.find("<script>"), std::string::npos);
  EXPECT_NE(out.find("&lt;/text&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(out.find("<title>title &lt;&amp;&gt;</title>"), std::string::npos);
}

TEST(SvgNumbers, FixedFormattingIsTrimmedAndSignless) {
  EXPECT_EQ(fmt(12.5), "12.5");
  EXPECT_EQ(fmt(3.0), "3");
  EXPECT_EQ(fmt(-0.001), "0");
  EXPECT_EQ(fmt(-1.234567), "-1.23");
  EXPECT_EQ(fmt(0.125, 3), "0.125");
  EXPECT_EQ(fmt_fixed(0.9, 2), "0.90");
  EXPECT_EQ(fmt_fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(fmt_label(-0.5, 1), "\u22120.5");
  EXPECT_EQ(fmt(std::nan("")), "0");
}

TEST(Ticks, ClosedCaseZeroToPointNineThree) {
  const Ticks t = nice_ticks(0.0, 0.93, 5);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  EXPECT_EQ(t.decimals, 1);
  ASSERT_EQ(t.values.size(), 6u);
  const double expect[] = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(t.values[i], expect[i]) << i;
  EXPECT_DOUBLE_EQ(t.lo, 0.0);
  EXPECT_DOUBLE_EQ(t.hi, 1.0);
}

TEST(Ticks, LadderSteps) {
  EXPECT_DOUBLE_EQ(nice_step(0.186), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(1.2), 1.0);
  EXPECT_DOUBLE_EQ(nice_step(2.4), 2.0);
  EXPECT_DOUBLE_EQ(nice_step(4.0), 5.0);
  EXPECT_DOUBLE_EQ(nice_step(8.0), 10.0);
  EXPECT_DOUBLE_EQ(nice_step(0.025), 0.02);
  EXPECT_DOUBLE_EQ(nice_step(0.035), 0.05);
  EXPECT_DOUBLE_EQ(nice_step(3000), 5000);
}

TEST(Ticks, MoreClosedCases) {
  {  // symmetric shift grid
    const Ticks t = nice_ticks(-6, 6, 6);
    EXPECT_DOUBLE_EQ(t.step, 2.0);
    EXPECT_EQ(t.values, (std::vector<double>{-6, -4, -2, 0, 2, 4, 6}));
  }
  {  // 0..100 in 5 steps of 20
    const Ticks t = nice_ticks(0, 100, 5);
    EXPECT_EQ(t.values, (std::vector<double>{0, 20, 40, 60, 80, 100}));
    EXPECT_EQ(t.decimals, 0);
  }
  {  // expansion that would waste the axis falls back to tight ticks inside the data
    const Ticks t = nice_ticks(-6, 6, 3);
    EXPECT_DOUBLE_EQ(t.lo, -6);
    EXPECT_DOUBLE_EQ(t.hi, 6);
    EXPECT_EQ(t.values, (std::vector<double>{-5, 0, 5}));
  }
  {  // not expanded: only inside ticks
    const Ticks t = nice_ticks(0.05, 0.93, 5, false);
    EXPECT_EQ(t.values, (std::vector<double>{0.2, 0.4, 0.6, 0.8}));
    EXPECT_DOUBLE_EQ(t.lo, 0.05);
  }
  {  // negative slopes, exact decimal values
    const Ticks t = nice_ticks(-0.17, 0.02, 5);
    EXPECT_DOUBLE_EQ(t.step, 0.05);
    EXPECT_EQ(t.decimals, 2);
    EXPECT_DOUBLE_EQ(t.values.front(), -0.2);
    EXPECT_DOUBLE_EQ(t.values.back(), 0.05);
  }
  {  // degenerate range is widened, never empty
    const Ticks t = nice_ticks(3, 3, 5);
    EXPECT_GE(t.values.size(), 2u);
    EXPECT_LT(t.lo, 3);
    EXPECT_GT(t.hi, 3);
  }
}

TEST(Colours, OkabeItoAndClassColours) {
  EXPECT_EQ(okabe_ito().size(), 8u);
  EXPECT_EQ(class_color("mitosis"), "#0072B2");
  EXPECT_EQ(class_color("apoptosis"), "#D55E00");
  EXPECT_EQ(palette(8), palette(0));
  EXPECT_EQ(sequential_color(0.0), "#f7fbff");
  EXPECT_EQ(sequential_color(1.0), "#08306b");
  EXPECT_EQ(diverging_color(0.0), "#f7f7f7");
  EXPECT_GT(luminance("#ffffff"), 0.99);
  EXPECT_LT(luminance("#000000"), 0.01);
}

TEST(SvgWriter, DeterministicBytesAndViewBox) {
  auto make = [] {
    Svg s(320.5, 200, "t");
    s.rect(0, 0, 10, 10, Paint::filled("#ffffff"));
    s.polyline({{0, 0}, {1.005, 2.333333}, {std::nan(""), 1}, {3, 4}, {5, 6}}, Paint::stroked("#000000", 1.5, "4 3"));
    s.begin_clip(10, 10, 100, 100).circle(5, 5, 2, Paint::filled("#D55E00", 0.5)).end_clip();
    return s.str();
  };
  const std::string a = make(), b = make();
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("viewBox=\"0 0 320.5 200\""), std::string::npos);
  // NaN splits the polyline into two pieces; the 1-point piece before it is kept with its neighbour
  EXPECT_NE(a.find("points=\"0,0 1,2.33\""), std::string::npos);
  EXPECT_NE(a.find("points=\"3,4 5,6\""), std::string::npos);
  EXPECT_NE(a.find("fill-opacity=\"0.5\""), std::string::npos);
}

TEST(SvgWriter, UnbalancedGroupsThrow) {
  Svg s(10, 10);
  s.begin_group();
  EXPECT_THROW((void)s.str(), std::logic_error);
  s.end_group();
  EXPECT_NO_THROW((void)s.str());
  EXPECT_THROW(s.end_group(), std::logic_error);
}

}  // namespace
}  // namespace taupe::report
