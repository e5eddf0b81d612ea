// Image-space perturbations (torch-free). See image_ops.h and docs/perturbation.md.
#include "taupe/perturb/image_ops.h"

#include <algorithm>
#include <cmath>

#include "taupe/core/errors.h"
#include "taupe/core/stats.h"
#include "taupe/dataset/types.h"

namespace taupe::perturb {

NormParams norm_params(const PerturbConfig& cfg) {
  NormParams p;
  p.median_radius = cfg.norm_median_radius;
  p.outlier_threshold = cfg.norm_outlier_threshold;
  p.percentile_lo = cfg.norm_percentile_lo;
  p.percentile_hi = cfg.norm_percentile_hi;
  return p;
}

double percentile(std::vector<double> v, double pct) {
  return v.empty() ? 0.0 : stats::quantiles(std::move(v), {pct / 100.0})[0];
}

namespace {

/// Comparators (i < j: min to i, max to j) of Batcher's odd-even merge sort of n wires, n a
/// power of two.
std::vector<std::pair<int, int>> odd_even_merge_network(int n) {
  std::vector<std::pair<int, int>> c;
  for (int p = 1; p < n; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < n; j += 2 * k)
        for (int i = 0; i < std::min(k, n - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) c.emplace_back(i + j, i + j + k);
  return c;
}

/// The comparators of that network that the median of k (odd) values needs: the k values sit on
/// wires 0..k-1 and the rest hold +inf, which no comparator moves (min goes to the lower wire),
/// so comparators reaching a wire >= k are dropped; then, from the last comparator back, only
/// those writing a wire still read on the way to the median wire k/2 are kept.
std::vector<std::pair<int, int>> median_network(int k) {
  int n = 1;
  while (n < k) n <<= 1;
  const auto all = odd_even_merge_network(n);
  std::vector<char> live(static_cast<std::size_t>(n), 0);
  live[static_cast<std::size_t>(k / 2)] = 1;
  std::vector<std::pair<int, int>> kept;
  for (auto c = all.rbegin(); c != all.rend(); ++c) {
    if (c->second >= k) continue;
    auto& a = live[static_cast<std::size_t>(c->first)];
    auto& b = live[static_cast<std::size_t>(c->second)];
    if (!a && !b) continue;
    kept.push_back(*c);
    a = b = 1;
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

constexpr int kMedianLanes = 8;     // pixels of a row filtered together
constexpr int kMaxNetworkDisk = 64; // larger disks select with std::nth_element

}  // namespace

void median_filter_disk(const float* in, float* out, int h, int w, int radius) {
  std::vector<std::pair<int, int>> offs;
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx)
      if (dx * dx + dy * dy <= radius * radius) offs.emplace_back(dy, dx);
  const int k = static_cast<int>(offs.size());
  const std::size_t mid = offs.size() / 2;  // disk sizes are odd: exact median
  // Nearest-pixel borders as a padded copy (the extra columns on the right let the last lanes of
  // a row read inside it), so every pixel reads its disk without clamping.
  const int pw = w + 2 * radius + kMedianLanes, ph = h + 2 * radius;
  std::vector<float> pad(static_cast<std::size_t>(pw) * static_cast<std::size_t>(ph));
  for (int y = 0; y < ph; ++y)
    for (int x = 0; x < pw; ++x)
      pad[static_cast<std::size_t>(y) * pw + x] =
          in[std::clamp(y - radius, 0, h - 1) * w + std::clamp(x - radius, 0, w - 1)];
  std::vector<std::ptrdiff_t> at;  // disk offsets in the padded image
  for (const auto& [dy, dx] : offs) at.push_back(static_cast<std::ptrdiff_t>(dy) * pw + dx);
  const auto origin = [&](int y, int x) { return pad.data() + static_cast<std::ptrdiff_t>(y + radius) * pw + x + radius; };
  if (k > kMaxNetworkDisk) {
    std::vector<float> buf(offs.size());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float* o = origin(y, x);
        for (std::size_t q = 0; q < at.size(); ++q) buf[q] = o[at[q]];
        std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(mid), buf.end());
        out[y * w + x] = buf[mid];
      }
    return;
  }
  // A selection network on kMedianLanes pixels at once: min/max only, so the result is the
  // median value itself, the same as a selection by sorting.
  // The networks of every odd size the fast path takes, built once (disk sizes are odd).
  static const auto networks = [] {
    std::vector<std::vector<std::pair<int, int>>> all(kMaxNetworkDisk + 1);
    for (int size = 1; size <= kMaxNetworkDisk; size += 2) all[static_cast<std::size_t>(size)] = median_network(size);
    return all;
  }();
  const auto& net = networks[static_cast<std::size_t>(k)];
  float v[kMaxNetworkDisk][kMedianLanes];
  for (int y = 0; y < h; ++y)
    for (int x0 = 0; x0 < w; x0 += kMedianLanes) {
      const float* o = origin(y, x0);
      for (int q = 0; q < k; ++q)
        for (int l = 0; l < kMedianLanes; ++l) v[q][l] = o[at[static_cast<std::size_t>(q)] + l];
      for (const auto& [i, j] : net)
        for (int l = 0; l < kMedianLanes; ++l) {
          const float a = v[i][l], b = v[j][l];
          v[i][l] = std::min(a, b);
          v[j][l] = std::max(a, b);
        }
      for (int l = 0; l < std::min(kMedianLanes, w - x0); ++l) out[y * w + x0 + l] = v[mid][l];
    }
}

void normalize_channel(const float* in, float* out, int h, int w, const NormParams& p) {
  const int n = h * w;
  std::vector<float> med(static_cast<std::size_t>(n));
  median_filter_disk(in, med.data(), h, w, p.median_radius);
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) s += in[i];
  const double mu = s / n;
  for (int i = 0; i < n; ++i) s2 += (in[i] - mu) * (in[i] - mu);
  const double sd = std::sqrt(s2 / n);
  const double thr = p.outlier_threshold * sd;
  std::vector<double> clean(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double x = in[i], m = med[static_cast<std::size_t>(i)];
    clean[static_cast<std::size_t>(i)] = (sd > 0 && std::fabs(x - m) > thr) ? m : x;
  }
  const auto q = stats::quantiles(clean, {p.percentile_lo / 100.0, p.percentile_hi / 100.0});
  const double lo = q[0], hi = q[1];
  const double span = hi - lo;
  for (int i = 0; i < n; ++i) {
    const double y = span > 0 ? (clean[static_cast<std::size_t>(i)] - lo) / span : 0.0;
    out[i] = static_cast<float>(std::clamp(y, 0.0, 1.0));
  }
}

std::vector<float> normalize_image(const float* in, int channels, int size, const NormParams& p) {
  const std::size_t px = static_cast<std::size_t>(size) * size;
  std::vector<float> out(px * channels);
  for (int c = 0; c < channels; ++c) normalize_channel(in + c * px, out.data() + c * px, size, size, p);
  return out;
}

std::vector<float> normalize_image(const std::uint16_t* in, int channels, int size, const NormParams& p) {
  const std::size_t n = static_cast<std::size_t>(size) * size * channels;
  std::vector<float> f(in, in + n);
  return normalize_image(f.data(), channels, size, p);
}

std::int64_t switch_channels(float* image, const std::uint8_t* mask, int size, SwitchTarget target) {
  const std::size_t px = static_cast<std::size_t>(size) * size;
  float* ch[2] = {image, image + px};
  std::int64_t switched = 0;
  for (std::size_t i = 0; i < px; ++i) {
    const std::uint8_t code = mask[i];
    const CellType t = mask_type(code);
    if (t != CellType::kWildType && t != CellType::kScrib) continue;
    const bool central = mask_is_central(code);
    if ((target == SwitchTarget::kNeighbours) == central) continue;
    const int own = t == CellType::kWildType ? 0 : 1;
    const int other = 1 - own;
    const float a = ch[0][i], b = ch[1][i];
    const float mx = std::max(a, b);
    const float old_other = ch[other][i];
    ch[other][i] = mx;
    ch[own][i] = old_other;
    ++switched;
  }
  return switched;
}

ShrinkResult shrink_central(const std::uint16_t* image, const std::uint8_t* mask, int channels, int size,
                            double factor, int ring) {
  if (!(factor > 0)) throw DataError("shrink_central: factor " + std::to_string(factor) + " must be > 0");
  const std::size_t px = static_cast<std::size_t>(size) * size;
  ShrinkResult r;
  r.image.assign(image, image + px * channels);
  r.mask.assign(mask, mask + px);
  double cy = 0, cx = 0;
  int y0 = size, y1 = -1, x0 = size, x1 = -1;
  std::uint8_t central_code = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const std::uint8_t m = mask[y * size + x];
      if (!mask_is_central(m)) continue;
      central_code = m;
      cy += y;
      cx += x;
      ++r.area_before;
      y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
    }
  r.area_after = r.area_before;
  if (r.area_before == 0 || factor == 1.0) return r;
  cy /= static_cast<double>(r.area_before);
  cx /= static_cast<double>(r.area_before);

  // Local background per channel.
  std::vector<double> bg(static_cast<std::size_t>(channels));
  for (int c = 0; c < channels; ++c) {
    std::vector<double> vals;
    for (int y = std::max(0, y0 - ring); y <= std::min(size - 1, y1 + ring); ++y)
      for (int x = std::max(0, x0 - ring); x <= std::min(size - 1, x1 + ring); ++x)
        if (mask[y * size + x] == kMaskBackground) vals.push_back(image[c * px + y * size + x]);
    if (vals.empty()) vals.assign(image + c * px, image + (c + 1) * px);
    bg[static_cast<std::size_t>(c)] = percentile(vals, vals.size() == px ? 5.0 : 50.0);
  }
  auto sample = [&](int c, double sy, double sx) {
    sy = std::clamp(sy, 0.0, static_cast<double>(size - 1));
    sx = std::clamp(sx, 0.0, static_cast<double>(size - 1));
    const int iy = std::min(static_cast<int>(std::floor(sy)), size - 2);
    const int ix = std::min(static_cast<int>(std::floor(sx)), size - 2);
    const double fy = sy - iy, fx = sx - ix;
    const std::uint16_t* ch = image + c * px;
    return (1 - fy) * ((1 - fx) * ch[iy * size + ix] + fx * ch[iy * size + ix + 1]) +
           fy * ((1 - fx) * ch[(iy + 1) * size + ix] + fx * ch[(iy + 1) * size + ix + 1]);
  };
  auto to_u16 = [](double v) { return static_cast<std::uint16_t>(std::clamp(std::lround(v), 0L, 65535L)); };
  // Vacate the old central region.
  for (std::size_t i = 0; i < px; ++i) {
    if (!mask_is_central(mask[i])) continue;
    r.mask[i] = kMaskBackground;
    for (int c = 0; c < channels; ++c) r.image[c * px + i] = to_u16(bg[static_cast<std::size_t>(c)]);
  }
  // Draw the rescaled cell.
  r.area_after = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const double sy = cy + (y - cy) / factor, sx = cx + (x - cx) / factor;
      const long ry = std::lround(sy), rx = std::lround(sx);
      if (ry < 0 || rx < 0 || ry >= size || rx >= size) continue;
      if (!mask_is_central(mask[ry * size + rx])) continue;
      const std::size_t i = static_cast<std::size_t>(y) * size + x;
      r.mask[i] = central_code;
      for (int c = 0; c < channels; ++c) r.image[c * px + i] = to_u16(sample(c, sy, sx));
      ++r.area_after;
    }
  return r;
}

report::Image render_glimpse(const float* image, int size, float lo, float hi) {
  const std::size_t px = static_cast<std::size_t>(size) * size;
  double l[2] = {lo, lo}, h[2] = {hi, hi};
  if (!(lo < hi)) {
    for (int c = 0; c < 2; ++c) {
      std::vector<double> v(image + c * px, image + (c + 1) * px);
      l[c] = percentile(v, 1.0);
      h[c] = percentile(v, 99.5);
      if (!(h[c] > l[c])) h[c] = l[c] + 1;
    }
  }
  report::Image img;
  img.width = img.height = size;
  img.channels = 3;
  img.pixels.resize(px * 3);
  auto to8 = [&](int c, std::size_t i) {
    const double v = (image[c * px + i] - l[c]) / (h[c] - l[c]);
    return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
  };
  for (std::size_t i = 0; i < px; ++i) {
    const std::uint8_t g = to8(0, i), m = to8(1, i);
    img.pixels[i * 3 + 0] = m;  // R = ch1
    img.pixels[i * 3 + 1] = g;  // G = ch0
    img.pixels[i * 3 + 2] = m;  // B = ch1
  }
  return img;
}

report::Image render_mask(const std::uint8_t* mask, int size) {
  const std::size_t px = static_cast<std::size_t>(size) * size;
  report::Image img;
  img.width = img.height = size;
  img.channels = 3;
  img.pixels.assign(px * 3, 255);  // background white
  for (std::size_t i = 0; i < px; ++i) {
    std::uint8_t v = 255;
    switch (mask_type(mask[i])) {
      case CellType::kWildType: v = 160; break;  // grey = wild type
      case CellType::kScrib: v = 40; break;      // dark = scrib
      default: break;
    }
    if (mask_is_central(mask[i])) {
      img.pixels[i * 3 + 0] = 0, img.pixels[i * 3 + 1] = 114, img.pixels[i * 3 + 2] = 178;  // blue: central
    } else {
      img.pixels[i * 3 + 0] = img.pixels[i * 3 + 1] = img.pixels[i * 3 + 2] = v;
    }
  }
  return img;
}

report::Image tile_images(const std::vector<std::vector<report::Image>>& rows, int gap) {
  int cw = 0, chh = 0;
  std::size_t ncol = 0;
  for (const auto& r : rows) {
    ncol = std::max(ncol, r.size());
    for (const auto& im : r) cw = std::max(cw, im.width), chh = std::max(chh, im.height);
  }
  report::Image out;
  out.channels = 3;
  out.width = std::max(1, static_cast<int>(ncol) * (cw + gap) - gap);
  out.height = std::max(1, static_cast<int>(rows.size()) * (chh + gap) - gap);
  out.pixels.assign(static_cast<std::size_t>(out.width) * out.height * 3, 255);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const auto& im = rows[r][c];
      const int ox = static_cast<int>(c) * (cw + gap), oy = static_cast<int>(r) * (chh + gap);
      for (int y = 0; y < im.height; ++y)
        for (int x = 0; x < im.width; ++x)
          for (int k = 0; k < 3; ++k) {
            const std::uint8_t v = im.channels == 3 ? im.pixels[(static_cast<std::size_t>(y) * im.width + x) * 3 + k]
                                                    : im.pixels[static_cast<std::size_t>(y) * im.width + x];
            out.pixels[(static_cast<std::size_t>(oy + y) * out.width + ox + x) * 3 + k] = v;
          }
    }
  return out;
}

}  // namespace taupe::perturb
