#include "taupe/simulate/render.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "taupe/core/rng.h"
#include "taupe/core/stats.h"

namespace taupe {

namespace {

struct Blob {
  float cx, cy, a, b, cos_t, sin_t, peak, tex_amp;
  std::uint32_t tex_seed;
};

constexpr int kBin = 32;      // spatial grid bin (px)
constexpr float kReach = 24;  // max blob extent from the cell centre (px)

inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return splitmix64(a ^ (b * 0x9E3779B97F4A7C15ull)); }

const std::array<float, 65536>& normal_table() {
  static const std::array<float, 65536> t = [] {
    std::array<float, 65536> v{};
    for (int i = 0; i < 65536; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(stats::normal_quantile((i + 0.5) / 65536.0));
    return v;
  }();
  return t;
}

inline float lattice(std::uint32_t seed, int i, int j) {
  const std::uint64_t h = mix(mix(seed, static_cast<std::uint64_t>(static_cast<std::uint32_t>(i))),
                              static_cast<std::uint64_t>(static_cast<std::uint32_t>(j)));
  return static_cast<float>(h >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/// Smooth value noise in [-1, 1] with a 2.5 px lattice (chromatin texture).
inline float texture(std::uint32_t seed, float u, float v) {
  const float s = 1.0f / 2.5f;
  const float x = u * s + 1000.f, y = v * s + 1000.f;
  const int i = static_cast<int>(std::floor(x)), j = static_cast<int>(std::floor(y));
  float fx = x - i, fy = y - j;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  const float a = lattice(seed, i, j), b = lattice(seed, i + 1, j), c = lattice(seed, i, j + 1), d = lattice(seed, i + 1, j + 1);
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}

}  // namespace

struct SceneRenderer::Impl {
  const FovHistory& h;
  SimConfig cfg;
  std::vector<float> kernel;
  int kr = 0, margin = 0;
  int nbx = 1, nby = 1;
  /// per frame: bin start offsets and cell indices
  std::vector<std::vector<int>> bin_start, bin_cells;

  Impl(const FovHistory& hist, const SimConfig& c) : h(hist), cfg(c) {
    kr = std::max(1, static_cast<int>(std::ceil(3.5 * cfg.psf_sigma_px)));
    if (cfg.psf_sigma_px <= 0) kr = 0;
    kernel.assign(static_cast<std::size_t>(2 * kr + 1), 0.f);
    double s = 0;
    for (int k = -kr; k <= kr; ++k) {
      const double v = cfg.psf_sigma_px > 0 ? std::exp(-0.5 * k * k / (cfg.psf_sigma_px * cfg.psf_sigma_px)) : 1.0;
      kernel[static_cast<std::size_t>(k + kr)] = static_cast<float>(v);
      s += v;
    }
    for (float& v : kernel) v = static_cast<float>(v / s);
    margin = kr + std::abs(cfg.mask_erode_px) + 1;
    nbx = std::max(1, (h.width + kBin - 1) / kBin);
    nby = std::max(1, (h.height + kBin - 1) / kBin);
    bin_start.resize(h.frames.size());
    bin_cells.resize(h.frames.size());
    for (std::size_t t = 0; t < h.frames.size(); ++t) {
      const auto& cells = h.frames[t];
      std::vector<int>& st = bin_start[t];
      st.assign(static_cast<std::size_t>(nbx * nby + 1), 0);
      std::vector<int> bin(cells.size());
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const int bx = std::clamp(static_cast<int>(cells[i].x) / kBin, 0, nbx - 1);
        const int by = std::clamp(static_cast<int>(cells[i].y) / kBin, 0, nby - 1);
        bin[i] = by * nbx + bx;
        ++st[static_cast<std::size_t>(bin[i] + 1)];
      }
      for (std::size_t b = 1; b < st.size(); ++b) st[b] += st[b - 1];
      std::vector<int> fill(st.begin(), st.end() - 1);
      bin_cells[t].resize(cells.size());
      for (std::size_t i = 0; i < cells.size(); ++i) bin_cells[t][static_cast<std::size_t>(fill[static_cast<std::size_t>(bin[i])]++)] = static_cast<int>(i);
    }
  }

  void blobs_of(const CellSnap& c, float ox, float oy, std::vector<Blob>& out) const {
    const float peak0 = static_cast<float>((c.type == CellType::kWildType ? cfg.gfp_brightness : cfg.rfp_brightness) * c.expression);
    const float amp0 = static_cast<float>(cfg.texture);
    const float x = c.x + ox, y = c.y + oy;
    const float r0 = std::sqrt(c.nuc_a * c.nuc_b);
    auto add = [&](float cx, float cy, float a, float b, float th, float peak, float amp, std::uint32_t seed) {
      out.push_back(Blob{cx, cy, std::max(a, 0.6f), std::max(b, 0.6f), std::cos(th), std::sin(th), peak, amp, seed});
    };
    const float p = c.morph_progress;
    if (c.morph == Morph::kInterphase) {
      add(x, y, c.nuc_a, c.nuc_b, c.theta, peak0, amp0, c.texture_seed);
    } else if (c.morph == Morph::kMitosis) {
      if (p < 0.7f) {  // prophase / prometaphase: condensing, rounder, brighter
        const float q = p / 0.7f;
        const float s = 1.0f - 0.4f * q;
        const float a = (c.nuc_a * (1 - q) + r0 * q) * s, b = (c.nuc_b * (1 - q) + r0 * q) * s;
        add(x, y, a, b, c.theta, peak0 * (1.0f + 1.0f * q), amp0 * (1.0f + 1.5f * q), c.texture_seed);
      } else {  // metaphase plate splitting into anaphase chromosomes along the division axis
        const float q = (p - 0.7f) / 0.3f;
        const float d = q * 0.9f * r0;
        const float ca = std::cos(c.division_angle), sa = std::sin(c.division_angle);
        const float plate = c.division_angle + static_cast<float>(M_PI / 2);
        for (int k = -1; k <= 1; k += 2)
          add(x + k * 0.5f * d * ca, y + k * 0.5f * d * sa, 0.75f * r0, 0.28f * r0, plate, peak0 * 2.0f, amp0,
              c.texture_seed + static_cast<std::uint32_t>(k + 2));
      }
    } else {  // apoptosis: pyknosis (shrinking, bright) then fragmentation
      if (p < 0.5f) {
        const float q = p / 0.5f;
        const float s = 1.0f - 0.45f * q;
        add(x, y, (c.nuc_a * (1 - q) + r0 * q) * s, (c.nuc_b * (1 - q) + r0 * q) * s, c.theta,
            peak0 * (1.0f + 1.5f * q), amp0 * (1 - 0.5f * q), c.texture_seed);
      } else {
        const float q = (p - 0.5f) / 0.5f;
        const int n = 3 + static_cast<int>(c.texture_seed % 3);
        const float phi0 = static_cast<float>((c.texture_seed >> 8) % 628) * 0.01f;
        for (int k = 0; k < n; ++k) {
          const float phi = phi0 + static_cast<float>(2 * M_PI) * k / n;
          const float dist = (0.25f + 0.45f * q) * r0;
          const float rr = 0.32f * r0 * (1 - 0.35f * q);
          add(x + dist * std::cos(phi), y + dist * std::sin(phi), rr, rr * 0.85f, phi, peak0 * 2.5f * (1 - 0.4f * q),
              0.f, c.texture_seed + static_cast<std::uint32_t>(k));
        }
      }
    }
  }

  /// Renders [x0, x0+w) x [y0, y0+h) (global pixel coords, may extend outside the field).
  void render(int t, int x0, int y0, int w, int hh, ImageWindow& out) const {
    const int W = h.width, H = h.height;
    const int M = margin;
    const int rx0 = x0 - M, ry0 = y0 - M, rw = w + 2 * M, rh = hh + 2 * M;
    std::vector<float> scene(static_cast<std::size_t>(2 * rw * rh), 0.f);
    std::vector<float> best(static_cast<std::size_t>(rw * rh), 0.f);
    std::vector<std::uint32_t> lab(static_cast<std::size_t>(rw * rh), 0u);
    const auto& cells = h.frames[static_cast<std::size_t>(t)];
    // Candidate cells: bins overlapping the rendered rectangle grown by the blob reach (periodic).
    std::vector<int> cand;
    const int bx0 = static_cast<int>(std::floor((rx0 - kReach) / kBin)), bx1 = static_cast<int>(std::floor((rx0 + rw + kReach) / kBin));
    const int by0 = static_cast<int>(std::floor((ry0 - kReach) / kBin)), by1 = static_cast<int>(std::floor((ry0 + rh + kReach) / kBin));
    if (bx1 - bx0 + 1 >= nbx && by1 - by0 + 1 >= nby) {
      cand.resize(cells.size());
      for (std::size_t i = 0; i < cells.size(); ++i) cand[i] = static_cast<int>(i);
    } else {
      std::vector<char> seen(static_cast<std::size_t>(nbx * nby), 0);
      for (int by = by0; by <= by1; ++by)
        for (int bx = bx0; bx <= bx1; ++bx) {
          const int b = ((by % nby + nby) % nby) * nbx + ((bx % nbx + nbx) % nbx);
          if (seen[static_cast<std::size_t>(b)]) continue;
          seen[static_cast<std::size_t>(b)] = 1;
          for (int k = bin_start[static_cast<std::size_t>(t)][static_cast<std::size_t>(b)];
               k < bin_start[static_cast<std::size_t>(t)][static_cast<std::size_t>(b + 1)]; ++k)
            cand.push_back(bin_cells[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
        }
      std::sort(cand.begin(), cand.end());
    }
    const double px2 = cfg.pixel_size_um * cfg.pixel_size_um;
    std::vector<Blob> blobs;
    for (int ci : cand) {
      const CellSnap& c = cells[static_cast<std::size_t>(ci)];
      const int ch = c.type == CellType::kWildType ? 0 : 1;
      const bool masked = !(cfg.mask_min_area_um2 > 0 && c.nuclear_area_um2 < cfg.mask_min_area_um2);
      for (int oyi = -1; oyi <= 1; ++oyi)
        for (int oxi = -1; oxi <= 1; ++oxi) {
          const float ox = static_cast<float>(oxi * W), oy = static_cast<float>(oyi * H);
          const float cx = c.x + ox, cy = c.y + oy;
          if (cx + kReach < rx0 || cx - kReach > rx0 + rw || cy + kReach < ry0 || cy - kReach > ry0 + rh) continue;
          blobs.clear();
          blobs_of(c, ox, oy, blobs);
          for (const Blob& b : blobs) {
            const float ext = std::max(b.a, b.b) + 1.5f;
            const int X0 = std::max(rx0, static_cast<int>(std::floor(b.cx - ext)));
            const int X1 = std::min(rx0 + rw - 1, static_cast<int>(std::ceil(b.cx + ext)));
            const int Y0 = std::max(ry0, static_cast<int>(std::floor(b.cy - ext)));
            const int Y1 = std::min(ry0 + rh - 1, static_cast<int>(std::ceil(b.cy + ext)));
            for (int Y = Y0; Y <= Y1; ++Y) {
              const float dy = static_cast<float>(Y) - b.cy;
              for (int X = X0; X <= X1; ++X) {
                const float dx = static_cast<float>(X) - b.cx;
                const float u = dx * b.cos_t + dy * b.sin_t, v = -dx * b.sin_t + dy * b.cos_t;
                const float r2 = (u / b.a) * (u / b.a) + (v / b.b) * (v / b.b);
                float cov;
                if (r2 < 1e-8f) cov = 1.f;
                else {
                  const float r = std::sqrt(r2), len = std::sqrt(u * u + v * v);
                  cov = std::clamp(0.5f + len * (1.f / r - 1.f), 0.f, 1.f);
                }
                if (cov <= 0.f) continue;
                const std::size_t pi = static_cast<std::size_t>(Y - ry0) * rw + (X - rx0);
                const float dome = 0.8f + 0.2f * (1.f - std::min(r2, 1.f));
                const float tex = b.tex_amp > 0 ? 1.f + b.tex_amp * texture(b.tex_seed, u, v) : 1.f;
                scene[static_cast<std::size_t>(ch) * rw * rh + pi] += b.peak * cov * dome * tex;
                if (masked && cov >= 0.5f && cov > best[pi]) {
                  best[pi] = cov;
                  lab[pi] = static_cast<std::uint32_t>(c.track_id);
                }
              }
            }
          }
        }
    }
    (void)px2;
    // PSF: separable Gaussian (valid region shrinks by kr on each side).
    std::vector<float> tmp(scene.size(), 0.f), blurred(scene.size(), 0.f);
    for (int c = 0; c < 2; ++c) {
      const float* s = scene.data() + static_cast<std::size_t>(c) * rw * rh;
      float* tp = tmp.data() + static_cast<std::size_t>(c) * rw * rh;
      float* bp = blurred.data() + static_cast<std::size_t>(c) * rw * rh;
      for (int y = 0; y < rh; ++y)
        for (int x = kr; x < rw - kr; ++x) {
          float acc = 0;
          for (int k = -kr; k <= kr; ++k) acc += kernel[static_cast<std::size_t>(k + kr)] * s[static_cast<std::size_t>(y) * rw + x + k];
          tp[static_cast<std::size_t>(y) * rw + x] = acc;
        }
      for (int y = kr; y < rh - kr; ++y)
        for (int x = kr; x < rw - kr; ++x) {
          float acc = 0;
          for (int k = -kr; k <= kr; ++k) acc += kernel[static_cast<std::size_t>(k + kr)] * tp[static_cast<std::size_t>(y + k) * rw + x];
          bp[static_cast<std::size_t>(y) * rw + x] = acc;
        }
    }
    // Camera: photobleaching, autofluorescence, shot + read noise (hash of global pixel), offset.
    const auto& nt = normal_table();
    const double bleach = std::pow(0.5, t / cfg.bleach_half_life_frames);
    const double g = cfg.gain, rn2 = cfg.read_noise * cfg.read_noise;
    const double maxv = cfg.bit_depth == 8 ? 255.0 : 65535.0, scale = cfg.bit_depth == 8 ? 1.0 / 16.0 : 1.0;
    const std::uint64_t fseed = mix(h.seed, static_cast<std::uint64_t>(t) + 0x51ED27ull);
    out.x0 = x0; out.y0 = y0; out.w = w; out.h = hh;
    out.images.assign(static_cast<std::size_t>(2 * w * hh), 0);
    out.labels.assign(static_cast<std::size_t>(w * hh), 0);
    out.label_types.clear();
    for (int c = 0; c < 2; ++c)
      for (int y = 0; y < hh; ++y) {
        const int Y = ((y0 + y) % H + H) % H;
        for (int x = 0; x < w; ++x) {
          const int X = ((x0 + x) % W + W) % W;
          const double sig = (blurred[static_cast<std::size_t>(c) * rw * rh + static_cast<std::size_t>(y + M) * rw + (x + M)] +
                              cfg.autofluorescence) * bleach;
          const std::uint64_t hs = mix(fseed, (static_cast<std::uint64_t>(c) << 40) ^ (static_cast<std::uint64_t>(Y) << 20) ^
                                                  static_cast<std::uint64_t>(X));
          const double z = nt[static_cast<std::size_t>(hs >> 48)];
          double v = cfg.background + g * sig + std::sqrt(g * g * sig + rn2) * z;
          v = std::clamp(std::floor(v * scale + 0.5), 0.0, maxv);
          out.images[(static_cast<std::size_t>(c) * hh + y) * w + x] = static_cast<std::uint16_t>(v);
        }
      }
    // Masks (optionally eroded / dilated).
    auto L = [&](int x, int y) { return lab[static_cast<std::size_t>(y + M) * rw + (x + M)]; };
    const int e = cfg.mask_erode_px;
    for (int y = 0; y < hh; ++y)
      for (int x = 0; x < w; ++x) {
        std::uint32_t l = L(x, y);
        if (e > 0 && l) {
          for (int dy = -e; dy <= e && l; ++dy)
            for (int dx = -e; dx <= e; ++dx)
              if (dx * dx + dy * dy <= e * e && L(x + dx, y + dy) != l) { l = 0; break; }
        } else if (e < 0 && !l) {
          for (int dy = e; dy <= -e && !l; ++dy)
            for (int dx = e; dx <= -e; ++dx)
              if (dx * dx + dy * dy <= e * e && L(x + dx, y + dy)) { l = L(x + dx, y + dy); break; }
        }
        out.labels[static_cast<std::size_t>(y) * w + x] = l;
      }
    for (int ci : cand) {
      const CellSnap& c = cells[static_cast<std::size_t>(ci)];
      out.label_types[static_cast<std::uint32_t>(c.track_id)] = c.type;
    }
    // Keep only labels present.
    std::vector<std::uint32_t> present(out.labels);
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    for (auto it = out.label_types.begin(); it != out.label_types.end();)
      it = std::binary_search(present.begin(), present.end(), it->first) ? std::next(it) : out.label_types.erase(it);
  }
};

SceneRenderer::SceneRenderer(const FovHistory& history, const SimConfig& cfg)
    : impl_(std::make_unique<Impl>(history, cfg)) {}
SceneRenderer::~SceneRenderer() = default;
int SceneRenderer::width() const { return impl_->h.width; }
int SceneRenderer::height() const { return impl_->h.height; }
double SceneRenderer::pixel_size_um() const { return impl_->h.pixel_size_um; }
void SceneRenderer::window(int t, int x0, int y0, int w, int h, ImageWindow& out) { impl_->render(t, x0, y0, w, h, out); }

MovieFrame SceneRenderer::frame(int t) {
  ImageWindow w;
  impl_->render(t, 0, 0, width(), height(), w);
  MovieFrame f;
  f.images = std::move(w.images);
  f.labels = std::move(w.labels);
  f.label_types = std::move(w.label_types);
  return f;
}

MovieInfo SceneRenderer::movie_info() const {
  MovieInfo i;
  i.frames = static_cast<int>(impl_->h.frames.size());
  i.channels = 2;
  i.height = height();
  i.width = width();
  i.bit_depth = impl_->cfg.bit_depth;
  i.pixel_size_um = impl_->h.pixel_size_um;
  i.frame_interval_min = impl_->cfg.frame_interval_min;
  return i;
}

}  // namespace taupe
