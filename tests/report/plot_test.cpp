// Figures: confusion heatmap text, bars with CI, bands/ranges, small multiples, histograms,
// montages; shape errors; deterministic bytes.
#include <gtest/gtest.h>

#include <cmath>


#include "taupe/core/errors.h"
#include "taupe/report/plot.h"

namespace taupe::report {
namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

using Matrix = std::vector<std::vector<double>>;
const std::vector<std::string> kClasses{"mitosis", "apoptosis", "synthetic"};

TEST(Heatmap, ConfusionCellsReadMeanPlusMinusSd) {
  const Matrix mean{{0.91, 0.07, 0.02}, {0.10, 0.88, 0.02}, {0.0, 0.01, 0.99}};
  const Matrix sd{{0.02, 0.02, 0.01}, {0.03, 0.03, 0.01}, {0.0, 0.005, 0.01}};
  const std::string svg = render(confusion_heatmap(mean, sd, kClasses, "CV"));
  for (const char* cell : {"0.91 ± 0.02", "0.07 ± 0.02", "0.02 ± 0.01", "0.10 ± 0.03", "0.88 ± 0.03",
                           "0.00 ± 0.00", "0.01 ± 0.01", "0.99 ± 0.01"})
    EXPECT_NE(svg.find(std::string(">") + cell + "</text>"), std::string::npos) << cell;
  EXPECT_EQ(count(svg, " ± "), 9u);
  // rows = true class (y title), columns = predicted class (x title)
  EXPECT_NE(svg.find(">true class</text>"), std::string::npos);
  EXPECT_NE(svg.find(">predicted class</text>"), std::string::npos);
  // the first row of cells is mitosis: its label is left of the top row, and the 0.91 cell
  // is in the top-left (smallest x and y among value cells)
  const std::size_t p91 = svg.find(">0.91 ± 0.02<"), p88 = svg.find(">0.88 ± 0.03<");
  EXPECT_LT(p91, p88);
  // dark cells get white text
  const std::string tail = svg.substr(0, p91);
  const std::size_t tstart = tail.rfind("<text");
  EXPECT_NE(svg.substr(tstart, p91 - tstart).find("fill=\"#ffffff\""), std::string::npos);
}

TEST(Heatmap, ShapeErrorsName) {
  Heatmap h = confusion_heatmap({{1, 0}, {0, 1}}, {{0, 0}}, {"a", "b"}, "bad");
  EXPECT_THROW(render(h), DataError);
  Heatmap h2 = confusion_heatmap({{1, 0}, {0}}, {}, {"a", "b"}, "ragged");
  EXPECT_THROW(render(h2), DataError);
  Heatmap h3 = confusion_heatmap({{1, 0}, {0, 1}}, {}, {"a", "b", "c"}, "labels");
  EXPECT_THROW(render(h3), DataError);
}

TEST(Heatmap, WithoutSdShowsValueOnlyAndNaNAsNa) {
  Heatmap h;
  h.values = {{0.5, std::nan("")}};
  h.row_labels = {"r"};
  h.col_labels = {"a", "b"};
  const std::string svg = render(h);
  EXPECT_NE(svg.find(">0.50</text>"), std::string::npos);
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);
  EXPECT_EQ(svg.find("±"), std::string::npos);
}

TEST(BarChart, WhiskersHighlightAndLegend) {
  BarChart b;
  b.title = "slopes";
  b.y = Axis("slope", "fraction / PC unit");
  BarSeries s;
  s.name = "apoptosis";
  for (int i = 0; i < 32; ++i) {
    b.categories.push_back(std::to_string(i));
    s.values.push_back(i == 1 ? -0.16 : 0.01 * (i % 3 - 1));
    s.ci_lo.push_back(s.values.back() - 0.01);
    s.ci_hi.push_back(s.values.back() + 0.01);
  }
  s.ci_lo[5] = std::nan("");  // no whisker for this one
  b.series = {s};
  b.highlight = {1};
  b.highlight_note = "top PC";
  const std::string svg = render(b);
  EXPECT_EQ(count(svg, "fill=\"#D55E00\" fill-opacity=\"0.85\""), 32u + 1u);  // 32 bars + legend swatch
  EXPECT_EQ(count(svg, "stroke=\"#222222\" stroke-width=\"1.3\""), 31u * 3u);  // 3 lines per whisker
  EXPECT_NE(svg.find(">top PC</text>"), std::string::npos);
  EXPECT_NE(svg.find(">95% CI</text>"), std::string::npos);
  EXPECT_NE(svg.find("font-weight=\"bold\" fill=\"#222222\">1</text>"), std::string::npos);  // highlighted label
  EXPECT_NE(svg.find(">slope (fraction / PC unit)</text>"), std::string::npos);
  b.series[0].values.pop_back();
  EXPECT_THROW(render(b), DataError);
}

TEST(LinePlot, BandsRangesMarkersLegendUnits) {
  LinePlot p;
  p.title = "PC 1, true apoptosis";
  p.x = Axis("PC shift", "PC units");
  p.y = Axis("fraction", "", 0.0, 1.0);
  const std::vector<double> x{-1, 0, 1}, y{0.2, 0.5, 0.8}, sd{0.05, 0.05, 0.05};
  p.series.push_back(Series("apoptosis", x, y, sd));
  p.series.push_back(Series("mitosis", x, {0.8, 0.5, 0.2}));
  p.shaded.push_back(XRange(-0.5, 0.5, "realistic range"));
  p.ref_lines.push_back(RefLine(false, 0.2, "20% synthetic"));
  const std::string svg = render(p);
  EXPECT_EQ(count(svg, "<polygon"), 1u + 0u /*markers of series 0 are circles*/);
  EXPECT_NE(svg.find("fill=\"#D55E00\" fill-opacity=\"0.2\""), std::string::npos);  // translucent band
  EXPECT_NE(svg.find(">PC shift (PC units)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">realistic range</text>"), std::string::npos);
  EXPECT_NE(svg.find(">20% synthetic</text>"), std::string::npos);
  EXPECT_NE(svg.find(">apoptosis</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 3u + 1u);  // 3 markers + legend
  EXPECT_EQ(count(svg, "<rect x=\"") >= 3u, true);
  // y ticks 0 … 1 at 0.2 steps
  for (const char* t : {">0.0</text>", ">0.2</text>", ">1.0</text>"}) EXPECT_NE(svg.find(t), std::string::npos) << t;
  // x ticks use a typographic minus
  EXPECT_NE(svg.find(">\u22121.0</text>"), std::string::npos);
  p.series[0].sd.pop_back();
  EXPECT_THROW(render(p), DataError);
}

TEST(LinePlot, ScatterHasNoLines) {
  LinePlot p;
  p.series = {scatter_series("pts", {1, 2, 3}, {3, 1, 2})};
  const std::string svg = render(p);
  EXPECT_EQ(count(svg, "<polyline"), 0u);
  EXPECT_EQ(count(svg, "<circle"), 3u + 1u);
}

TEST(SmallMultiples, OnePanelPerPcSharedAxes) {
  SmallMultiples m;
  m.title = "all PCs";
  m.x = Axis("PC shift", "PC units");
  m.y = Axis("fraction", "", 0, 1);
  for (int pc = 0; pc < 32; ++pc) {
    LinePlot p;
    p.title = "PC " + std::to_string(pc);
    p.series.push_back(Series("apoptosis", {-1, 0, 1}, {0.1, 0.5 + 0.01 * pc, 0.9}, {0.05, 0.05, 0.05}));
    p.shaded.push_back(XRange(-0.5, 0.5, "realistic range"));
    m.panels.push_back(p);
  }
  m.highlight = {1};
  m.highlight_note = "nuclear-size PC";
  const std::string svg = render(m);
  for (int pc = 0; pc < 32; ++pc) EXPECT_NE(svg.find(">PC " + std::to_string(pc) + "</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "overflow=\"hidden\""), 32u);   // one clipped data layer per panel
  EXPECT_EQ(count(svg, ">fraction</text>"), 1u);       // shared y title once
  EXPECT_EQ(count(svg, ">PC shift (PC units)</text>"), 1u);
  EXPECT_EQ(count(svg, ">realistic range</text>"), 1u);  // one legend for the grid
  EXPECT_NE(svg.find("font-weight=\"bold\" fill=\"#222222\">PC 1</text>"), std::string::npos);
  // y tick labels only on the first column: "1.0" once per row (4 rows of 8)
  EXPECT_EQ(count(svg, "text-anchor=\"end\" dominant-baseline=\"middle\" fill=\"#222222\">1.0</text>"), 4u);
  // x tick labels only where no panel is below: the bottom row (8 panels) shows "1.0" on x
  EXPECT_EQ(count(svg, "text-anchor=\"middle\" fill=\"#222222\">1.0</text>"), 8u);
}

TEST(Histogram, CountsPerBin) {
  Histogram h;
  h.series = {{"", {0.1, 0.2, 0.25, 0.9, 1.0}, ""}};  // unnamed: no legend swatch
  h.bins = 2;
  h.lo = 0;
  h.hi = 1;
  const std::string svg = render(h);
  // 2 bars: 3 values in [0, .5), 2 in [.5, 1] (the upper edge is included)
  EXPECT_EQ(count(svg, "fill-opacity=\"0.75\" stroke="), 2u);
  Histogram bad;
  bad.bins = 0;
  EXPECT_THROW(render(bad), DataError);
}

TEST(Montage, ImagesLabelsAndCutoffMarker) {
  ImageMontage m;
  m.title = "Fig 3";
  m.row_labels = {"original", "reconstruction", "mask", "perturbed", "reconstruction (perturbed)"};
  Image img{4, 4, 3, std::vector<std::uint8_t>(48, 128)};
  for (int r = 0; r < 5; ++r) m.images.push_back(std::vector<Image>(3, img));
  m.col_labels = {"t0", "t1", "t2"};
  m.marker_after_col = 1;
  const std::string svg = render(m);
  EXPECT_EQ(count(svg, "<image "), 15u);
  EXPECT_EQ(count(svg, "href=\"data:image/png;base64,"), 15u);
  EXPECT_NE(svg.find(">reconstruction (perturbed)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">cutoff</text>"), std::string::npos);
  EXPECT_NE(svg.find("image-rendering:pixelated"), std::string::npos);
  m.row_labels.pop_back();
  EXPECT_THROW(render(m), DataError);
}

TEST(Plots, SameDataSameBytes) {
  auto make = [] {
    LinePlot p;
    p.x = Axis("x", "s");
    p.series.push_back(Series("s", {0.1, 0.2, 0.3}, {1.0 / 3.0, 2.0 / 3.0, 1.0}, {0.01, 0.02, 0.03}));
    BarChart b;
    b.categories = {"a", "b"};
    BarSeries s;
    s.values = {0.5, -0.25};
    b.series = {s};
    return render(p) + render(b) + render(confusion_heatmap({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {}, kClasses, "c"));
  };
  EXPECT_EQ(make(), make());
}

}  // namespace
}  // namespace taupe::report
