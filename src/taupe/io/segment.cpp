#include "taupe/io/segment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace taupe::io {
namespace {

int find_root(std::vector<int>& parent, int a) {
  while (parent[static_cast<std::size_t>(a)] != a) {
    parent[static_cast<std::size_t>(a)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(a)])];
    a = parent[static_cast<std::size_t>(a)];
  }
  return a;
}

double median_of(std::vector<std::uint16_t>& v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

double otsu_threshold(const std::vector<float>& values) {
  constexpr int kBins = 256;
  std::vector<double> hist(kBins, 0.0);
  for (float v : values) {
    const int b = std::clamp(static_cast<int>(v * (kBins - 1) + 0.5f), 0, kBins - 1);
    hist[static_cast<std::size_t>(b)] += 1.0;
  }
  const double total = static_cast<double>(values.size());
  double sum_all = 0;
  for (int b = 0; b < kBins; ++b) sum_all += b * hist[static_cast<std::size_t>(b)];
  double w0 = 0, sum0 = 0, best = -1;
  int best_bin = 0;
  for (int b = 0; b < kBins; ++b) {
    w0 += hist[static_cast<std::size_t>(b)];
    sum0 += b * hist[static_cast<std::size_t>(b)];
    const double w1 = total - w0;
    if (w0 <= 0 || w1 <= 0) continue;
    const double m0 = sum0 / w0, m1 = (sum_all - sum0) / w1;
    const double between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) { best = between; best_bin = b; }
  }
  return (best_bin + 0.5) / (kBins - 1);
}

namespace {

/// Max-projection of the background-subtracted (median) channels, scaled to [0, 1], thresholded
/// by Otsu into `fg`. Returns false when nothing rises above the background.
bool foreground(const std::uint16_t* images, int channels, std::size_t n, std::vector<std::uint8_t>& fg) {
  std::vector<float> proj(n, 0.0f);
  for (int c = 0; c < channels; ++c) {
    const std::uint16_t* ch = images + static_cast<std::size_t>(c) * n;
    std::vector<std::uint16_t> tmp(ch, ch + n);
    const float bg = static_cast<float>(median_of(tmp));
    for (std::size_t i = 0; i < n; ++i) proj[i] = std::max(proj[i], static_cast<float>(ch[i]) - bg);
  }
  const float top = *std::max_element(proj.begin(), proj.end());
  if (top <= 0) return false;
  for (float& v : proj) v /= top;
  const double thr = otsu_threshold(proj);
  fg.resize(n);
  for (std::size_t i = 0; i < n; ++i) fg[i] = proj[i] > thr ? 1 : 0;
  return true;
}

/// Chamfer 3-4 distance of every pixel to the nearest background pixel (outside the image =
/// background).
std::vector<int> chamfer_distance(const std::vector<std::uint8_t>& fg, int height, int width) {
  const std::size_t n = fg.size();
  const int inf = std::numeric_limits<int>::max() / 4;
  std::vector<int> dist(n);
  auto at = [&](int y, int x) -> int {
    if (y < 0 || x < 0 || y >= height || x >= width) return 0;
    return dist[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
  };
  for (std::size_t i = 0; i < n; ++i) dist[i] = fg[i] ? inf : 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      int& d = dist[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
      if (!d) continue;
      d = std::min({d, at(y, x - 1) + 3, at(y - 1, x) + 3, at(y - 1, x - 1) + 4, at(y - 1, x + 1) + 4});
    }
  for (int y = height - 1; y >= 0; --y)
    for (int x = width - 1; x >= 0; --x) {
      int& d = dist[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
      if (!d) continue;
      d = std::min({d, at(y, x + 1) + 3, at(y + 1, x) + 3, at(y + 1, x + 1) + 4, at(y + 1, x - 1) + 4});
    }
  return dist;
}

/// Watershed basins: each foreground pixel's basin id (-1 = background) and, per basin, the
/// basin it merged into (union-find parent) and its peak distance.
struct Basins {
  std::vector<int> basin, parent, peak;
};

/// Adds pixel `p` at distance `dp` given the distinct basin roots of its labelled neighbours:
/// no neighbour opens a new basin; else the pixel joins the elder root (highest peak, then
/// lowest id), and every other root whose peak rises less than `h3` above `dp` merges into it.
void flood_pixel(Basins& w, int p, int dp, const int* roots, int nr, int h3) {
  if (nr == 0) {
    w.basin[static_cast<std::size_t>(p)] = static_cast<int>(w.parent.size());
    w.parent.push_back(static_cast<int>(w.parent.size()));
    w.peak.push_back(dp);
    return;
  }
  int elder = roots[0];
  for (int k = 1; k < nr; ++k)
    if (w.peak[static_cast<std::size_t>(roots[k])] > w.peak[static_cast<std::size_t>(elder)] ||
        (w.peak[static_cast<std::size_t>(roots[k])] == w.peak[static_cast<std::size_t>(elder)] && roots[k] < elder))
      elder = roots[k];
  for (int k = 0; k < nr; ++k) {
    const int r = roots[k];
    if (r != elder && w.peak[static_cast<std::size_t>(r)] - dp < h3) w.parent[static_cast<std::size_t>(r)] = elder;
  }
  w.basin[static_cast<std::size_t>(p)] = elder;
}

/// Watershed by descending distance with h-maxima merging (union-find over basins).
Basins watershed(const std::vector<std::uint8_t>& fg, const std::vector<int>& dist, int height, int width, double h) {
  const std::size_t n = fg.size();
  std::vector<int> order;
  for (std::size_t i = 0; i < n; ++i)
    if (fg[i]) order.push_back(static_cast<int>(i));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return dist[static_cast<std::size_t>(a)] > dist[static_cast<std::size_t>(b)];
  });
  Basins w;
  w.basin.assign(n, -1);
  const int h3 = static_cast<int>(std::lround(h * 3.0));
  for (int p : order) {
    const int py = p / width, px = p % width;
    int roots[8];
    int nr = 0;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        if (!dy && !dx) continue;
        const int y = py + dy, x = px + dx;
        if (y < 0 || x < 0 || y >= height || x >= width) continue;
        const int b = w.basin[static_cast<std::size_t>(y * width + x)];
        if (b < 0) continue;
        const int r = find_root(w.parent, b);
        if (std::find(roots, roots + nr, r) == roots + nr) roots[nr++] = r;
      }
    flood_pixel(w, p, dist[static_cast<std::size_t>(p)], roots, nr, h3);
  }
  return w;
}

/// Basin areas, removal of instances smaller than `min_area`, raster-order relabelling from 1
/// into `labels`. Returns the number of labels.
std::uint32_t label_basins(Basins& w, int min_area, std::vector<std::uint32_t>& labels) {
  const std::size_t n = w.basin.size();
  std::vector<int> area(w.parent.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    if (w.basin[i] >= 0) {
      w.basin[i] = find_root(w.parent, w.basin[i]);
      ++area[static_cast<std::size_t>(w.basin[i])];
    }
  std::vector<std::uint32_t> relabel(w.parent.size(), 0);
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int b = w.basin[i];
    if (b < 0 || area[static_cast<std::size_t>(b)] < min_area) continue;
    if (!relabel[static_cast<std::size_t>(b)]) relabel[static_cast<std::size_t>(b)] = ++next;
    labels[i] = relabel[static_cast<std::size_t>(b)];
  }
  return next;
}

}  // namespace

std::vector<std::uint32_t> segment_frame(const std::uint16_t* images, int channels, int height, int width,
                                         const SegmentOptions& opts, std::uint32_t* count) {
  const std::size_t n = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  std::vector<std::uint32_t> labels(n, 0);
  if (count) *count = 0;
  if (n == 0) return labels;
  std::vector<std::uint8_t> fg;
  if (!foreground(images, channels, n, fg)) return labels;
  const std::vector<int> dist = chamfer_distance(fg, height, width);
  Basins w = watershed(fg, dist, height, width, opts.h);
  const std::uint32_t next = label_basins(w, opts.min_area, labels);
  if (count) *count = next;
  return labels;
}

std::map<std::uint32_t, CellType> classify_labels(const std::uint16_t* images, int height, int width,
                                                  int gfp, int rfp, const std::vector<std::uint32_t>& labels,
                                                  double type_ratio) {
  const std::size_t n = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  const std::uint16_t* g = images + static_cast<std::size_t>(gfp) * n;
  const std::uint16_t* r = images + static_cast<std::size_t>(rfp) * n;
  std::vector<std::uint16_t> bg_g, bg_r;
  struct Sum { double g = 0, r = 0; std::size_t n = 0; };
  std::map<std::uint32_t, Sum> sums;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] == 0) {
      bg_g.push_back(g[i]);
      bg_r.push_back(r[i]);
    } else {
      Sum& s = sums[labels[i]];
      s.g += g[i];
      s.r += r[i];
      ++s.n;
    }
  }
  const double bgg = median_of(bg_g), bgr = median_of(bg_r);
  std::map<std::uint32_t, CellType> out;
  for (const auto& [label, s] : sums) {
    const double mg = std::max(0.0, s.g / static_cast<double>(s.n) - bgg);
    const double mr = std::max(0.0, s.r / static_cast<double>(s.n) - bgr);
    CellType t = CellType::kUnknown;
    if (mg > type_ratio * mr) t = CellType::kWildType;
    else if (mr > type_ratio * mg) t = CellType::kScrib;
    out[label] = t;
  }
  return out;
}

std::uint32_t central_label(const std::vector<std::uint32_t>& labels, int height, int width) {
  const int cy = height / 2, cx = width / 2;
  std::map<std::uint32_t, int> votes;
  for (int y = cy - 1; y <= cy; ++y)
    for (int x = cx - 1; x <= cx; ++x) {
      if (y < 0 || x < 0 || y >= height || x >= width) continue;
      const std::uint32_t l = labels[static_cast<std::size_t>(y * width + x)];
      if (l) ++votes[l];
    }
  if (!votes.empty()) {
    std::uint32_t best = 0;
    int bv = 0;
    for (const auto& [l, v] : votes)
      if (v > bv) { best = l; bv = v; }
    return best;
  }
  const double ccx = (width - 1) / 2.0, ccy = (height - 1) / 2.0;
  double best_d = std::numeric_limits<double>::infinity();
  std::uint32_t best = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const std::uint32_t l = labels[static_cast<std::size_t>(y * width + x)];
      if (!l) continue;
      const double d = (x - ccx) * (x - ccx) + (y - ccy) * (y - ccy);
      if (d < best_d) { best_d = d; best = l; }
    }
  return best;
}

std::vector<std::uint8_t> mask_codes(const std::vector<std::uint32_t>& labels,
                                     const std::map<std::uint32_t, CellType>& types, std::uint32_t central) {
  std::vector<std::uint8_t> out(labels.size(), kMaskBackground);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::uint32_t l = labels[i];
    if (!l) continue;
    auto it = types.find(l);
    const CellType t = it == types.end() ? CellType::kUnknown : it->second;
    out[i] = mask_code(t, l == central);
  }
  return out;
}

}  // namespace taupe::io
