#pragma once
// Low-level SVG writer: escaped text and attributes, fixed (locale-free) number formatting,
// the 1-2-5 "nice" tick algorithm and the Okabe-Ito colour-blind-safe palette. Everything is
// deterministic: the same calls produce the same bytes on every platform.
//
//   Svg s(300, 200, "example");
//   s.rect(0, 0, 300, 200, Paint::filled("#ffffff"));
//   s.text(150, 100, "a < b", Font{14, "middle"});
//   std::string markup = s.str();   // "<svg xmlns=... viewBox="0 0 300 200" ...>...</svg>"
#include <string>
#include <string_view>
#include <vector>

namespace taupe::report {

// ---- text ---------------------------------------------------------------------------------
/// Escapes & < > " ' for XML/HTML text and attribute values. Control characters other than
/// tab/newline/carriage return (invalid in XML 1.0) are dropped.
std::string xml_escape(std::string_view s);

// ---- numbers ------------------------------------------------------------------------------
/// Fixed-point with `decimals` digits, trailing zeros (and a trailing '.') removed, "-0" → "0".
/// Locale-independent. Used for coordinates: fmt(12.50) == "12.5", fmt(3.0) == "3".
/// Non-finite values format as "0" (they never reach an output: callers skip them).
std::string fmt(double v, int decimals = 2);
/// Fixed-point with exactly `decimals` digits ("0.90"), "-0.00" → "0.00". ASCII minus.
std::string fmt_fixed(double v, int decimals);
/// Like fmt_fixed but with a typographic minus sign (U+2212) for labels shown to people.
std::string fmt_label(double v, int decimals);

// ---- ticks --------------------------------------------------------------------------------
/// Axis ticks on a 1-2-5 ladder. `values` are exact multiples of `step` (computed from integer
/// indices, no accumulated error) and `decimals` is what is needed to print them.
struct Ticks {
  double lo = 0.0;    ///< first tick (≤ data min when expanded)
  double hi = 1.0;    ///< last tick (≥ data max when expanded)
  double step = 0.2;
  int decimals = 1;
  std::vector<double> values;
};
/// Rounds a raw step to the 1-2-5 ladder {1, 2, 5} × 10^k ("nice numbers"): with
/// raw = m × 10^k (1 ≤ m < 10): m < 1.5 → 1, < 3 → 2, < 7 → 5, else 10.
double nice_step(double raw);
/// Ticks for data in [lo, hi] aiming at about `target` intervals. With `expand` the range is
/// widened outward to whole steps ([0, 0.93] → 0, 0.2, …, 1.0), choosing between the ladder
/// step and the next smaller one (≤ 1.5 × target intervals) whichever wastes less of the axis;
/// when every widening would waste more than 25 % ([-6, 6] with 3 intervals: −10…10), the data
/// range is kept with the ticks inside it (−5, 0, 5). Without `expand` only ticks inside
/// [lo, hi] are returned and lo/hi are kept. Degenerate ranges (lo == hi) are widened.
Ticks nice_ticks(double lo, double hi, int target = 5, bool expand = true);

// ---- colours ------------------------------------------------------------------------------
/// Okabe-Ito palette (colour-blind safe), without black first: blue, vermillion, bluish green,
/// orange, sky blue, reddish purple, yellow, black. `palette(i)` cycles.
const std::vector<std::string>& okabe_ito();
std::string palette(std::size_t i);
/// Colours tied to the τ-VAE classes, used consistently by every figure:
/// mitosis → blue, apoptosis → vermillion, synthetic → grey; anything else → palette.
std::string class_color(std::string_view class_name, std::size_t fallback_index = 0);
/// Sequential colour map (white → dark blue, ColorBrewer-like Blues) at t in [0, 1].
std::string sequential_color(double t);
/// Diverging map (blue ← white → vermillion) at t in [-1, 1].
std::string diverging_color(double t);
/// Relative luminance (0 black … 1 white) of a "#rrggbb" colour; used to pick text colour.
double luminance(std::string_view hex);

// ---- writer -------------------------------------------------------------------------------
struct Point {
  double x = 0.0, y = 0.0;
};

/// Fill / stroke of a shape. Colours are CSS colour strings ("#0072B2", "none").
struct Paint {
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1.0;
  double fill_opacity = 1.0;
  double stroke_opacity = 1.0;
  std::string dash;  ///< stroke-dasharray, e.g. "4 3"; empty = solid

  static Paint filled(std::string colour, double opacity = 1.0);
  static Paint stroked(std::string colour, double width = 1.0, std::string dash = {});
};

struct Font {
  double size = 12.0;
  std::string anchor = "start";  ///< start | middle | end
  bool bold = false;
  std::string fill = "#222222";
  double rotate = 0.0;            ///< degrees, about (x, y)
  std::string baseline;           ///< dominant-baseline, e.g. "middle", "hanging"; empty = default
  bool italic = false;
};

/// Builds one <svg> element. Coordinates are in user units; the element carries a viewBox of
/// (0 0 width height) and scales to its container (max-width 100 %).
class Svg {
 public:
  Svg(double width, double height, std::string title = {});

  double width() const { return width_; }
  double height() const { return height_; }

  Svg& rect(double x, double y, double w, double h, const Paint& p, double rx = 0.0);
  Svg& line(double x1, double y1, double x2, double y2, const Paint& p);
  /// Open polyline; points with non-finite coordinates split it into separate pieces.
  Svg& polyline(const std::vector<Point>& pts, const Paint& p);
  /// Closed polygon (non-finite points are skipped).
  Svg& polygon(const std::vector<Point>& pts, const Paint& p);
  Svg& circle(double cx, double cy, double r, const Paint& p);
  /// Text; `s` is escaped. Lines are not wrapped.
  Svg& text(double x, double y, std::string_view s, const Font& f);
  /// Embedded raster image (href is usually a data URI); `pixelated` keeps pixels crisp.
  Svg& image(double x, double y, double w, double h, std::string_view href, bool pixelated = true);
  /// <title> tooltip for the next shapes is not supported; use this for a group instead.
  Svg& begin_group(std::string_view transform = {}, std::string_view css_class = {});
  Svg& end_group();
  /// Nested viewport clipping its content to (x, y, w, h); inner coordinates are absolute
  /// (the nested viewBox equals the clip box), so no id is needed for clipping.
  Svg& begin_clip(double x, double y, double w, double h);
  Svg& end_clip();
  /// Appends pre-built markup (another figure's body, trusted by the caller).
  Svg& raw(std::string_view markup);

  /// Complete element. Throws std::logic_error if groups/clips are unbalanced.
  std::string str() const;

 private:
  double width_, height_;
  std::string title_;
  std::string body_;
  int open_ = 0;
};

/// Rough width in user units of `s` rendered at `font_size` (sans-serif average glyph ≈ 0.58
/// em; UTF-8 continuation bytes are not counted). Used for layout only.
double text_width(std::string_view s, double font_size);

}  // namespace taupe::report
