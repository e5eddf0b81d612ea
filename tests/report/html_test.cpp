// HTML builder: escaping, anchors/TOC, numbering, self-containment, determinism.
#include <gtest/gtest.h>

#include <cmath>


#include "taupe/report/html.h"
#include "taupe/report/plot.h"
#include "report/synthetic_report.h"

namespace taupe::report {
namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

TEST(Html, SlugsAreUniqueAnchorsInTheToc) {
  EXPECT_EQ(slugify("Neighbour switching (Figs 3, 4)"), "neighbour-switching-figs-3-4");
  EXPECT_EQ(slugify("  ##  "), "section");
  HtmlReport r("t");
  EXPECT_EQ(r.section("Results"), "results");
  EXPECT_EQ(r.section("Results", 3), "results-2");
  EXPECT_EQ(r.section("x", 2, "Results"), "results-3");
  const std::string h = r.html();
  EXPECT_NE(h.find("<h2 id=\"results\">Results</h2>"), std::string::npos);
  EXPECT_NE(h.find("<h3 id=\"results-2\">Results</h3>"), std::string::npos);
  EXPECT_NE(h.find("<a class=\"l3\" href=\"#results-2\">Results</a>"), std::string::npos);
}

TEST(Html, EverythingTextualIsEscaped) {
  HtmlReport r("<b>title</b>", "sub & title");
  r.headline({{"<i>label</i>", "1 < 2", Status::Bad}}, "note \"quoted\"");
  r.section("A <script>");
  r.paragraph("<script>alert(1)</script>");
  r.note("x > y");
  Table t;
  t.caption = "cap <u>";
  t.header = {"<th>"};
  t.add_row({TableCell("<td>", Status::Good)});
  r.table(t);
  r.key_values({{"k<", "v>"}}, "kv & more");
  r.figure_svg("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>", "caption <em>");
  const std::string h = r.html();
  // the only <script> is the self-check in the head
  EXPECT_EQ(count(h, "<script>"), 1u);
  for (const char* raw : {"<b>title", "<i>label", "<u>", "<th><th>", "<td><td>", "<em>"})
    EXPECT_EQ(h.find(raw), std::string::npos) << raw;
  for (const char* esc : {"&lt;b&gt;title&lt;/b&gt;", "sub &amp; title", "1 &lt; 2", "note &quot;quoted&quot;",
                          "&lt;script&gt;alert(1)&lt;/script&gt;", "x &gt; y", "cap &lt;u&gt;", "kv &amp; more",
                          "caption &lt;em&gt;"})
    EXPECT_NE(h.find(esc), std::string::npos) << esc;
  EXPECT_NE(h.find("<td class=\"good\">&lt;td&gt;</td>"), std::string::npos);
  EXPECT_NE(h.find("<div class=\"value bad\">1 &lt; 2</div>"), std::string::npos);
}

TEST(Html, FiguresAndTablesAreNumberedWithCaptions) {
  HtmlReport r("t");
  LinePlot p;
  p.series.push_back(Series("s", {0, 1}, {0, 1}));
  r.figure_svg(render(p), "first");
  r.figure_row({render(p), render(p)}, "second");
  r.figure_image(Image{2, 2, 1, {0, 64, 128, 255}}, "third", 100);
  Table t;
  t.caption = "tab";
  r.table(t);
  EXPECT_EQ(r.figure_count(), 3);
  EXPECT_EQ(r.table_count(), 1);
  const std::string h = r.html();
  EXPECT_NE(h.find("<b>Figure 1.</b> first"), std::string::npos);
  EXPECT_NE(h.find("<b>Figure 2.</b> second"), std::string::npos);
  EXPECT_NE(h.find("<b>Figure 3.</b> third"), std::string::npos);
  EXPECT_NE(h.find("<b>Table 1.</b> tab"), std::string::npos);
  EXPECT_NE(h.find("<img src=\"data:image/png;base64,"), std::string::npos);
  EXPECT_NE(h.find("data-expected-svgs=\"3\" data-expected-images=\"1\""), std::string::npos);
  EXPECT_NE(h.find("id=\"taupe-check\""), std::string::npos);
}

TEST(Html, VerdictCells) {
  const TableCell y = yes_no_cell(true), n = yes_no_cell(false);
  EXPECT_EQ(y.text, "yes");
  EXPECT_EQ(y.status, Status::Good);
  EXPECT_EQ(n.status, Status::Bad);
  EXPECT_EQ(num_cell(-0.5, 2).text, "\u22120.50");
  EXPECT_TRUE(num_cell(1, 1).numeric);
  EXPECT_EQ(num_cell(std::nan("")).text, "n/a");
}

TEST(Html, FullReportIsSelfContainedAndDeterministic) {
  const std::string a = testing::build_synthetic_report().html();
  const std::string b = testing::build_synthetic_report().html();
  EXPECT_EQ(a, b);
  // no network: nothing loaded from http(s), no external stylesheets/scripts
  for (const char* ext : {"src=\"http", "href=\"http", "src=\"//", "href=\"//", "url(", "@import"})
    EXPECT_EQ(a.find(ext), std::string::npos) << ext;
  EXPECT_EQ(a.find("<link"), std::string::npos);
  EXPECT_EQ(a.find("<script src"), std::string::npos);
  EXPECT_NE(a.find("default-src 'none'"), std::string::npos);  // CSP forbids any fetch
  EXPECT_EQ(count(a, "<figure"), 19u);
}

}  // namespace
}  // namespace taupe::report
