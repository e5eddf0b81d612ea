#pragma once
// Figures for the report, rendered to self-contained SVG strings (svg.h): line plots with
// ±sd bands, shaded x-ranges, markers and legends; small multiples sharing axes; bar charts
// with CI whiskers; heatmaps / confusion matrices with "mean ± sd" in every cell; scatter
// plots; histograms; labelled image montages. Describe a figure as a plain struct, call
// `render(fig)`. Colours default to the Okabe-Ito palette (class names get fixed colours, see
// class_color), fonts are ≥ 11 px at the nominal size, and the SVG scales via its viewBox.
// Output is deterministic: the same struct renders to the same bytes.
//
//   LinePlot p;
//   p.title = "PC 1 shift, true apoptosis";
//   p.x = {"shift", "PC units"};
//   p.y = {"fraction predicted", "", 0.0, 1.0};
//   p.series.push_back({"apoptosis", shifts, mean, sd});
//   p.shaded.push_back({-3.0, 2.5, "realistic range"});
//   std::string svg = render(p);
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "taupe/report/image.h"
#include "taupe/report/svg.h"

namespace taupe::report {

inline constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();

/// One axis: title, unit (shown as "title (unit)"), optional fixed limits (NaN = automatic,
/// widened to nice 1-2-5 ticks) and the number of tick intervals to aim for.
struct Axis {
  Axis() = default;
  Axis(std::string label_, std::string unit_ = {}, double min_ = kAuto, double max_ = kAuto, int ticks_ = 5)
      : label(std::move(label_)), unit(std::move(unit_)), min(min_), max(max_), ticks(ticks_) {}
  std::string label;
  std::string unit;
  double min = kAuto;
  double max = kAuto;
  int ticks = 5;
  /// "label (unit)", or just "label".
  std::string title() const;
};

/// One data series of a line/scatter plot.
struct Series {
  Series() = default;
  Series(std::string name_, std::vector<double> x_, std::vector<double> y_, std::vector<double> sd_ = {},
         std::string color_ = {})
      : name(std::move(name_)), x(std::move(x_)), y(std::move(y_)), sd(std::move(sd_)), color(std::move(color_)) {}
  std::string name;          ///< legend entry (empty: not listed)
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> sd;    ///< optional ±sd band (same length as y), drawn translucent
  std::string color;         ///< empty: class_color(name, index)
  bool line = true;          ///< connect points
  bool markers = true;       ///< draw a marker at every point
  std::string dash;          ///< stroke-dasharray, e.g. "5 3"
  double width = 2.0;        ///< line width
};

/// A shaded x-interval (e.g. the "realistic range"), listed in the legend when labelled.
struct XRange {
  XRange() = default;
  XRange(double x0_, double x1_, std::string label_ = {}, std::string color_ = "#999999", double opacity_ = 0.18)
      : x0(x0_), x1(x1_), label(std::move(label_)), color(std::move(color_)), opacity(opacity_) {}
  double x0 = 0.0;
  double x1 = 0.0;
  std::string label;
  std::string color = "#999999";
  double opacity = 0.18;
};

/// A horizontal (y = value) or vertical (x = value) reference line.
struct RefLine {
  RefLine() = default;
  RefLine(bool vertical_, double value_, std::string label_ = {}, std::string color_ = "#555555",
          std::string dash_ = "4 3")
      : vertical(vertical_), value(value_), label(std::move(label_)), color(std::move(color_)), dash(std::move(dash_)) {}
  bool vertical = false;
  double value = 0.0;
  std::string label;
  std::string color = "#555555";
  std::string dash = "4 3";
};

/// Line plot (or scatter plot when series have line = false).
struct LinePlot {
  std::string title;
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::vector<XRange> shaded;
  std::vector<RefLine> ref_lines;
  bool legend = true;        ///< legend right of the plot area
  double width = 640;
  double height = 380;
};

/// A scatter series: markers only.
Series scatter_series(std::string name, std::vector<double> x, std::vector<double> y, std::string color = {});

/// Grid of panels sharing axes (e.g. prediction curves for all 32 PCs). Panels' own x/y
/// axes are ignored for labelling: `x` and `y` title the whole grid; their limits (or, when
/// automatic, the union of all panels' data) are shared. Panel titles are the panels' `title`.
struct SmallMultiples {
  std::string title;
  Axis x;
  Axis y;
  std::vector<LinePlot> panels;
  int columns = 8;
  double panel_width = 150;
  double panel_height = 110;
  std::vector<int> highlight;  ///< panel indices drawn with an emphasised frame and bold title
  std::string highlight_note;  ///< legend text for the highlight (e.g. "most correlated with nuclear area")
};

/// Bar chart over categories, optionally grouped (one bar per series within a category),
/// with CI whiskers. Highlighted categories get a background band and a bold label.
struct BarSeries {
  std::string name;
  std::vector<double> values;
  std::vector<double> ci_lo;  ///< optional (same length as values); NaN entries = no whisker
  std::vector<double> ci_hi;
  std::string color;          ///< empty: class_color(name, index)
};
struct BarChart {
  std::string title;
  std::string x_label;
  std::vector<std::string> categories;
  Axis y;
  std::vector<BarSeries> series;
  std::vector<int> highlight;
  std::string highlight_note;  ///< legend text for the highlight band
  bool legend = true;
  double width = 760;
  double height = 340;
};

/// Heatmap / confusion matrix. Rows are drawn top to bottom. When `sd` is given (same shape),
/// every cell reads "mean ± sd", otherwise just the value.
struct Heatmap {
  std::string title;
  std::vector<std::string> row_labels;
  std::vector<std::string> col_labels;
  std::string row_title = "true class";
  std::string col_title = "predicted class";
  std::vector<std::vector<double>> values;
  std::vector<std::vector<double>> sd;
  double vmin = 0.0;
  double vmax = 1.0;
  bool diverging = false;   ///< blue-white-vermillion around 0 (for differences)
  int decimals = 2;
  std::string colorbar_label = "fraction of true class";
  double cell = 92;
};
/// Confusion matrix (row = true class, column = predicted class) with mean ± sd per cell.
Heatmap confusion_heatmap(const std::vector<std::vector<double>>& mean, const std::vector<std::vector<double>>& sd,
                          const std::vector<std::string>& class_names, std::string title);

/// Histogram of one or more samples on shared bins.
struct HistSeries {
  std::string name;
  std::vector<double> values;
  std::string color;
};
struct Histogram {
  std::string title;
  Axis x;
  Axis y{"count"};
  std::vector<HistSeries> series;
  int bins = 20;
  double lo = kAuto;  ///< bin range; automatic: data range
  double hi = kAuto;
  bool density = false;  ///< normalise each series to unit area
  double width = 560;
  double height = 340;
};

/// Grid of images with row and column labels (Fig 3: rows original / reconstruction / mask /
/// perturbed / reconstruction of perturbed; Fig 5: one row per shift). A vertical marker can
/// be drawn after a column (e.g. the cutoff).
struct ImageMontage {
  std::string title;
  std::vector<std::string> row_labels;
  std::vector<std::string> col_labels;
  std::vector<std::vector<Image>> images;  ///< [row][col]; empty images leave a blank cell
  std::string col_title;                   ///< e.g. "frame (4 min)"
  double cell = 64;                        ///< displayed size of one image (px)
  double gap = 3;
  int marker_after_col = -1;               ///< draw a dashed marker after this column (-1: none)
  std::string marker_label = "cutoff";
};

std::string render(const LinePlot& p);
std::string render(const SmallMultiples& m);
std::string render(const BarChart& b);
std::string render(const Heatmap& h);
std::string render(const Histogram& h);
std::string render(const ImageMontage& m);

}  // namespace taupe::report
