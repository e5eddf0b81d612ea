#include "taupe/simulate/model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

#include "taupe/core/rng.h"

namespace taupe {

namespace {

constexpr int kRays = 16;
constexpr double kDensityRadiusUm = 25.0;

struct Cell {
  std::int64_t track_id = 0;
  std::int64_t parent_track = 0;  ///< recorded parent track (0 = none)
  CellType type = CellType::kWildType;
  double x = 0, y = 0;            ///< µm
  double phase = 0, rate = 0;     ///< rate: phases per hour
  double a_birth = 0;             ///< µm²
  double k = 1;                   ///< stiffness
  Morph morph = Morph::kInterphase;
  int morph_t = 0, morph_len = 0;
  int onset = -1;                 ///< recorded frame at which the current morph became visible
  double expression = 1, ecc = 0, theta = 0, nuc_scale = 1;
  std::uint32_t tex = 0;
  double nuc_area = 0;            ///< smoothed nuclear area, µm²
  double division_angle = 0;
  bool wrapped = false;
  double vx = 0, vy = 0;          ///< persistent migration velocity (µm/h, Ornstein-Uhlenbeck)
  // per-frame measurements
  double radius = 0, area = 0, compression = 0, comp_ema = 0, density = 0, hazard = 0, speed = 1;
  double own_ema = 0;              ///< average compression against the cell's own target area (contact inhibition)
  double wt_ema = 0;
  int nwt = 0, nscrib = 0;
};

double logistic(double z) { return 1.0 / (1.0 + std::exp(-z)); }

class Model {
 public:
  Model(const SimConfig& cfg, std::uint64_t seed, int fov) : cfg_(cfg), rng_(seed) {
    hist_.fov = fov;
    hist_.seed = seed;
    hist_.width = cfg.fov_width_px;
    hist_.height = cfg.fov_height_px;
    hist_.pixel_size_um = cfg.pixel_size_um;
    lx_ = cfg.fov_width_px * cfg.pixel_size_um;
    ly_ = cfg.fov_height_px * cfg.pixel_size_um;
    frame_h_ = cfg.frame_interval_min / 60.0;
    a_base_ = M_PI * 0.25 * cfg.cell_diameter_um * cfg.cell_diameter_um;
    const double a_nuc = M_PI * 0.25 * cfg.nuclear_diameter_um * cfg.nuclear_diameter_um;
    nuc_ratio_ = a_nuc / (a_base_ * (1.0 + 0.5 * cfg.growth));
    typical_reference_ = cfg.compression_reference == "typical";
    arrest_ = planted_causes(cfg).arrest;
    hist_.tracks.source = "simulate fov " + std::to_string(fov) + " world " + cfg.world;
  }

  FovHistory run() {
    seed_cells();
    hist_.frames.reserve(static_cast<std::size_t>(cfg_.frames));
    for (int f = -cfg_.burn_in_frames; f < cfg_.frames; ++f) {
      for (int s = 0; s < cfg_.substeps; ++s) mechanics(frame_h_ / cfg_.substeps);
      handle_wraps(f);
      measure();
      if (f >= 0) record(f);
      fates(f);
    }
    // Live cells at the end: censored.
    for (const Cell& c : cells_) close_track(c.track_id, cfg_.frames - 1, Fate::kCensored, -1);
    finish_tracks();
    return std::move(hist_);
  }

 private:
  // ---- set-up -----------------------------------------------------------------------------
  double lognormal(double cv) {
    const double s = std::sqrt(std::log(1 + cv * cv));
    return std::exp(rng_.normal() * s - 0.5 * s * s);
  }
  double cycle_rate() { return 1.0 / (cfg_.cycle_hours * lognormal(cfg_.cycle_cv)); }

  Cell new_cell(CellType type) {
    Cell c;
    c.track_id = next_id_++;
    c.type = type;
    c.a_birth = a_base_ * lognormal(0.08);
    c.k = type == CellType::kWildType ? cfg_.wt_stiffness : 1.0;
    c.rate = cycle_rate();
    c.expression = lognormal(cfg_.expression_cv);
    c.ecc = rng_.uniform(0.0, cfg_.eccentricity_max);
    c.theta = rng_.uniform(0.0, M_PI);
    c.nuc_scale = lognormal(cfg_.nuclear_size_cv);
    c.tex = static_cast<std::uint32_t>(rng_.engine()() >> 32);
    return c;
  }

  void seed_cells() {
    const double n_target = cfg_.initial_density_per_mm2 * lx_ * ly_ * 1e-6;
    int ny = std::max(2, static_cast<int>(std::round(std::sqrt(n_target * ly_ / lx_ * 2 / std::sqrt(3.0)))));
    if (ny % 2) ++ny;
    const int nx = std::max(2, static_cast<int>(std::round(n_target / ny)));
    const double sx = lx_ / nx, sy = ly_ / ny;
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const bool scrib = rng_.uniform() < cfg_.scrib_fraction;
        Cell c = new_cell(scrib ? CellType::kScrib : CellType::kWildType);
        c.x = wrapx((i + 0.5 * (j % 2)) * sx + rng_.normal(0, 0.15 * sx));
        c.y = wrapy(j * sy + rng_.normal(0, 0.15 * sy));
        c.phase = rng_.uniform();
        cells_.push_back(c);
      }
    for (Cell& c : cells_) c.nuc_area = nuc_ratio_ * target_area(c) * c.nuc_scale;
  }

  // ---- geometry -----------------------------------------------------------------------------
  double wrapx(double x) const { x = std::fmod(x, lx_); return x < 0 ? x + lx_ : x; }
  double wrapy(double y) const { y = std::fmod(y, ly_); return y < 0 ? y + ly_ : y; }
  static double dmin(double d, double l) {
    if (d > 0.5 * l) return d - l;
    if (d < -0.5 * l) return d + l;
    return d;
  }
  /// Growth of the target area through the cycle: 1 at birth, 1 + growth at mitosis.
  double cycle_growth(const Cell& c) const { return 1.0 + cfg_.growth * std::min(c.phase, 1.0); }
  double target_area(const Cell& c) const {
    double a = c.a_birth * cycle_growth(c);
    if (c.morph == Morph::kApoptosis) {
      const double p = (c.morph_t + 1.0) / c.morph_len;
      a *= (1.0 - 0.6 * p) * (1.0 - 0.6 * p);
    }
    return a;
  }

  /// The area compression is measured against (SimConfig::compression_reference).
  double reference_area(const Cell& c) const {
    return typical_reference_ ? a_base_ * cycle_growth(c) : target_area(c);
  }

  /// Periodic bins of side >= cutoff: bin_cells_ sorted by bin.
  void build_bins(double cutoff) {
    nbx_ = std::max(3, static_cast<int>(lx_ / cutoff));
    nby_ = std::max(3, static_cast<int>(ly_ / cutoff));
    bin_start_.assign(static_cast<std::size_t>(nbx_ * nby_ + 1), 0);
    cell_bin_.resize(cells_.size());
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      const int bx = std::min(nbx_ - 1, static_cast<int>(cells_[i].x / lx_ * nbx_));
      const int by = std::min(nby_ - 1, static_cast<int>(cells_[i].y / ly_ * nby_));
      cell_bin_[i] = by * nbx_ + bx;
      ++bin_start_[static_cast<std::size_t>(cell_bin_[i] + 1)];
    }
    for (std::size_t b = 1; b < bin_start_.size(); ++b) bin_start_[b] += bin_start_[b - 1];
    bin_cells_.resize(cells_.size());
    std::vector<int> fill(bin_start_.begin(), bin_start_.end() - 1);
    for (std::size_t i = 0; i < cells_.size(); ++i) bin_cells_[static_cast<std::size_t>(fill[cell_bin_[i]]++)] = static_cast<int>(i);
  }

  /// Calls fn(j, dx, dy, squared distance) for every other cell within `reach` bins (minimal image), once per cell.
  template <class Fn>
  void for_neighbours(std::size_t i, int reach, Fn&& fn) const {
    const int b = cell_bin_[i];
    const int bx = b % nbx_, by = b / nbx_;
    const int rx = std::min(reach, (nbx_ - 1) / 2), ry = std::min(reach, (nby_ - 1) / 2);
    for (int oy = -ry; oy <= ry; ++oy)
      for (int ox = -rx; ox <= rx; ++ox) {
        const int nb = ((by + oy + nby_) % nby_) * nbx_ + (bx + ox + nbx_) % nbx_;
        for (int k = bin_start_[static_cast<std::size_t>(nb)]; k < bin_start_[static_cast<std::size_t>(nb + 1)]; ++k) {
          const std::size_t j = static_cast<std::size_t>(bin_cells_[static_cast<std::size_t>(k)]);
          if (j == i) continue;
          const double dx = dmin(cells_[j].x - cells_[i].x, lx_);
          const double dy = dmin(cells_[j].y - cells_[i].y, ly_);
          fn(j, dx, dy, dx * dx + dy * dy);
        }
      }
  }

  void update_radii() {
    max_r_ = 0;
    for (Cell& c : cells_) {
      c.radius = std::sqrt(target_area(c) / M_PI);
      max_r_ = std::max(max_r_, c.radius);
    }
  }

  // ---- mechanics: overdamped soft discs with motility noise --------------------------------
  void mechanics(double dt) {
    update_radii();
    build_bins(2 * max_r_ + 1e-6);
    std::vector<double> fx(cells_.size(), 0.0), fy(cells_.size(), 0.0);
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      const Cell& ci = cells_[i];
      for_neighbours(i, 1, [&](std::size_t j, double dx, double dy, double d2) {
        const double rr = ci.radius + cells_[j].radius;
        if (d2 >= rr * rr || d2 <= 1e-18) return;
        const double d = std::sqrt(d2);
        const double ov = rr - d;
        const double keff = 2 * ci.k * cells_[j].k / (ci.k + cells_[j].k);
        fx[i] -= keff * ov * dx / d;
        fy[i] -= keff * ov * dy / d;
      });
    }
    const double noise = cfg_.motility_um * std::sqrt(dt);
    // Persistent migration: velocity relaxes with the persistence time and is kicked by noise
    // so that its stationary RMS per axis is migration_speed (exact OU update).
    const double tp = cfg_.persistence_h, vs = cfg_.migration_speed_um_h;
    const double decay = tp > 0 ? std::exp(-dt / tp) : 0.0, kick = vs * std::sqrt(1 - decay * decay);
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      Cell& c = cells_[i];
      if (vs > 0) {
        c.vx = decay * c.vx + kick * rng_.normal();
        c.vy = decay * c.vy + kick * rng_.normal();
      }
      double mx = cfg_.mobility * dt * fx[i] + noise * rng_.normal() + c.vx * dt;
      double my = cfg_.mobility * dt * fy[i] + noise * rng_.normal() + c.vy * dt;
      const double cap = 0.5 * c.radius;  // numerical safety after divisions
      const double m = std::sqrt(mx * mx + my * my);
      if (m > cap) { mx *= cap / m; my *= cap / m; }
      const double nx = c.x + mx, ny = c.y + my;
      if (nx < 0 || nx >= lx_ || ny < 0 || ny >= ly_) c.wrapped = true;
      c.x = wrapx(nx);
      c.y = wrapy(ny);
      if (c.x >= lx_) c.x = 0;
      if (c.y >= ly_) c.y = 0;
    }
  }

  // ---- measurements: available area, compression, contacts, density -------------------
  void measure() {
    update_radii();
    const double cutoff = std::max(2 * max_r_, kDensityRadiusUm) + 1e-6;
    build_bins(2 * max_r_ + 1e-6);
    const int reach = static_cast<int>(std::ceil(cutoff / std::min(lx_ / nbx_, ly_ / nby_)));
    const double ema_c = 1.0 - std::exp(-1.0 / cfg_.hazard_memory_frames);
    static const auto rays = [] {
      std::array<std::pair<double, double>, kRays> r{};
      for (int k = 0; k < kRays; ++k) r[k] = {std::cos(2 * M_PI * k / kRays), std::sin(2 * M_PI * k / kRays)};
      return r;
    }();
    const double dens_r2 = kDensityRadiusUm * kDensityRadiusUm;
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      Cell& c = cells_[i];
      double ext[kRays];
      std::int64_t owner[kRays];
      for (double& e : ext) e = c.radius;
      for (auto& o : owner) o = -1;
      int nwt = 0, nscrib = 0;
      double wdens = 1;  // smooth kernel (1 - d²/R²)², self included
      for_neighbours(i, reach, [&](std::size_t j, double dx, double dy, double d2) {
        const Cell& o = cells_[j];
        if (d2 < dens_r2) { const double q = 1 - d2 / dens_r2; wdens += q * q; }
        const double rr = c.radius + o.radius;
        if (d2 >= rr * rr || d2 <= 1e-18) return;
        const double d = std::sqrt(d2);
        const double ov = rr - d;
        // Boundary plane: each cell yields overlap in proportion to the other's stiffness.
        const double p = std::max(0.2 * c.radius, c.radius - ov * o.k / (c.k + o.k));
        const double ux = dx / d, uy = dy / d;
        for (int r = 0; r < kRays; ++r) {
          const double dn = rays[r].first * ux + rays[r].second * uy;
          if (dn > 1e-6 && p < ext[r] * dn) { ext[r] = p / dn; owner[r] = static_cast<std::int64_t>(j); }
        }
      });
      // Neighbours in contact = cells that bound the available area (share an edge of the
      // Voronoi-like polygon), not merely overlapping discs: counts do not grow with size.
      std::sort(owner, owner + kRays);
      for (int r = 0; r < kRays; ++r) {
        if (owner[r] < 0 || (r > 0 && owner[r] == owner[r - 1])) continue;
        if (cells_[static_cast<std::size_t>(owner[r])].type == CellType::kWildType) ++nwt; else ++nscrib;
      }
      double area = 0;
      for (double e : ext) area += 0.5 * e * e * (2 * M_PI / kRays);
      c.area = area;
      c.compression = std::clamp(1.0 - area / reference_area(c), 0.0, 0.999);
      const double own = typical_reference_ ? std::clamp(1.0 - area / target_area(c), 0.0, 0.999) : c.compression;
      c.density = wdens / (M_PI * kDensityRadiusUm * kDensityRadiusUm / 3) * 1e6;  // kernel integral pi R²/3
      c.nwt = nwt;
      c.nscrib = nscrib;
      if (first_measure_) { c.comp_ema = c.compression; c.own_ema = own; c.wt_ema = nwt; }
      c.comp_ema += ema_c * (c.compression - c.comp_ema);
      c.own_ema += ema_c * (own - c.own_ema);
      c.wt_ema += ema_c * (nwt - c.wt_ema);
      c.hazard = apoptosis_hazard(cfg_, c.type, c.comp_ema, c.wt_ema);
      const double stall = c.type == CellType::kWildType ? cfg_.wt_stall_compression : cfg_.scrib_stall_compression;
      // Contact inhibition reads the cell's own compression whatever the cause reads.
      // Where compression kills it also arrests the cycle (planted_causes().arrest).
      c.speed = std::clamp((stall - c.own_ema) / (0.5 * stall), 0.0, 1.0) *
                (arrest_ > 0 ? 1.0 - arrest_ * cause_activation(cfg_, c.type, c.comp_ema, c.wt_ema).compression : 1.0);
      if (c.morph == Morph::kInterphase) {
        const double nuc_target = nuc_ratio_ * area * c.nuc_scale;
        c.nuc_area += (1.0 - std::exp(-1.0 / 3.0)) * (nuc_target - c.nuc_area);
      }
    }
    first_measure_ = false;
  }

  // ---- tracks ----------------------------------------------------------------------------------
  void open_track(const Cell& c, int f) {
    Track t;
    t.id = c.track_id;
    t.start = f;
    t.end = f;
    t.parent = c.parent_track;
    t.type = c.type;
    open_[c.track_id] = t;
  }
  void close_track(std::int64_t id, int end, Fate fate, int onset) {
    auto it = open_.find(id);
    if (it == open_.end()) return;
    Track t = it->second;
    open_.erase(it);
    if (end < t.start) return;  // never recorded
    t.end = end;
    t.fate = fate;
    const bool event = fate == Fate::kMitosis || fate == Fate::kApoptosis;
    t.event_onset = event ? std::clamp(onset, t.start, t.end) : -1;
    hist_.tracks.tracks.push_back(t);
  }
  void finish_tracks() {
    auto& tr = hist_.tracks.tracks;
    std::sort(tr.begin(), tr.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
    auto& pts = hist_.tracks.points;
    std::sort(pts.begin(), pts.end(), [](const TrackPoint& a, const TrackPoint& b) {
      return a.track_id != b.track_id ? a.track_id < b.track_id : a.t < b.t;
    });
  }

  void handle_wraps(int f) {
    for (Cell& c : cells_) {
      if (!c.wrapped) continue;
      c.wrapped = false;
      // The cell left the field on one side and a new one entered on the other: a tracker
      // ends the track (left field) and starts a new, parentless one.
      if (f >= 0) close_track(c.track_id, f - 1, Fate::kLeftField, -1);
      c.track_id = next_id_++;
      c.parent_track = 0;
      if (c.morph != Morph::kInterphase) c.onset = std::max(c.onset, f);
    }
  }

  void record(int f) {
    std::vector<CellSnap> snaps;
    snaps.reserve(cells_.size());
    const double px = cfg_.pixel_size_um;
    for (const Cell& c : cells_) {
      if (!open_.count(c.track_id)) open_track(c, f);
      CellSnap s;
      s.track_id = c.track_id;
      s.type = c.type;
      s.morph = c.morph;
      s.morph_progress = c.morph == Morph::kInterphase ? 0.f : static_cast<float>((c.morph_t + 0.5) / c.morph_len);
      s.x = static_cast<float>(c.x / px);
      s.y = static_cast<float>(c.y / px);
      if (s.x >= hist_.width) s.x = 0;
      if (s.y >= hist_.height) s.y = 0;
      const double q = std::sqrt(1 - c.ecc * c.ecc);  // b / a
      const double a = std::sqrt(c.nuc_area / (M_PI * q));
      s.nuc_a = static_cast<float>(a / px);
      s.nuc_b = static_cast<float>(a * q / px);
      s.theta = static_cast<float>(c.theta);
      s.expression = static_cast<float>(c.expression);
      s.division_angle = static_cast<float>(c.division_angle);
      s.texture_seed = c.tex;
      s.area_um2 = static_cast<float>(c.area);
      s.target_area_um2 = static_cast<float>(target_area(c));
      s.compression = static_cast<float>(c.compression);
      s.local_density = static_cast<float>(c.density);
      s.nuclear_area_um2 = static_cast<float>(c.nuc_area);
      s.hazard_apoptosis = static_cast<float>(c.hazard);
      s.cycle_speed = static_cast<float>(c.speed);
      s.phase = static_cast<float>(std::min(c.phase, 1.0));
      s.wt_neighbours = static_cast<std::int16_t>(c.nwt);
      s.scrib_neighbours = static_cast<std::int16_t>(c.nscrib);
      snaps.push_back(s);
      TrackPoint p;
      p.track_id = c.track_id;
      p.t = f;
      p.x = s.x;
      p.y = s.y;
      p.parent = open_[c.track_id].parent;
      p.label = static_cast<std::uint32_t>(c.track_id);
      hist_.tracks.points.push_back(p);
    }
    std::sort(snaps.begin(), snaps.end(), [](const CellSnap& a, const CellSnap& b) { return a.track_id < b.track_id; });
    hist_.frames.push_back(std::move(snaps));
  }

  // ---- fates: cycle clock + contact inhibition, planted apoptosis hazard ---------------------
  void fates(int f) {
    std::vector<Cell> next;
    next.reserve(cells_.size() + 16);
    for (Cell& c : cells_) {
      if (c.morph != Morph::kInterphase) {
        if (++c.morph_t < c.morph_len) { next.push_back(c); continue; }
        if (c.morph == Morph::kApoptosis) {
          if (f >= 0) close_track(c.track_id, f, Fate::kApoptosis, c.onset);
          continue;
        }
        // Mitosis complete: two daughters side by side along the division axis.
        if (f >= 0) close_track(c.track_id, f, Fate::kMitosis, c.onset);
        const std::int64_t parent = (f >= 0) ? c.track_id : 0;
        const double r = std::sqrt(c.a_birth / M_PI);
        for (int k = 0; k < 2; ++k) {
          Cell d = new_cell(c.type);
          d.parent_track = parent;
          const double sgn = k == 0 ? -1.0 : 1.0;
          d.x = wrapx(c.x + sgn * 0.35 * r * std::cos(c.division_angle));
          d.y = wrapy(c.y + sgn * 0.35 * r * std::sin(c.division_angle));
          d.expression = c.expression * lognormal(0.05);
          d.theta = c.division_angle + M_PI / 2 + rng_.normal(0, 0.2);
          d.nuc_area = nuc_ratio_ * d.a_birth * 0.8 * d.nuc_scale;
          // Daughters crawl apart along the division axis (then their migration decorrelates).
          d.vx = sgn * cfg_.daughter_speed_um_h * std::cos(c.division_angle);
          d.vy = sgn * cfg_.daughter_speed_um_h * std::sin(c.division_angle);
          d.comp_ema = c.comp_ema;
          d.own_ema = c.own_ema;
          d.wt_ema = c.wt_ema;
          next.push_back(d);
        }
        continue;
      }
      // Cells become competent to die a few hours into the cycle (no apoptosis right after
      // division, when the sister is still the nearest neighbour).
      const double h_eff = c.phase >= cfg_.apoptosis_min_phase ? c.hazard : 0.0;
      const double p_die = 1.0 - std::exp(-h_eff * frame_h_);
      if (rng_.uniform() < p_die) {
        c.morph = Morph::kApoptosis;
        c.morph_t = 0;
        c.morph_len = cfg_.apoptosis_frames;
        c.onset = f + 1;
        next.push_back(c);
        continue;
      }
      c.phase += frame_h_ * c.rate * c.speed;
      if (c.phase >= 1.0) {
        c.phase = 1.0;
        c.morph = Morph::kMitosis;
        c.morph_t = 0;
        c.morph_len = cfg_.mitosis_frames;
        c.onset = f + 1;
        c.division_angle = rng_.uniform(0.0, M_PI);
      }
      next.push_back(c);
    }
    cells_.swap(next);
  }

  const SimConfig& cfg_;
  Rng rng_;
  FovHistory hist_;
  std::vector<Cell> cells_;
  std::map<std::int64_t, Track> open_;
  std::int64_t next_id_ = 1;
  double lx_ = 0, ly_ = 0, frame_h_ = 0, a_base_ = 0, nuc_ratio_ = 0, max_r_ = 0;
  bool first_measure_ = true;
  bool typical_reference_ = false;  ///< compression against a typical cell's target area
  double arrest_ = 0;               ///< cycle arrest at full compression activation (0 = none)
  int nbx_ = 3, nby_ = 3;
  std::vector<int> bin_start_, bin_cells_, cell_bin_;
};

}  // namespace

CauseAmplitudes cause_amplitudes(const SimConfig& cfg) {
  CauseAmplitudes a;
  if (cfg.world == "mechanical") a.compression_per_h = cfg.mech_hazard_max_per_h;
  if (cfg.world == "contact") a.wt_contact_per_h = cfg.contact_hazard_max_per_h;
  if (cfg.world == "both") {
    a.compression_per_h = cfg.both_mech_hazard_max_per_h;
    a.wt_contact_per_h = cfg.both_contact_hazard_max_per_h;
  }
  return a;
}

CauseActivation cause_activation(const SimConfig& cfg, CellType type, double compression, double wt_neighbours) {
  CauseActivation a;
  if (type != CellType::kScrib) return a;
  a.compression = logistic((compression - cfg.mech_compression_half) / cfg.mech_compression_width);
  a.wt_contact = logistic((wt_neighbours - cfg.contact_wt_half) / cfg.contact_wt_width);
  return a;
}

double apoptosis_hazard(const SimConfig& cfg, CellType type, double compression, double wt_neighbours) {
  if (type != CellType::kScrib) return cfg.wt_apoptosis_per_h;
  if (cfg.world == "neutral") return cfg.neutral_apoptosis_per_h;
  const CauseAmplitudes amp = cause_amplitudes(cfg);
  const CauseActivation a = cause_activation(cfg, type, compression, wt_neighbours);
  double h = cfg.scrib_base_apoptosis_per_h;
  if (amp.compression_per_h > 0) h += amp.compression_per_h * a.compression;
  if (amp.wt_contact_per_h > 0) h += amp.wt_contact_per_h * a.wt_contact;
  return h;
}

PlantedCauses planted_causes(const SimConfig& cfg) {
  cfg.validate();
  const CauseAmplitudes amp = cause_amplitudes(cfg);
  PlantedCauses p;
  // Amplitudes are >= 0 and the logistics increase with their cause: a planted cause always
  // raises the hazard.
  if (amp.compression_per_h > 0) p.compression = {true, +1};
  if (amp.wt_contact_per_h > 0) p.wt_contact = {true, +1};
  p.arrest = p.compression.planted ? cfg.mech_arrest : 0.0;
  return p;
}

PlantedCauses planted_causes(const std::string& world) {
  SimConfig cfg;
  cfg.world = world;
  return planted_causes(cfg);
}

const CellSnap* FovHistory::find(std::int64_t track_id, int t) const {
  if (t < 0 || t >= static_cast<int>(frames.size())) return nullptr;
  const auto& v = frames[static_cast<std::size_t>(t)];
  auto it = std::lower_bound(v.begin(), v.end(), track_id,
                             [](const CellSnap& s, std::int64_t id) { return s.track_id < id; });
  return (it != v.end() && it->track_id == track_id) ? &*it : nullptr;
}

FovHistory simulate_fov(const SimConfig& cfg, std::uint64_t seed, int fov) {
  cfg.validate();
  Model m(cfg, derive_seed(seed, static_cast<std::uint64_t>(fov)), fov);
  return m.run();
}

}  // namespace taupe
