#include "taupe/report/plot.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "taupe/core/errors.h"

namespace taupe::report {

std::string Axis::title() const { return unit.empty() ? label : label + " (" + unit + ")"; }

Series scatter_series(std::string name, std::vector<double> x, std::vector<double> y, std::string color) {
  Series s;
  s.name = std::move(name);
  s.x = std::move(x);
  s.y = std::move(y);
  s.color = std::move(color);
  s.line = false;
  s.markers = true;
  return s;
}

namespace {
constexpr double kTickFont = 12.0;
constexpr double kLabelFont = 13.0;
constexpr double kTitleFont = 15.0;
constexpr double kLegendFont = 12.0;
const char* const kAxisColour = "#333333";
const char* const kGridColour = "#e4e4e4";
const char* const kTextColour = "#222222";
const char* const kHighlightColour = "#F0E442";

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

struct Scale {
  double d0, d1, r0, r1;
  double operator()(double v) const { return d1 == d0 ? (r0 + r1) / 2 : r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
};

struct Area {
  double x, y, w, h;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

Ticks axis_ticks(const Axis& a, const Range& data, int max_ticks = 100) {
  const bool has_min = std::isfinite(a.min), has_max = std::isfinite(a.max);
  double lo = has_min ? a.min : (data.valid() ? data.lo : 0.0);
  double hi = has_max ? a.max : (data.valid() ? data.hi : 1.0);
  if (has_min && !has_max && hi < lo) hi = lo + 1.0;
  if (has_max && !has_min && lo > hi) lo = hi - 1.0;
  const int target = std::max(1, std::min(a.ticks, max_ticks));
  if (has_min && has_max) return nice_ticks(lo, hi, target, false);
  Ticks t = nice_ticks(lo, hi, target, true);
  if (has_min) {
    t.values.erase(std::remove_if(t.values.begin(), t.values.end(), [&](double v) { return v < a.min - 1e-12; }),
                   t.values.end());
    t.lo = a.min;
  }
  if (has_max) {
    t.values.erase(std::remove_if(t.values.begin(), t.values.end(), [&](double v) { return v > a.max + 1e-12; }),
                   t.values.end());
    t.hi = a.max;
  }
  return t;
}

Font font(double size, std::string anchor = "start", bool bold = false, std::string fill = kTextColour) {
  Font f;
  f.size = size;
  f.anchor = std::move(anchor);
  f.bold = bold;
  f.fill = std::move(fill);
  return f;
}

void background(Svg& s) { s.rect(0, 0, s.width(), s.height(), Paint::filled("#ffffff")); }

void title_text(Svg& s, double x, double y, const std::string& t, const std::string& anchor = "middle") {
  if (!t.empty()) s.text(x, y, t, font(kTitleFont, anchor, true));
}

/// Grid lines, axis lines, ticks and tick labels of a numeric frame.
void draw_frame(Svg& s, const Area& a, const Ticks& xt, const Ticks& yt, bool x_labels, bool y_labels,
                double tick_font = kTickFont) {
  const Scale X{xt.lo, xt.hi, a.x, a.right()};
  const Scale Y{yt.lo, yt.hi, a.bottom(), a.y};
  for (double v : yt.values) s.line(a.x, Y(v), a.right(), Y(v), Paint::stroked(kGridColour, 1));
  for (double v : xt.values) s.line(X(v), a.y, X(v), a.bottom(), Paint::stroked(kGridColour, 1));
  const Paint axis = Paint::stroked(kAxisColour, 1.2);
  s.line(a.x, a.bottom(), a.right(), a.bottom(), axis);
  s.line(a.x, a.y, a.x, a.bottom(), axis);
  for (double v : xt.values) {
    s.line(X(v), a.bottom(), X(v), a.bottom() + 4, axis);
    if (x_labels) s.text(X(v), a.bottom() + 5 + tick_font, fmt_label(v, xt.decimals), font(tick_font, "middle"));
  }
  for (double v : yt.values) {
    s.line(a.x - 4, Y(v), a.x, Y(v), axis);
    if (y_labels) {
      Font f = font(tick_font, "end");
      f.baseline = "middle";
      s.text(a.x - 7, Y(v), fmt_label(v, yt.decimals), f);
    }
  }
}

void x_title(Svg& s, const Area& a, double y, const std::string& t) {
  if (!t.empty()) s.text(a.x + a.w / 2, y, t, font(kLabelFont, "middle"));
}
void y_title(Svg& s, double x, double ymid, const std::string& t) {
  if (t.empty()) return;
  Font f = font(kLabelFont, "middle");
  f.rotate = -90;
  s.text(x, ymid, t, f);
}

enum class MarkerShape { Circle, Square, Triangle, Diamond };
MarkerShape marker_shape(std::size_t i) { return static_cast<MarkerShape>(i % 4); }

void marker(Svg& s, MarkerShape shape, double x, double y, double r, const std::string& colour) {
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  Paint p = Paint::filled(colour);
  p.stroke = "#ffffff";
  p.stroke_width = 0.8;
  switch (shape) {
    case MarkerShape::Circle: s.circle(x, y, r, p); break;
    case MarkerShape::Square: s.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, p); break;
    case MarkerShape::Triangle: s.polygon({{x, y - r * 1.15}, {x + r * 1.05, y + r * 0.75}, {x - r * 1.05, y + r * 0.75}}, p); break;
    case MarkerShape::Diamond: s.polygon({{x, y - r * 1.2}, {x + r * 1.2, y}, {x, y + r * 1.2}, {x - r * 1.2, y}}, p); break;
  }
}

struct LegendEntry {
  enum Kind { Line, Box, RefLine } kind = Line;
  std::string label;
  std::string colour;
  bool band = false;
  bool has_marker = false;
  bool has_line = true;
  MarkerShape shape = MarkerShape::Circle;
  std::string dash;
  double opacity = 1.0;
};

/// A filled-box legend entry.
LegendEntry box_entry(std::string label, std::string colour, double opacity) {
  LegendEntry e;
  e.kind = LegendEntry::Box;
  e.label = std::move(label);
  e.colour = std::move(colour);
  e.opacity = opacity;
  return e;
}

constexpr double kSwatch = 26.0;

void legend_swatch(Svg& s, const LegendEntry& e, double x, double y) {
  switch (e.kind) {
    case LegendEntry::Box: {
      Paint p = Paint::filled(e.colour, e.opacity);
      p.stroke = e.colour;
      p.stroke_opacity = 0.8;
      s.rect(x, y - 6, kSwatch, 12, p);
      break;
    }
    case LegendEntry::RefLine: s.line(x, y, x + kSwatch, y, Paint::stroked(e.colour, 1.4, e.dash)); break;
    case LegendEntry::Line:
      if (e.band) s.rect(x, y - 6, kSwatch, 12, Paint::filled(e.colour, 0.2));
      if (e.has_line) s.line(x, y, x + kSwatch, y, Paint::stroked(e.colour, 2, e.dash));
      if (e.has_marker) marker(s, e.shape, x + kSwatch / 2, y, 3.6, e.colour);
      break;
  }
}

double legend_width(const std::vector<LegendEntry>& es) {
  double w = 0;
  for (const auto& e : es) w = std::max(w, text_width(e.label, kLegendFont));
  return es.empty() ? 0 : w + kSwatch + 14;
}

void legend_vertical(Svg& s, double x, double y, const std::vector<LegendEntry>& es) {
  for (std::size_t i = 0; i < es.size(); ++i) {
    const double yy = y + static_cast<double>(i) * 20.0;
    legend_swatch(s, es[i], x, yy);
    Font f = font(kLegendFont);
    f.baseline = "middle";
    s.text(x + kSwatch + 6, yy, es[i].label, f);
  }
}

double legend_horizontal_width(const std::vector<LegendEntry>& es) {
  double w = 0;
  for (const auto& e : es) w += kSwatch + 6 + text_width(e.label, kLegendFont) + 18;
  return es.empty() ? 0 : w - 18;
}

void legend_horizontal(Svg& s, double x, double y, const std::vector<LegendEntry>& es) {
  for (const auto& e : es) {
    legend_swatch(s, e, x, y);
    Font f = font(kLegendFont);
    f.baseline = "middle";
    s.text(x + kSwatch + 6, y, e.label, f);
    x += kSwatch + 6 + text_width(e.label, kLegendFont) + 18;
  }
}

std::string series_colour(const Series& se, std::size_t i) {
  return se.color.empty() ? class_color(se.name, i) : se.color;
}

void check_series(const Series& se) {
  if (se.x.size() != se.y.size())
    throw DataError("plot series '" + se.name + "': x has " + std::to_string(se.x.size()) + " values, y has " +
                    std::to_string(se.y.size()));
  if (!se.sd.empty() && se.sd.size() != se.y.size())
    throw DataError("plot series '" + se.name + "': sd has " + std::to_string(se.sd.size()) + " values, y has " +
                    std::to_string(se.y.size()));
}

void add_data_ranges(const LinePlot& p, Range& xr, Range& yr) {
  for (const auto& se : p.series) {
    check_series(se);
    for (std::size_t i = 0; i < se.x.size(); ++i) {
      xr.add(se.x[i]);
      yr.add(se.y[i]);
      if (!se.sd.empty() && std::isfinite(se.sd[i])) {
        yr.add(se.y[i] - se.sd[i]);
        yr.add(se.y[i] + se.sd[i]);
      }
    }
  }
  for (const auto& r : p.shaded) {
    xr.add(r.x0);
    xr.add(r.x1);
  }
  for (const auto& r : p.ref_lines) (r.vertical ? xr : yr).add(r.value);
}

std::vector<LegendEntry> line_legend(const LinePlot& p) {
  std::vector<LegendEntry> es;
  for (std::size_t i = 0; i < p.series.size(); ++i) {
    const auto& se = p.series[i];
    if (se.name.empty()) continue;
    LegendEntry e;
    e.label = se.name;
    e.colour = series_colour(se, i);
    e.band = !se.sd.empty();
    e.has_line = se.line;
    e.has_marker = se.markers;
    e.shape = marker_shape(i);
    e.dash = se.dash;
    es.push_back(e);
  }
  for (const auto& r : p.shaded) {
    if (r.label.empty()) continue;
    if (std::any_of(es.begin(), es.end(), [&](const LegendEntry& e) { return e.label == r.label; })) continue;
    es.push_back(box_entry(r.label, r.color, r.opacity));
  }
  for (const auto& r : p.ref_lines) {
    if (r.label.empty()) continue;
    LegendEntry e;
    e.kind = LegendEntry::RefLine;
    e.label = r.label;
    e.colour = r.color;
    e.dash = r.dash;
    es.push_back(e);
  }
  return es;
}

/// Data layer of a line plot (shaded ranges, ref lines, bands, lines, markers), clipped to `a`.
void draw_line_data(Svg& s, const LinePlot& p, const Area& a, const Ticks& xt, const Ticks& yt, double marker_r,
                    double width_scale) {
  const Scale X{xt.lo, xt.hi, a.x, a.right()};
  const Scale Y{yt.lo, yt.hi, a.bottom(), a.y};
  s.begin_clip(a.x, a.y, a.w, a.h);
  for (const auto& r : p.shaded) {
    if (!std::isfinite(r.x0) || !std::isfinite(r.x1)) continue;
    s.rect(X(std::min(r.x0, r.x1)), a.y, std::fabs(X(r.x1) - X(r.x0)), a.h, Paint::filled(r.color, r.opacity));
  }
  for (const auto& r : p.ref_lines) {
    const Paint rp = Paint::stroked(r.color, 1.2, r.dash);
    if (r.vertical) s.line(X(r.value), a.y, X(r.value), a.bottom(), rp);
    else s.line(a.x, Y(r.value), a.right(), Y(r.value), rp);
  }
  for (std::size_t i = 0; i < p.series.size(); ++i) {  // bands first, under every line
    const auto& se = p.series[i];
    if (se.sd.empty()) continue;
    std::vector<Point> band;
    for (std::size_t k = 0; k < se.x.size(); ++k)
      if (std::isfinite(se.sd[k]) && std::isfinite(se.y[k])) band.push_back({X(se.x[k]), Y(se.y[k] + se.sd[k])});
    for (std::size_t k = se.x.size(); k-- > 0;)
      if (std::isfinite(se.sd[k]) && std::isfinite(se.y[k])) band.push_back({X(se.x[k]), Y(se.y[k] - se.sd[k])});
    s.polygon(band, Paint::filled(series_colour(se, i), 0.2));
  }
  for (std::size_t i = 0; i < p.series.size(); ++i) {
    const auto& se = p.series[i];
    const std::string c = series_colour(se, i);
    if (se.line) {
      std::vector<Point> pts;
      for (std::size_t k = 0; k < se.x.size(); ++k)
        pts.push_back({std::isfinite(se.x[k]) ? X(se.x[k]) : se.x[k], std::isfinite(se.y[k]) ? Y(se.y[k]) : se.y[k]});
      s.polyline(pts, Paint::stroked(c, se.width * width_scale, se.dash));
    }
    if (se.markers)
      for (std::size_t k = 0; k < se.x.size(); ++k)
        if (std::isfinite(se.x[k]) && std::isfinite(se.y[k]))
          marker(s, marker_shape(i), X(se.x[k]), Y(se.y[k]), marker_r, c);
  }
  s.end_clip();
}

}  // namespace

// ---- line plot ------------------------------------------------------------------------------
std::string render(const LinePlot& p) {
  Range xr, yr;
  add_data_ranges(p, xr, yr);
  const auto legend = p.legend ? line_legend(p) : std::vector<LegendEntry>{};
  const double legend_w = legend.empty() ? 0 : legend_width(legend) + 16;
  const double top = p.title.empty() ? 16 : 40;
  const Area a{70, top, p.width - 70 - 18 - legend_w, p.height - top - 54};
  if (a.w < 40 || a.h < 40) throw DataError("line plot '" + p.title + "': figure too small for its legend/labels");
  const Ticks xt = axis_ticks(p.x, xr, static_cast<int>(a.w / 60));
  const Ticks yt = axis_ticks(p.y, yr, static_cast<int>(a.h / 36));

  Svg s(p.width, p.height, p.title);
  background(s);
  title_text(s, a.x + a.w / 2, 24, p.title);
  draw_frame(s, a, xt, yt, true, true);
  draw_line_data(s, p, a, xt, yt, 3.6, 1.0);
  x_title(s, a, a.bottom() + 42, p.x.title());
  y_title(s, 18, a.y + a.h / 2, p.y.title());
  if (!legend.empty()) legend_vertical(s, a.right() + 18, a.y + 10, legend);
  return s.str();
}

// ---- small multiples ------------------------------------------------------------------------
std::string render(const SmallMultiples& m) {
  if (m.panels.empty()) throw DataError("small multiples '" + m.title + "': no panels");
  const int n = static_cast<int>(m.panels.size());
  const int cols = std::max(1, std::min(m.columns, n));
  const int rows = (n + cols - 1) / cols;
  Range xr, yr;
  for (const auto& p : m.panels) add_data_ranges(p, xr, yr);
  const Ticks xt = axis_ticks(m.x, xr, std::max(2, static_cast<int>(m.panel_width / 40)));
  const Ticks yt = axis_ticks(m.y, yr, std::max(2, static_cast<int>(m.panel_height / 28)));

  // legend: union of the panels' entries (first seen order) + highlight note
  std::vector<LegendEntry> legend;
  for (const auto& p : m.panels)
    for (const auto& e : line_legend(p))
      if (std::none_of(legend.begin(), legend.end(), [&](const LegendEntry& o) { return o.label == e.label; }))
        legend.push_back(e);
  if (!m.highlight.empty() && !m.highlight_note.empty()) legend.push_back(box_entry(m.highlight_note, kHighlightColour, 0.35));

  const double left = 66, hgap = 18, vgap = 40, right = 16, bottom = 54;
  const double title_h = m.title.empty() ? 8 : 34;
  const double legend_h = legend.empty() ? 0 : 26;
  const double top = title_h + legend_h + 20;
  const double W = left + cols * m.panel_width + (cols - 1) * hgap + right;
  const double H = top + rows * m.panel_height + (rows - 1) * vgap + bottom;
  Svg s(W, std::max(H, 120.0), m.title);
  background(s);
  title_text(s, W / 2, 24, m.title);
  if (!legend.empty()) {
    const double lw = legend_horizontal_width(legend);
    legend_horizontal(s, std::max(left, (W - lw) / 2), title_h + 10, legend);
  }
  for (int i = 0; i < n; ++i) {
    const int r = i / cols, c = i % cols;
    const Area a{left + c * (m.panel_width + hgap), top + r * (m.panel_height + vgap), m.panel_width, m.panel_height};
    const bool hl = std::find(m.highlight.begin(), m.highlight.end(), i) != m.highlight.end();
    if (hl) s.rect(a.x - 4, a.y - 20, a.w + 8, a.h + 24, Paint::filled(kHighlightColour, 0.35), 3);
    const bool below_empty = i + cols >= n;  // no panel underneath: label the x axis here
    draw_frame(s, a, xt, yt, below_empty, c == 0, 11);
    draw_line_data(s, m.panels[i], a, xt, yt, 2.2, 0.75);
    s.text(a.x + a.w / 2, a.y - 6, m.panels[i].title, font(12, "middle", hl));
  }
  y_title(s, 18, top + (rows * m.panel_height + (rows - 1) * vgap) / 2, m.y.title());
  const Area whole{left, top, W - left - right, 0};
  x_title(s, whole, H - 14, m.x.title());
  return s.str();
}

// ---- bar chart ------------------------------------------------------------------------------
namespace {
/// The value range of a bar chart (with 0, values and CIs), after checking the series' lengths.
Range bar_value_range(const BarChart& b) {
  const std::size_t ncat = b.categories.size();
  Range yr;
  yr.add(0.0);
  for (const auto& se : b.series) {
    if (se.values.size() != ncat)
      throw DataError("bar chart '" + b.title + "' series '" + se.name + "': " + std::to_string(se.values.size()) +
                      " values for " + std::to_string(ncat) + " categories");
    if ((!se.ci_lo.empty() && se.ci_lo.size() != ncat) || (!se.ci_hi.empty() && se.ci_hi.size() != ncat))
      throw DataError("bar chart '" + b.title + "' series '" + se.name + "': CI length differs from values");
    for (std::size_t i = 0; i < ncat; ++i) {
      yr.add(se.values[i]);
      if (!se.ci_lo.empty()) yr.add(se.ci_lo[i]);
      if (!se.ci_hi.empty()) yr.add(se.ci_hi[i]);
    }
  }
  return yr;
}

/// Legend of a bar chart: the named series, the CI whisker (when any series has CIs) and the
/// highlight note.
std::vector<LegendEntry> bar_legend(const BarChart& b) {
  std::vector<LegendEntry> legend;
  if (!b.legend) return legend;
  for (std::size_t i = 0; i < b.series.size(); ++i) {
    if (b.series[i].name.empty()) continue;
    legend.push_back(box_entry(b.series[i].name,
                               b.series[i].color.empty() ? class_color(b.series[i].name, i) : b.series[i].color, 0.85));
  }
  const bool any_ci = std::any_of(b.series.begin(), b.series.end(), [](const BarSeries& se) { return !se.ci_lo.empty(); });
  if (any_ci) {
    LegendEntry e;
    e.kind = LegendEntry::RefLine;
    e.label = "95% CI";
    e.colour = "#222222";
    legend.push_back(e);
  }
  if (!b.highlight.empty() && !b.highlight_note.empty()) legend.push_back(box_entry(b.highlight_note, kHighlightColour, 0.35));
  return legend;
}

/// Widths in a bar chart: a category, its group of bars and one bar.
struct BarWidths {
  double cat_w, group_w, bar_w;
};

/// The bars (from y0) and their CI whiskers, clipped to the plot area.
void draw_bars(Svg& s, const BarChart& b, const Area& a, const Scale& Y, double y0, const BarWidths& bw) {
  s.begin_clip(a.x, a.y, a.w, a.h);
  for (std::size_t k = 0; k < b.series.size(); ++k) {
    const auto& se = b.series[k];
    const std::string c = se.color.empty() ? class_color(se.name, k) : se.color;
    for (std::size_t i = 0; i < b.categories.size(); ++i) {
      const double x = a.x + i * bw.cat_w + (bw.cat_w - bw.group_w) / 2 + k * bw.bar_w;
      if (std::isfinite(se.values[i])) {
        Paint p = Paint::filled(c, 0.85);
        s.rect(x + bw.bar_w * 0.06, y0, bw.bar_w * 0.88, Y(se.values[i]) - y0, p);
      }
      const double lo = se.ci_lo.empty() ? kAuto : se.ci_lo[i];
      const double hi = se.ci_hi.empty() ? kAuto : se.ci_hi[i];
      if (std::isfinite(lo) && std::isfinite(hi)) {
        const double xc = x + bw.bar_w / 2, cap = std::max(2.0, bw.bar_w * 0.22);
        const Paint wp = Paint::stroked("#222222", 1.3);
        s.line(xc, Y(lo), xc, Y(hi), wp);
        s.line(xc - cap, Y(lo), xc + cap, Y(lo), wp);
        s.line(xc - cap, Y(hi), xc + cap, Y(hi), wp);
      }
    }
  }
  s.end_clip();
}

/// Category ticks and labels under the plot area (rotated by 45° when they do not fit).
void draw_bar_categories(Svg& s, const BarChart& b, const Area& a, double cat_w, bool rotate) {
  for (std::size_t i = 0; i < b.categories.size(); ++i) {
    const bool hl = std::find(b.highlight.begin(), b.highlight.end(), static_cast<int>(i)) != b.highlight.end();
    const double xc = a.x + (i + 0.5) * cat_w;
    s.line(xc, a.bottom(), xc, a.bottom() + 4, Paint::stroked(kAxisColour, 1.2));
    Font f = font(kTickFont, rotate ? "end" : "middle", hl);
    if (rotate) {
      f.rotate = -45;
      s.text(xc + 3, a.bottom() + 12, b.categories[i], f);
    } else {
      s.text(xc, a.bottom() + 5 + kTickFont, b.categories[i], f);
    }
  }
}
}  // namespace

std::string render(const BarChart& b) {
  const std::size_t ncat = b.categories.size();
  if (ncat == 0) throw DataError("bar chart '" + b.title + "': no categories");
  const Range yr = bar_value_range(b);
  const std::vector<LegendEntry> legend = bar_legend(b);
  const double title_h = b.title.empty() ? 12 : 36;
  const double legend_h = legend.empty() ? 0 : 24;
  const double left = 74, right = 16;
  double max_label = 0;
  for (const auto& c : b.categories) max_label = std::max(max_label, text_width(c, kTickFont));
  const double cat_w0 = (b.width - left - right) / static_cast<double>(ncat);
  const bool rotate = max_label > cat_w0 - 4;
  const double bottom = 50 + (rotate ? max_label * 0.72 : 0);
  const Area a{left, title_h + legend_h + 8, b.width - left - right, b.height - title_h - legend_h - 8 - bottom};
  if (a.h < 40) throw DataError("bar chart '" + b.title + "': figure too small");
  const Ticks yt = axis_ticks(b.y, yr, static_cast<int>(a.h / 36));
  const Scale Y{yt.lo, yt.hi, a.bottom(), a.y};
  const double cat_w = a.w / static_cast<double>(ncat);
  const double group_w = std::min(cat_w * 0.8, 56.0 * static_cast<double>(std::max<std::size_t>(1, b.series.size())));
  const double bar_w = group_w / static_cast<double>(std::max<std::size_t>(1, b.series.size()));

  Svg s(b.width, b.height, b.title);
  background(s);
  title_text(s, a.x + a.w / 2, 24, b.title);
  if (!legend.empty()) legend_horizontal(s, a.x + 8, title_h + 6, legend);
  for (int h : b.highlight)
    if (h >= 0 && static_cast<std::size_t>(h) < ncat)
      s.rect(a.x + h * cat_w, a.y, cat_w, a.h, Paint::filled(kHighlightColour, 0.35));
  // y grid + axis (no x ticks: categorical)
  Ticks xt_none;
  xt_none.lo = 0;
  xt_none.hi = 1;
  xt_none.values.clear();
  draw_frame(s, a, xt_none, yt, false, true);
  const double y0 = Y(std::clamp(0.0, yt.lo, yt.hi));
  draw_bars(s, b, a, Y, y0, BarWidths{cat_w, group_w, bar_w});
  if (yt.lo < 0 && yt.hi > 0) s.line(a.x, y0, a.right(), y0, Paint::stroked(kAxisColour, 1.2));
  draw_bar_categories(s, b, a, cat_w, rotate);
  x_title(s, a, b.height - 12, b.x_label);
  y_title(s, 18, a.y + a.h / 2, b.y.title());
  return s.str();
}

// ---- heatmap --------------------------------------------------------------------------------
Heatmap confusion_heatmap(const std::vector<std::vector<double>>& mean, const std::vector<std::vector<double>>& sd,
                          const std::vector<std::string>& class_names, std::string title) {
  Heatmap h;
  h.title = std::move(title);
  h.row_labels = class_names;
  h.col_labels = class_names;
  h.values = mean;
  h.sd = sd;
  return h;
}

namespace {
/// Checks that a heatmap's values, sd and labels agree in shape.
void check_heatmap_shape(const Heatmap& h) {
  const std::size_t nr = h.values.size();
  const std::size_t nc = nr ? h.values[0].size() : 0;
  if (nr == 0 || nc == 0) throw DataError("heatmap '" + h.title + "': empty matrix");
  for (const auto& row : h.values)
    if (row.size() != nc) throw DataError("heatmap '" + h.title + "': rows of different lengths");
  if (!h.sd.empty()) {
    if (h.sd.size() != nr) throw DataError("heatmap '" + h.title + "': sd has a different shape from values");
    for (const auto& row : h.sd)
      if (row.size() != nc) throw DataError("heatmap '" + h.title + "': sd has a different shape from values");
  }
  if (!h.row_labels.empty() && h.row_labels.size() != nr)
    throw DataError("heatmap '" + h.title + "': " + std::to_string(h.row_labels.size()) + " row labels for " +
                    std::to_string(nr) + " rows");
  if (!h.col_labels.empty() && h.col_labels.size() != nc)
    throw DataError("heatmap '" + h.title + "': " + std::to_string(h.col_labels.size()) + " column labels for " +
                    std::to_string(nc) + " columns");
}

/// The cells from (left, top): coloured by value, labelled with the value (± sd); the diagonal of
/// a square matrix with the same row and column labels in bold.
void draw_heatmap_cells(Svg& s, const Heatmap& h, double left, double top) {
  const double c = h.cell;
  const std::size_t nr = h.values.size(), nc = h.values[0].size();
  const bool square = h.row_labels == h.col_labels && nr == nc;
  for (std::size_t i = 0; i < nr; ++i) {
    for (std::size_t j = 0; j < nc; ++j) {
      const double v = h.values[i][j];
      const double x = left + j * c, y = top + i * c;
      std::string fill = "#dddddd";
      if (std::isfinite(v)) {
        if (h.diverging) {
          const double m = std::max(std::fabs(h.vmin), std::fabs(h.vmax));
          fill = diverging_color(m > 0 ? v / m : 0.0);
        } else {
          fill = sequential_color(h.vmax > h.vmin ? (v - h.vmin) / (h.vmax - h.vmin) : 0.0);
        }
      }
      Paint p = Paint::filled(fill);
      p.stroke = "#ffffff";
      p.stroke_width = 1.5;
      s.rect(x, y, c, c, p);
      std::string label = std::isfinite(v) ? fmt_label(v, h.decimals) : "n/a";
      if (!h.sd.empty() && std::isfinite(v) && std::isfinite(h.sd[i][j])) label += " \u00b1 " + fmt_fixed(h.sd[i][j], h.decimals);
      double fs = 13;
      while (fs > 8 && text_width(label, fs) > c - 8) fs -= 0.5;
      Font f = font(fs, "middle", square && i == j, luminance(fill) < 0.3 ? "#ffffff" : kTextColour);
      f.baseline = "middle";
      s.text(x + c / 2, y + c / 2, label, f);
    }
  }
}

/// Row and column labels and titles around the grid at (left, top).
void draw_heatmap_labels(Svg& s, const Heatmap& h, double left, double top) {
  const double c = h.cell;
  const double grid_w = h.values[0].size() * c, grid_h = h.values.size() * c;
  for (std::size_t i = 0; i < h.row_labels.size(); ++i) {
    Font f = font(kTickFont, "end");
    f.baseline = "middle";
    s.text(left - 8, top + (i + 0.5) * c, h.row_labels[i], f);
  }
  for (std::size_t j = 0; j < h.col_labels.size(); ++j)
    s.text(left + (j + 0.5) * c, top + grid_h + 18, h.col_labels[j], font(kTickFont, "middle"));
  s.text(left + grid_w / 2, top + grid_h + 42, h.col_title, font(kLabelFont, "middle"));
  Font f = font(kLabelFont, "middle");
  f.rotate = -90;
  s.text(16, top + grid_h / 2, h.row_title, f);
}

/// The colour bar at x = cb_x, as tall as the grid (top, grid_h), with its ticks and label.
void draw_colour_bar(Svg& s, const Heatmap& h, double cb_x, double top, double grid_h) {
  const int steps = 32;
  for (int k = 0; k < steps; ++k) {
    const double t0 = static_cast<double>(k) / steps;
    const double y = top + grid_h - (k + 1) * grid_h / steps;
    const std::string fill = h.diverging ? diverging_color(t0 * 2 - 1 + 1.0 / steps) : sequential_color(t0 + 0.5 / steps);
    s.rect(cb_x, y, 14, grid_h / steps + 0.5, Paint::filled(fill));
  }
  s.rect(cb_x, top, 14, grid_h, Paint::stroked("#888888", 0.8));
  double lo = h.vmin, hi = h.vmax;
  if (h.diverging) {
    const double m = std::max(std::fabs(h.vmin), std::fabs(h.vmax));
    lo = -m;
    hi = m;
  }
  const Ticks ct = nice_ticks(lo, hi, 4, false);
  const Scale CY{lo, hi, top + grid_h, top};
  for (double v : ct.values) {
    s.line(cb_x + 14, CY(v), cb_x + 18, CY(v), Paint::stroked(kAxisColour, 1));
    Font f = font(11);
    f.baseline = "middle";
    s.text(cb_x + 21, CY(v), fmt_label(v, ct.decimals), f);
  }
  if (!h.colorbar_label.empty()) {
    Font f = font(11, "middle");
    f.rotate = 90;
    s.text(cb_x + 58, top + grid_h / 2, h.colorbar_label, f);
  }
}
}  // namespace

std::string render(const Heatmap& h) {
  check_heatmap_shape(h);
  const double c = h.cell;
  double rl_w = 0;
  for (const auto& l : h.row_labels) rl_w = std::max(rl_w, text_width(l, kTickFont));
  const double left = 30 + rl_w + 10;
  const double top = h.title.empty() ? 12 : 38;
  const double grid_w = h.values[0].size() * c, grid_h = h.values.size() * c;
  const double cb_x = left + grid_w + 20;
  const double W = std::max(cb_x + 14 + 48 + 22, left + text_width(h.title, kTitleFont) / 2 + grid_w / 2 + 10);
  const double H = top + grid_h + 58;

  Svg s(W, H, h.title);
  background(s);
  title_text(s, left + grid_w / 2, 24, h.title);
  draw_heatmap_cells(s, h, left, top);
  draw_heatmap_labels(s, h, left, top);
  draw_colour_bar(s, h, cb_x, top, grid_h);
  return s.str();
}

// ---- histogram ------------------------------------------------------------------------------
namespace {
/// Per series, the count (or density) of each of the h.bins bins of width bw from lo to hi;
/// `yr` takes in every bin's height.
std::vector<std::vector<double>> histogram_counts(const Histogram& h, double lo, double hi, double bw, Range& yr) {
  std::vector<std::vector<double>> counts(h.series.size(), std::vector<double>(h.bins, 0.0));
  for (std::size_t k = 0; k < h.series.size(); ++k) {
    std::size_t n = 0;
    for (double v : h.series[k].values) {
      if (!std::isfinite(v) || v < lo || v > hi) continue;
      const int b = std::min(h.bins - 1, static_cast<int>((v - lo) / bw));
      counts[k][b] += 1.0;
      ++n;
    }
    for (auto& c : counts[k]) {
      if (h.density && n > 0) c /= static_cast<double>(n) * bw;
      yr.add(c);
    }
  }
  return counts;
}
}  // namespace

std::string render(const Histogram& h) {
  if (h.bins < 1) throw DataError("histogram '" + h.title + "': bins = " + std::to_string(h.bins) + ": must be >= 1");
  Range dr;
  for (const auto& se : h.series)
    for (double v : se.values) dr.add(v);
  double lo = std::isfinite(h.lo) ? h.lo : (dr.valid() ? dr.lo : 0.0);
  double hi = std::isfinite(h.hi) ? h.hi : (dr.valid() ? dr.hi : 1.0);
  if (hi <= lo) hi = lo + 1.0;
  const double bw = (hi - lo) / h.bins;
  Range yr;
  yr.add(0.0);
  const auto counts = histogram_counts(h, lo, hi, bw, yr);
  std::vector<LegendEntry> legend;
  for (std::size_t k = 0; k < h.series.size(); ++k) {
    if (h.series[k].name.empty()) continue;
    legend.push_back(box_entry(h.series[k].name, h.series[k].color.empty() ? class_color(h.series[k].name, k) : h.series[k].color,
                               h.series.size() > 1 ? 0.45 : 0.75));
  }
  const double legend_w = legend.empty() ? 0 : legend_width(legend) + 16;
  const double top = h.title.empty() ? 16 : 40;
  const Area a{70, top, h.width - 70 - 18 - legend_w, h.height - top - 54};
  Axis xa = h.x;
  if (!std::isfinite(xa.min)) xa.min = lo;
  if (!std::isfinite(xa.max)) xa.max = hi;
  Range xr;
  xr.add(lo);
  xr.add(hi);
  const Ticks xt = axis_ticks(xa, xr, static_cast<int>(a.w / 60));
  Axis ya = h.y;
  if (h.density && ya.label == "count") ya.label = "density";
  const Ticks yt = axis_ticks(ya, yr, static_cast<int>(a.h / 36));
  const Scale X{xt.lo, xt.hi, a.x, a.right()};
  const Scale Y{yt.lo, yt.hi, a.bottom(), a.y};

  Svg s(h.width, h.height, h.title);
  background(s);
  title_text(s, a.x + a.w / 2, 24, h.title);
  draw_frame(s, a, xt, yt, true, true);
  s.begin_clip(a.x, a.y, a.w, a.h);
  for (std::size_t k = 0; k < h.series.size(); ++k) {
    const std::string c = h.series[k].color.empty() ? class_color(h.series[k].name, k) : h.series[k].color;
    Paint p = Paint::filled(c, h.series.size() > 1 ? 0.45 : 0.75);
    p.stroke = c;
    p.stroke_width = 0.8;
    for (int b = 0; b < h.bins; ++b) {
      if (counts[k][b] <= 0) continue;
      const double x0 = X(lo + b * bw), x1 = X(lo + (b + 1) * bw);
      s.rect(x0, Y(counts[k][b]), x1 - x0, Y(0) - Y(counts[k][b]), p);
    }
  }
  s.end_clip();
  x_title(s, a, a.bottom() + 42, xa.title());
  y_title(s, 18, a.y + a.h / 2, ya.title());
  if (!legend.empty()) legend_vertical(s, a.right() + 18, a.y + 10, legend);
  return s.str();
}

// ---- image montage --------------------------------------------------------------------------
std::string render(const ImageMontage& m) {
  const std::size_t nr = m.images.size();
  std::size_t nc = 0;
  for (const auto& row : m.images) nc = std::max(nc, row.size());
  if (nr == 0 || nc == 0) throw DataError("image montage '" + m.title + "': no images");
  if (!m.row_labels.empty() && m.row_labels.size() != nr)
    throw DataError("image montage '" + m.title + "': " + std::to_string(m.row_labels.size()) + " row labels for " +
                    std::to_string(nr) + " rows");
  if (!m.col_labels.empty() && m.col_labels.size() != nc)
    throw DataError("image montage '" + m.title + "': " + std::to_string(m.col_labels.size()) + " column labels for " +
                    std::to_string(nc) + " columns");
  double rl_w = 0;
  for (const auto& l : m.row_labels) rl_w = std::max(rl_w, text_width(l, kTickFont));
  const double left = 12 + (rl_w > 0 ? rl_w + 10 : 0);
  const bool marker = m.marker_after_col >= 0 && static_cast<std::size_t>(m.marker_after_col) + 1 < nc;
  const double top = (m.title.empty() ? 8 : 34) + (m.col_labels.empty() ? 0 : 18) + (marker ? 16 : 0);
  const double step = m.cell + m.gap;
  const double W = std::max(left + nc * step - m.gap + 12, text_width(m.title, kTitleFont) + 24);
  const double H = top + nr * step - m.gap + (m.col_title.empty() ? 12 : 36);

  Svg s(W, H, m.title);
  background(s);
  if (!m.title.empty()) s.text(left, 24, m.title, font(kTitleFont, "start", true));
  for (std::size_t j = 0; j < m.col_labels.size(); ++j)
    s.text(left + j * step + m.cell / 2, top - 6, m.col_labels[j], font(11, "middle"));
  for (std::size_t i = 0; i < nr; ++i) {
    const double y = top + i * step;
    if (i < m.row_labels.size()) {
      Font f = font(kTickFont, "end");
      f.baseline = "middle";
      s.text(left - 8, y + m.cell / 2, m.row_labels[i], f);
    }
    for (std::size_t j = 0; j < m.images[i].size(); ++j) {
      const Image& img = m.images[i][j];
      const double x = left + j * step;
      if (img.empty()) continue;
      const double aspect = static_cast<double>(img.height) / img.width;
      const double w = aspect <= 1 ? m.cell : m.cell / aspect;
      const double hgt = aspect <= 1 ? m.cell * aspect : m.cell;
      s.image(x + (m.cell - w) / 2, y + (m.cell - hgt) / 2, w, hgt, png_data_uri(img), true);
      s.rect(x + (m.cell - w) / 2, y + (m.cell - hgt) / 2, w, hgt, Paint::stroked("#bbbbbb", 0.6));
    }
  }
  if (marker) {
    const double x = left + (m.marker_after_col + 1) * step - m.gap / 2;
    s.line(x, top - 16, x, top + nr * step - m.gap + 4, Paint::stroked("#D55E00", 2, "5 3"));
    s.text(x + 4, top - 20 - (m.col_labels.empty() ? 0 : 0), m.marker_label, font(11, "start", true, "#D55E00"));
  }
  if (!m.col_title.empty()) {
    const Area grid{left, top, nc * step - m.gap, 0};
    x_title(s, grid, H - 12, m.col_title);
  }
  return s.str();
}

}  // namespace taupe::report
