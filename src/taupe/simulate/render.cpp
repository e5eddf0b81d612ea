#include "taupe/simulate/render.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "taupe/core/rng.h"

namespace taupe {

namespace {

struct Blob {
  float cx, cy, a, b, cos_t, sin_t, peak, tex_amp;
  std::uint32_t tex_seed;
};

constexpr int kBin = 32;      // spatial grid bin (px)
constexpr float kReach = 24;  // max blob extent from the cell centre (px)

inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return splitmix64(a ^ (b * 0x9E3779B97F4A7C15ull)); }

/// Standard normal deviate from a 64-bit hash: Irwin-Hall sum of its four 16-bit fields
/// (variance 1, tails cut at ±3.46; no table look-up, so no cache misses per pixel).
inline float hash_normal(std::uint64_t h) {
  const std::uint32_t s = static_cast<std::uint32_t>(h & 0xffff) + static_cast<std::uint32_t>((h >> 16) & 0xffff) +
                          static_cast<std::uint32_t>((h >> 32) & 0xffff) + static_cast<std::uint32_t>(h >> 48);
  return (static_cast<float>(static_cast<std::int32_t>(s) - 131070)) * (1.7320508f / 65536.f);
}

inline float lattice(std::uint32_t seed, int i, int j) {
  const std::uint64_t h = mix(mix(seed, static_cast<std::uint64_t>(static_cast<std::uint32_t>(i))),
                              static_cast<std::uint64_t>(static_cast<std::uint32_t>(j)));
  return static_cast<float>(h >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/// Chromatin texture of one blob: smooth value noise in [-1, 1] on a 2.5 px lattice, its lattice
/// values over the blob's support computed once (exactly lattice()); lattice points outside that
/// block are computed on demand.
struct TextureLattice {
  static constexpr float kScale = 1.0f / 2.5f;
  std::uint32_t seed = 0;
  int i0 = 0, j0 = 0, ni = 0, nj = 0;
  const float* grid = nullptr;

  /// Caches the lattice over |u| <= ur, |v| <= vr (the blob's own axes) in `buf`.
  void cache(std::uint32_t s, float ur, float vr, std::vector<float>& buf) {
    seed = s;
    i0 = static_cast<int>(std::floor(-ur * kScale + 1000.f));
    j0 = static_cast<int>(std::floor(-vr * kScale + 1000.f));
    ni = static_cast<int>(std::floor(ur * kScale + 1000.f)) + 2 - i0;
    nj = static_cast<int>(std::floor(vr * kScale + 1000.f)) + 2 - j0;
    buf.resize(static_cast<std::size_t>(ni * nj));
    for (int j = 0; j < nj; ++j)
      for (int i = 0; i < ni; ++i) buf[static_cast<std::size_t>(j * ni + i)] = lattice(seed, i0 + i, j0 + j);
    grid = buf.data();
  }
  float at(int i, int j) const {
    const int li = i - i0, lj = j - j0;
    if (li >= 0 && li < ni && lj >= 0 && lj < nj) return grid[static_cast<std::size_t>(lj * ni + li)];
    return lattice(seed, i, j);
  }
  /// The noise at (u, v) (the blob's own axes, px): smoothstep interpolation of the lattice.
  float value(float u, float v) const {
    const float x = u * kScale + 1000.f, y = v * kScale + 1000.f;
    const int i = static_cast<int>(std::floor(x)), j = static_cast<int>(std::floor(y));
    float fx = x - static_cast<float>(i), fy = y - static_cast<float>(j);
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const float va = at(i, j), vb = at(i + 1, j), vc = at(i, j + 1), vd = at(i + 1, j + 1);
    return (va * (1 - fx) + vb * fx) * (1 - fy) + (vc * (1 - fx) + vd * fx) * fy;
  }
};

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
    margin = kr + std::abs(cfg.mask_erode_px);
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
    const double free_area = M_PI * 0.25 * cfg.nuclear_diameter_um * cfg.nuclear_diameter_um;  // µm²
    const double compaction =
        cfg.compaction_brightness > 0 && c.nuclear_area_um2 > 0
            ? std::clamp(std::pow(free_area / c.nuclear_area_um2, cfg.compaction_brightness), 1.0 / 3.0, 3.0)
            : 1.0;
    const float peak0 = static_cast<float>((c.type == CellType::kWildType ? cfg.gfp_brightness : cfg.rfp_brightness) *
                                           c.expression * compaction);
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

  /// Scratch buffers reused by the calls of one thread.
  struct Scratch {
    std::vector<float> scene, best, tmp, blurred, grid;
    std::vector<std::uint32_t> lab;
    std::vector<int> cand;
    std::vector<char> seen;
    std::vector<Blob> blobs;
  };

  /// Adds one blob to the scene (channel plane `sc`) and the label competition, over the
  /// region [rx0, rx0 + rw) x [ry0, ry0 + rh). Each pixel's value is a pure function of the
  /// blob and the pixel's coordinates (no incremental arithmetic), so any window gets the same
  /// bits; only pixels inside the blob's support (coverage > 0) are visited.
  static void rasterise(const Blob& b, int rx0, int ry0, int rw, int rh, float* sc, float* best, std::uint32_t* lab,
                        bool masked, std::uint32_t label, std::vector<float>& grid) {
    // coverage > 0 implies r < 1 + 0.5 / R(phi) <= S (R = boundary radius along the ray >= min(a, b)).
    const float S = 1.f + 0.5f / std::min(b.a, b.b);
    const float ia2 = 1.f / (b.a * b.a), ib2 = 1.f / (b.b * b.b);
    const float cs = b.cos_t, sn = b.sin_t;
    const float A = b.a * S, B = b.b * S;
    const float hy = std::sqrt(A * A * sn * sn + B * B * cs * cs);
    const int Y0 = std::max(ry0, static_cast<int>(std::floor(b.cy - hy)) - 1);
    const int Y1 = std::min(ry0 + rh - 1, static_cast<int>(std::ceil(b.cy + hy)) + 1);
    if (Y0 > Y1) return;
    const bool textured = b.tex_amp > 0;
    TextureLattice tex_lattice;
    if (textured) tex_lattice.cache(b.tex_seed, A + 3.f, B + 3.f, grid);
    // Row span of the support ellipse: P dx^2 + 2 Q dx + R < 0.
    const float P = cs * cs * ia2 + sn * sn * ib2;
    const float Qk = cs * sn * (ia2 - ib2);
    const float Rk = sn * sn * ia2 + cs * cs * ib2;
    for (int Y = Y0; Y <= Y1; ++Y) {
      const float dy = static_cast<float>(Y) - b.cy;
      const float Q = dy * Qk, R = dy * dy * Rk - S * S;
      const float disc = Q * Q - P * R;
      if (disc < 0) continue;
      const float sq = std::sqrt(disc);
      const int X0 = std::max(rx0, static_cast<int>(std::floor(b.cx + (-Q - sq) / P)) - 1);
      const int X1 = std::min(rx0 + rw - 1, static_cast<int>(std::ceil(b.cx + (-Q + sq) / P)) + 1);
      const std::size_t row = static_cast<std::size_t>(Y - ry0) * static_cast<std::size_t>(rw);
      for (int X = X0; X <= X1; ++X) {
        const float dx = static_cast<float>(X) - b.cx;
        const float u = dx * cs + dy * sn, v = -dx * sn + dy * cs;
        const float r2 = u * u * ia2 + v * v * ib2;
        float cov;
        if (r2 < 1e-8f) {
          cov = 1.f;
        } else {
          const float l2 = u * u + v * v;
          cov = std::min(1.f, 0.5f + std::sqrt(l2 / r2) - std::sqrt(l2));  // 0.5 + distance to the boundary
          if (cov <= 0.f) continue;
        }
        const std::size_t pi = row + static_cast<std::size_t>(X - rx0);
        const float dome = 0.8f + 0.2f * (1.f - std::min(r2, 1.f));
        const float tex = textured ? 1.f + b.tex_amp * tex_lattice.value(u, v) : 1.f;
        sc[pi] += b.peak * cov * dome * tex;
        if (masked && cov >= 0.5f && cov > best[pi]) {
          best[pi] = cov;
          lab[pi] = label;
        }
      }
    }
  }

  /// The rendered region: the output window grown by `margin` on every side (global pixel
  /// coordinates; may extend outside the field).
  struct Region {
    int x0, y0, w, h;
    std::size_t plane() const { return static_cast<std::size_t>(w) * static_cast<std::size_t>(h); }
  };

  /// Candidate cells of frame `t` into `S.cand`: bins overlapping the region grown by the blob
  /// reach (periodic), in cell order (so every pixel sums its blobs in the same order in any
  /// window).
  void gather_candidates(int t, const Region& r, Scratch& S) const {
    const auto& cells = h.frames[static_cast<std::size_t>(t)];
    std::vector<int>& cand = S.cand;
    cand.clear();
    const int bx0 = static_cast<int>(std::floor((r.x0 - kReach) / kBin)), bx1 = static_cast<int>(std::floor((r.x0 + r.w + kReach) / kBin));
    const int by0 = static_cast<int>(std::floor((r.y0 - kReach) / kBin)), by1 = static_cast<int>(std::floor((r.y0 + r.h + kReach) / kBin));
    if (bx1 - bx0 + 1 >= nbx && by1 - by0 + 1 >= nby) {
      cand.resize(cells.size());
      for (std::size_t i = 0; i < cells.size(); ++i) cand[i] = static_cast<int>(i);
      return;
    }
    S.seen.assign(static_cast<std::size_t>(nbx * nby), 0);
    for (int by = by0; by <= by1; ++by)
      for (int bx = bx0; bx <= bx1; ++bx) {
        const int b = ((by % nby + nby) % nby) * nbx + ((bx % nbx + nbx) % nbx);
        if (S.seen[static_cast<std::size_t>(b)]) continue;
        S.seen[static_cast<std::size_t>(b)] = 1;
        for (int k = bin_start[static_cast<std::size_t>(t)][static_cast<std::size_t>(b)];
             k < bin_start[static_cast<std::size_t>(t)][static_cast<std::size_t>(b + 1)]; ++k)
          cand.push_back(bin_cells[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
      }
    std::sort(cand.begin(), cand.end());
  }

  /// Rasterises the candidates' blobs (and their periodic images that reach the region) into
  /// `S.scene` (GFP plane for wild type, RFP for scrib) and the label competition `S.best` /
  /// `S.lab` (candidate index + 1).
  void draw_cells(int t, const Region& r, Scratch& S) const {
    const auto& cells = h.frames[static_cast<std::size_t>(t)];
    const int W = h.width, H = h.height;
    for (std::size_t k = 0; k < S.cand.size(); ++k) {
      const CellSnap& c = cells[static_cast<std::size_t>(S.cand[k])];
      const int ch = c.type == CellType::kWildType ? 0 : 1;
      const bool masked = !(cfg.mask_min_area_um2 > 0 && c.nuclear_area_um2 < cfg.mask_min_area_um2);
      for (int oyi = -1; oyi <= 1; ++oyi)
        for (int oxi = -1; oxi <= 1; ++oxi) {
          const float ox = static_cast<float>(oxi * W), oy = static_cast<float>(oyi * H);
          const float cx = c.x + ox, cy = c.y + oy;
          if (cx + kReach < r.x0 || cx - kReach > r.x0 + r.w || cy + kReach < r.y0 || cy - kReach > r.y0 + r.h) continue;
          S.blobs.clear();
          blobs_of(c, ox, oy, S.blobs);
          for (const Blob& b : S.blobs)
            rasterise(b, r.x0, r.y0, r.w, r.h, S.scene.data() + static_cast<std::size_t>(ch) * r.plane(), S.best.data(),
                      S.lab.data(), masked, static_cast<std::uint32_t>(k + 1), S.grid);
        }
    }
  }

  /// PSF: separable Gaussian of `S.scene` into `S.blurred` (2, hh, w), only where the output
  /// needs it (rows M - kr .. M + hh + kr for the horizontal pass, the output rectangle for the
  /// vertical one). Taps are summed in a fixed order per pixel (window independent).
  void blur(const Region& r, int w, int hh, Scratch& S) const {
    const int M = margin;
    const std::size_t rows_h = static_cast<std::size_t>(hh + 2 * kr);
    S.tmp.assign(rows_h * static_cast<std::size_t>(w), 0.f);
    S.blurred.assign(2 * static_cast<std::size_t>(w) * static_cast<std::size_t>(hh), 0.f);
    const int nk = 2 * kr + 1;
    for (int c = 0; c < 2; ++c) {
      const float* s = S.scene.data() + static_cast<std::size_t>(c) * r.plane();
      float* bp = S.blurred.data() + static_cast<std::size_t>(c) * w * hh;
      std::fill(S.tmp.begin(), S.tmp.end(), 0.f);
      for (std::size_t row = 0; row < rows_h; ++row) {
        const float* src = s + (static_cast<std::size_t>(M - kr) + row) * r.w + (M - kr);
        float* dst = S.tmp.data() + row * w;
        for (int k = 0; k < nk; ++k) {
          const float kv = kernel[static_cast<std::size_t>(k)];
          const float* sk = src + k;
          for (int x = 0; x < w; ++x) dst[x] += kv * sk[x];
        }
      }
      for (int y = 0; y < hh; ++y) {
        float* dst = bp + static_cast<std::size_t>(y) * w;
        for (int k = 0; k < nk; ++k) {
          const float kv = kernel[static_cast<std::size_t>(k)];
          const float* sk = S.tmp.data() + static_cast<std::size_t>(y + k) * w;
          for (int x = 0; x < w; ++x) dst[x] += kv * sk[x];
        }
      }
    }
  }

  /// Camera: photobleaching, autofluorescence, shot + read noise (hash of global pixel), offset;
  /// `S.blurred` into `out.images`.
  void expose(int t, int x0, int y0, int w, int hh, const Scratch& S, ImageWindow& out) const {
    const int W = h.width, H = h.height;
    const float bleach = static_cast<float>(std::pow(0.5, t / cfg.bleach_half_life_frames));
    const float g = static_cast<float>(cfg.gain), rn2 = static_cast<float>(cfg.read_noise * cfg.read_noise);
    const float af = static_cast<float>(cfg.autofluorescence), bg = static_cast<float>(cfg.background);
    const float maxv = cfg.bit_depth == 8 ? 255.f : 65535.f, scale = cfg.bit_depth == 8 ? 1.f / 16.f : 1.f;
    const std::uint64_t fseed = mix(h.seed, static_cast<std::uint64_t>(t) + 0x51ED27ull);
    for (int c = 0; c < 2; ++c)
      for (int y = 0; y < hh; ++y) {
        const std::uint64_t Y = static_cast<std::uint64_t>(((y0 + y) % H + H) % H);
        const std::uint64_t rowkey = (static_cast<std::uint64_t>(c) << 40) ^ (Y << 20);
        const float* bl = S.blurred.data() + (static_cast<std::size_t>(c) * hh + y) * w;
        std::uint16_t* o = out.images.data() + (static_cast<std::size_t>(c) * hh + y) * w;
        int X = ((x0 % W) + W) % W;
        for (int x = 0; x < w; ++x) {
          const float sig = (bl[x] + af) * bleach;
          const std::uint64_t hs = mix(fseed, rowkey ^ static_cast<std::uint64_t>(X));
          const float z = hash_normal(hs);
          float v = bg + g * sig + std::sqrt(g * g * sig + rn2) * z;
          v = std::min(maxv, std::max(0.f, std::floor(v * scale + 0.5f)));
          o[x] = static_cast<std::uint16_t>(v);
          if (++X == W) X = 0;
        }
      }
  }

  /// Masks (optionally eroded / dilated) from `S.lab` (candidate index + 1, 0 = background)
  /// into `out.labels` as track ids, and the types of the labels present.
  void label_masks(int t, const Region& r, int w, int hh, Scratch& S, ImageWindow& out) const {
    const auto& cells = h.frames[static_cast<std::size_t>(t)];
    const std::vector<int>& cand = S.cand;
    const int M = margin;
    auto L = [&](int x, int y) { return S.lab[static_cast<std::size_t>(y + M) * r.w + (x + M)]; };
    const int e = cfg.mask_erode_px;
    S.seen.assign(cand.size(), 0);
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
        std::uint32_t id = 0;
        if (l) {
          const CellSnap& c = cells[static_cast<std::size_t>(cand[l - 1])];
          id = static_cast<std::uint32_t>(c.track_id);
          S.seen[l - 1] = 1;
        }
        out.labels[static_cast<std::size_t>(y) * w + x] = id;
      }
    for (std::size_t k = 0; k < cand.size(); ++k)
      if (S.seen[k]) {
        const CellSnap& c = cells[static_cast<std::size_t>(cand[k])];
        out.label_types[static_cast<std::uint32_t>(c.track_id)] = c.type;
      }
  }

  /// Renders [x0, x0+w) x [y0, y0+h) (global pixel coords, may extend outside the field).
  void render(int t, int x0, int y0, int w, int hh, ImageWindow& out) const {
    thread_local Scratch S;
    const Region r{x0 - margin, y0 - margin, w + 2 * margin, hh + 2 * margin};
    S.scene.assign(2 * r.plane(), 0.f);
    S.best.assign(r.plane(), 0.f);
    S.lab.assign(r.plane(), 0u);
    gather_candidates(t, r, S);
    draw_cells(t, r, S);
    blur(r, w, hh, S);
    out.x0 = x0; out.y0 = y0; out.w = w; out.h = hh;
    out.images.resize(static_cast<std::size_t>(2 * w * hh));
    out.labels.resize(static_cast<std::size_t>(w * hh));
    out.label_types.clear();
    expose(t, x0, y0, w, hh, S, out);
    label_masks(t, r, w, hh, S, out);
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
