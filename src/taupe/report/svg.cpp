#include "taupe/report/svg.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace taupe::report {

// ---- text ---------------------------------------------------------------------------------
std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') break;  // invalid in XML 1.0
        out += c;
      }
    }
  }
  return out;
}

// ---- numbers ------------------------------------------------------------------------------
std::string fmt_fixed(double v, int decimals) {
  if (!std::isfinite(v)) v = 0.0;
  decimals = std::clamp(decimals, 0, 12);
  std::array<char, 64> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, decimals);
  std::string s(buf.data(), res.ptr);
  // "-0.00" → "0.00"
  if (!s.empty() && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string fmt(double v, int decimals) {
  std::string s = fmt_fixed(v, decimals);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string fmt_label(double v, int decimals) {
  std::string s = fmt_fixed(v, decimals);
  if (!s.empty() && s[0] == '-') return "\u2212" + s.substr(1);
  return s;
}

// ---- ticks --------------------------------------------------------------------------------
double nice_step(double raw) {
  if (!(raw > 0.0) || !std::isfinite(raw)) return 1.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  double nice;
  if (norm < 1.5) nice = 1.0;
  else if (norm < 3.0) nice = 2.0;
  else if (norm < 7.0) nice = 5.0;
  else nice = 10.0;
  return nice * mag;
}

namespace {
/// Neighbouring value on the 1-2-5 ladder (dir = -1: smaller, +1: larger).
double ladder_neighbour(double step, int dir) {
  const double mag = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const long m = std::lround(step / mag);  // 1, 2 or 5
  if (dir < 0) return m == 1 ? 0.5 * mag : (m == 2 ? 1.0 * mag : 2.0 * mag);
  return m == 1 ? 2.0 * mag : (m == 2 ? 5.0 * mag : 10.0 * mag);
}

Ticks make_ticks(double lo, double hi, double step, bool expand) {
  Ticks t;
  t.step = step;
  const double eps = 1e-9;
  long long k0, k1;  // integer tick indices: k * step
  if (expand) {
    k0 = static_cast<long long>(std::floor(lo / step + eps));
    k1 = static_cast<long long>(std::ceil(hi / step - eps));
  } else {
    k0 = static_cast<long long>(std::ceil(lo / step - eps));
    k1 = static_cast<long long>(std::floor(hi / step + eps));
  }
  t.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + eps)));
  const double scale = std::pow(10.0, t.decimals);
  for (long long k = k0; k <= k1; ++k) {
    double v = static_cast<double>(k) * step;
    v = std::round(v * scale) / scale;  // 0.6000000000000001 → 0.6
    if (v == 0.0) v = 0.0;              // no -0
    t.values.push_back(v);
  }
  if (expand && !t.values.empty()) {
    t.lo = t.values.front();
    t.hi = t.values.back();
  } else {
    t.lo = lo;
    t.hi = hi;
  }
  return t;
}
}  // namespace

Ticks nice_ticks(double lo, double hi, int target, bool expand) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) { lo = 0.0; hi = 1.0; }
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {  // degenerate: widen
    const double pad = lo == 0.0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 1);
  const double s0 = nice_step((hi - lo) / target);
  if (!expand) return make_ticks(lo, hi, s0, false);
  // Loose labelling: among the ladder step and its smaller neighbour, take the expansion that
  // wastes least of the axis while keeping at most ~1.5× the target number of intervals.
  // If every expansion wastes more than a quarter of the axis, keep the data range (tight).
  Ticks best;
  double best_cov = -1.0;
  for (double step : {s0, ladder_neighbour(s0, -1)}) {
    Ticks t = make_ticks(lo, hi, step, true);
    const double n = static_cast<double>(t.values.size()) - 1.0;
    if (step != s0 && n > std::floor(target * 1.5) + 1) continue;
    const double cov = (hi - lo) / (t.hi - t.lo);
    if (cov > best_cov + 1e-9) {
      best = t;
      best_cov = cov;
    }
  }
  if (best_cov < 0.75) return make_ticks(lo, hi, s0, false);
  return best;
}

// ---- colours ------------------------------------------------------------------------------
const std::vector<std::string>& okabe_ito() {
  static const std::vector<std::string> p = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                             "#56B4E9", "#CC79A7", "#F0E442", "#000000"};
  return p;
}

std::string palette(std::size_t i) { return okabe_ito()[i % okabe_ito().size()]; }

std::string class_color(std::string_view name, std::size_t fallback_index) {
  if (name == "mitosis") return "#0072B2";
  if (name == "apoptosis") return "#D55E00";
  if (name == "synthetic") return "#8C8C8C";
  return palette(fallback_index);
}

namespace {
struct Rgb {
  double r, g, b;
};
Rgb parse_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  if (hex.size() != 7 || hex[0] != '#') return {0, 0, 0};
  auto byte = [&](int i) { return (nib(hex[i]) * 16 + nib(hex[i + 1])) / 255.0; };
  return {byte(1), byte(3), byte(5)};
}
std::string to_hex(Rgb c) {
  static const char* digits = "0123456789abcdef";
  std::string s = "#";
  for (double v : {c.r, c.g, c.b}) {
    const int b = static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
    s += digits[b / 16];
    s += digits[b % 16];
  }
  return s;
}
std::string ramp(const std::vector<Rgb>& stops, double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  const double pos = t * static_cast<double>(stops.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(pos), stops.size() - 2);
  const double f = pos - static_cast<double>(i);
  const Rgb& a = stops[i];
  const Rgb& b = stops[i + 1];
  return to_hex({a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f});
}
}  // namespace

std::string sequential_color(double t) {
  static const std::vector<Rgb> stops = {parse_hex("#f7fbff"), parse_hex("#c6dbef"), parse_hex("#6baed6"),
                                         parse_hex("#2171b5"), parse_hex("#08306b")};
  return ramp(stops, t);
}

std::string diverging_color(double t) {
  static const std::vector<Rgb> stops = {parse_hex("#0b4f8a"), parse_hex("#6aaed6"), parse_hex("#f7f7f7"),
                                         parse_hex("#f4a582"), parse_hex("#b2400b")};
  return ramp(stops, (std::clamp(std::isfinite(t) ? t : 0.0, -1.0, 1.0) + 1.0) / 2.0);
}

double luminance(std::string_view hex) {
  const Rgb c = parse_hex(hex);
  auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

// ---- paint --------------------------------------------------------------------------------
Paint Paint::filled(std::string colour, double opacity) {
  Paint p;
  p.fill = std::move(colour);
  p.fill_opacity = opacity;
  return p;
}
Paint Paint::stroked(std::string colour, double width, std::string dash) {
  Paint p;
  p.stroke = std::move(colour);
  p.stroke_width = width;
  p.dash = std::move(dash);
  return p;
}

namespace {
std::string paint_attrs(const Paint& p) {
  std::string a = " fill=\"" + xml_escape(p.fill) + "\"";
  if (p.fill != "none" && p.fill_opacity < 1.0) a += " fill-opacity=\"" + fmt(p.fill_opacity, 3) + "\"";
  if (p.stroke != "none") {
    a += " stroke=\"" + xml_escape(p.stroke) + "\" stroke-width=\"" + fmt(p.stroke_width) + "\"";
    if (p.stroke_opacity < 1.0) a += " stroke-opacity=\"" + fmt(p.stroke_opacity, 3) + "\"";
    if (!p.dash.empty()) a += " stroke-dasharray=\"" + xml_escape(p.dash) + "\"";
  }
  return a;
}
std::string points_attr(const std::vector<Point>& pts, std::size_t b, std::size_t e) {
  std::string s;
  for (std::size_t i = b; i < e; ++i) {
    if (i > b) s += ' ';
    s += fmt(pts[i].x) + "," + fmt(pts[i].y);
  }
  return s;
}
bool finite(const Point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }
}  // namespace

// ---- writer -------------------------------------------------------------------------------
Svg::Svg(double width, double height, std::string title) : width_(width), height_(height), title_(std::move(title)) {}

Svg& Svg::rect(double x, double y, double w, double h, const Paint& p, double rx) {
  if (w < 0) { x += w; w = -w; }
  if (h < 0) { y += h; h = -h; }
  body_ += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) + "\" height=\"" + fmt(h) + "\"";
  if (rx > 0) body_ += " rx=\"" + fmt(rx) + "\"";
  body_ += paint_attrs(p) + "/>\n";
  return *this;
}

Svg& Svg::line(double x1, double y1, double x2, double y2, const Paint& p) {
  body_ += "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" + fmt(y2) + "\"" +
           paint_attrs(p) + "/>\n";
  return *this;
}

Svg& Svg::polyline(const std::vector<Point>& pts, const Paint& p) {
  std::size_t i = 0;
  while (i < pts.size()) {
    while (i < pts.size() && !finite(pts[i])) ++i;
    std::size_t j = i;
    while (j < pts.size() && finite(pts[j])) ++j;
    if (j - i >= 2) {
      body_ += "<polyline points=\"" + points_attr(pts, i, j) + "\"" + paint_attrs(p) +
               " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    }
    i = j;
  }
  return *this;
}

Svg& Svg::polygon(const std::vector<Point>& pts, const Paint& p) {
  std::vector<Point> ok;
  for (const auto& q : pts)
    if (finite(q)) ok.push_back(q);
  if (ok.size() < 3) return *this;
  body_ += "<polygon points=\"" + points_attr(ok, 0, ok.size()) + "\"" + paint_attrs(p) + "/>\n";
  return *this;
}

Svg& Svg::circle(double cx, double cy, double r, const Paint& p) {
  if (!std::isfinite(cx) || !std::isfinite(cy)) return *this;
  body_ += "<circle cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) + "\" r=\"" + fmt(r) + "\"" + paint_attrs(p) + "/>\n";
  return *this;
}

Svg& Svg::text(double x, double y, std::string_view s, const Font& f) {
  body_ += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" font-size=\"" + fmt(f.size) + "\"";
  if (f.anchor != "start") body_ += " text-anchor=\"" + xml_escape(f.anchor) + "\"";
  if (f.bold) body_ += " font-weight=\"bold\"";
  if (f.italic) body_ += " font-style=\"italic\"";
  if (!f.baseline.empty()) body_ += " dominant-baseline=\"" + xml_escape(f.baseline) + "\"";
  body_ += " fill=\"" + xml_escape(f.fill) + "\"";
  if (f.rotate != 0.0) body_ += " transform=\"rotate(" + fmt(f.rotate) + " " + fmt(x) + " " + fmt(y) + ")\"";
  body_ += ">" + xml_escape(s) + "</text>\n";
  return *this;
}

Svg& Svg::image(double x, double y, double w, double h, std::string_view href, bool pixelated) {
  body_ += "<image x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) + "\" height=\"" + fmt(h) +
           "\" preserveAspectRatio=\"none\"";
  if (pixelated) body_ += " style=\"image-rendering:pixelated\"";
  body_ += " href=\"" + xml_escape(href) + "\"/>\n";
  return *this;
}

Svg& Svg::begin_group(std::string_view transform, std::string_view css_class) {
  body_ += "<g";
  if (!transform.empty()) body_ += " transform=\"" + xml_escape(transform) + "\"";
  if (!css_class.empty()) body_ += " class=\"" + xml_escape(css_class) + "\"";
  body_ += ">\n";
  ++open_;
  return *this;
}

Svg& Svg::end_group() {
  if (open_ <= 0) throw std::logic_error("Svg::end_group without begin_group");
  body_ += "</g>\n";
  --open_;
  return *this;
}

Svg& Svg::begin_clip(double x, double y, double w, double h) {
  body_ += "<svg x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) + "\" height=\"" + fmt(h) +
           "\" viewBox=\"" + fmt(x) + " " + fmt(y) + " " + fmt(w) + " " + fmt(h) + "\" overflow=\"hidden\">\n";
  ++open_;
  return *this;
}

Svg& Svg::end_clip() {
  if (open_ <= 0) throw std::logic_error("Svg::end_clip without begin_clip");
  body_ += "</svg>\n";
  --open_;
  return *this;
}

Svg& Svg::raw(std::string_view markup) {
  body_ += markup;
  return *this;
}

std::string Svg::str() const {
  if (open_ != 0) throw std::logic_error("Svg::str: unbalanced groups/clips");
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + fmt(width_) + " " + fmt(height_) +
                  "\" width=\"" + fmt(width_) + "\" height=\"" + fmt(height_) +
                  "\" role=\"img\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"" +
                  " style=\"max-width:100%;height:auto\">\n";
  if (!title_.empty()) s += "<title>" + xml_escape(title_) + "</title>\n";
  s += body_;
  s += "</svg>\n";
  return s;
}

double text_width(std::string_view s, double font_size) {
  double n = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    n += (c == ' ' || c == '.' || c == ',' || c == 'i' || c == 'l' || c == '1') ? 0.38 : 0.6;
  }
  return n * font_size;
}

}  // namespace taupe::report
