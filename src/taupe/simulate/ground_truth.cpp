#include "taupe/simulate/ground_truth.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/dataset/h5file.h"

namespace taupe {

void write_ground_truth(const std::filesystem::path& path, const FovHistory& h) {
  std::size_t n = 0;
  for (const auto& f : h.frames) n += f.size();
  std::vector<std::int32_t> t;
  std::vector<std::int64_t> track;
  std::vector<std::int8_t> type, morph;
  std::vector<std::int16_t> nwt, nscrib;
  std::vector<float> cols[12];
  const char* names[12] = {"x", "y", "area_um2", "target_area_um2", "compression", "local_density",
                           "nuclear_area_um2", "hazard_apoptosis", "cycle_speed", "phase", "morph_progress",
                           "expression"};
  t.reserve(n); track.reserve(n); type.reserve(n); morph.reserve(n); nwt.reserve(n); nscrib.reserve(n);
  for (auto& c : cols) c.reserve(n);
  for (std::size_t f = 0; f < h.frames.size(); ++f)
    for (const CellSnap& s : h.frames[f]) {
      t.push_back(static_cast<std::int32_t>(f));
      track.push_back(s.track_id);
      type.push_back(static_cast<std::int8_t>(s.type));
      morph.push_back(static_cast<std::int8_t>(s.morph));
      nwt.push_back(s.wt_neighbours);
      nscrib.push_back(s.scrib_neighbours);
      const float v[12] = {s.x, s.y, s.area_um2, s.target_area_um2, s.compression, s.local_density,
                           s.nuclear_area_um2, s.hazard_apoptosis, s.cycle_speed, s.phase, s.morph_progress,
                           s.expression};
      for (int k = 0; k < 12; ++k) cols[k].push_back(v[k]);
    }
  write_atomic(path, [&](const std::filesystem::path& tmp) {
    H5::H5File file = h5::create(tmp, h5::FormatTag{"taupe.ground_truth", 1});
    h5::write_attr(file, "fov", h.fov);
    h5::write_attr(file, "width", h.width);
    h5::write_attr(file, "height", h.height);
    h5::write_attr(file, "pixel_size_um", h.pixel_size_um);
    h5::write_attr(file, "seed", static_cast<std::int64_t>(h.seed & 0x7fffffffffffffffull));
    h5::write_attr(file, "source", h.tracks.source);
    const std::vector<hsize_t> shape{n};
    h5::write(file, "t", t, shape);
    h5::write(file, "track_id", track, shape);
    h5::write(file, "type", type, shape);
    h5::write(file, "morph", morph, shape);
    h5::write(file, "wt_neighbours", nwt, shape);
    h5::write(file, "scrib_neighbours", nscrib, shape);
    for (int k = 0; k < 12; ++k) h5::write(file, names[k], cols[k], shape);
  });
}

std::vector<TrajectoryStat> trajectory_stats(const FovHistory& h, const ExtractConfig& ex, int window) {
  std::vector<TrajectoryStat> out;
  for (const GlimpsePlan& p : plan_glimpses(h.tracks, ex)) {
    TrajectoryStat s;
    s.fov = h.fov;
    s.track_id = p.track_id;
    s.fate = p.fate;
    s.cutoff = p.cutoff;
    for (int t = std::max(p.first, p.cutoff - window + 1); t <= p.cutoff; ++t) {
      const CellSnap* c = h.find(p.track_id, t);
      if (!c) continue;
      ++s.frames;
      s.compression += c->compression;
      s.wt_neighbours += c->wt_neighbours;
      s.scrib_neighbours += c->scrib_neighbours;
      s.local_density += c->local_density;
      s.nuclear_area_um2 += c->nuclear_area_um2;
    }
    if (s.frames == 0) continue;
    const double k = 1.0 / s.frames;
    s.compression *= k; s.wt_neighbours *= k; s.scrib_neighbours *= k; s.local_density *= k;
    s.nuclear_area_um2 *= k;
    out.push_back(s);
  }
  return out;
}

namespace {
std::vector<double> zscore(std::vector<double> v) {
  const double m = stats::mean(v), s = stats::sd(v);
  for (double& x : v) x = s > 0 ? (x - m) / s : 0.0;
  return v;
}
}  // namespace

WorldStats world_stats(const std::vector<const FovHistory*>& fovs, const ExtractConfig& ex, double frame_interval_min) {
  WorldStats w;
  std::vector<double> comp, wt, small_nucleus;
  std::vector<bool> apo;
  std::vector<double> area, dens;
  double scrib_first = 0, all_first = 0, scrib_last = 0, all_last = 0, scrib_frames = 0, scrib_deaths = 0;
  for (const FovHistory* h : fovs) {
    for (const TrajectoryStat& s : trajectory_stats(*h, ex)) {
      comp.push_back(s.compression);
      wt.push_back(s.wt_neighbours);
      small_nucleus.push_back(-s.nuclear_area_um2);
      apo.push_back(s.fate == Fate::kApoptosis);
      if (s.fate == Fate::kApoptosis) ++w.apoptosis; else ++w.mitosis;
    }
    for (std::size_t f = 0; f < h->frames.size(); f += 5)
      for (std::size_t i = 0; i < h->frames[f].size(); i += 3) {
        const CellSnap& c = h->frames[f][i];
        if (c.morph != Morph::kInterphase) continue;
        area.push_back(c.nuclear_area_um2);
        dens.push_back(c.local_density);
      }
    if (!h->frames.empty()) {
      for (const CellSnap& c : h->frames.front()) { all_first += 1; scrib_first += c.type == CellType::kScrib; }
      for (const CellSnap& c : h->frames.back()) { all_last += 1; scrib_last += c.type == CellType::kScrib; }
    }
    for (const auto& f : h->frames)
      for (const CellSnap& c : f) scrib_frames += c.type == CellType::kScrib;
    for (const Track& t : h->tracks.tracks)
      scrib_deaths += (t.type == CellType::kScrib && t.fate == Fate::kApoptosis);
  }
  w.auc_compression = stats::auc(comp, apo);
  w.auc_wt = stats::auc(wt, apo);
  w.auc_small_nucleus = stats::auc(small_nucleus, apo);
  if (w.mitosis > 2 && w.apoptosis > 2) {
    try {
      w.logit = stats::logistic_regression({zscore(comp), zscore(wt)}, apo);
    } catch (const std::exception&) {
    }
  }
  w.spearman_area_density = stats::spearman(area, dens);
  w.scrib_fraction_first = all_first > 0 ? scrib_first / all_first : 0;
  w.scrib_fraction_last = all_last > 0 ? scrib_last / all_last : 0;
  w.scrib_apoptosis_per_h = scrib_frames > 0 ? scrib_deaths / (scrib_frames * frame_interval_min / 60.0) : 0;
  return w;
}

std::string WorldStats::brief() const {
  std::ostringstream s;
  s.precision(3);
  const double n = static_cast<double>(mitosis + apoptosis);
  s << "labelled " << (mitosis + apoptosis) << " (mitosis " << mitosis << " = " << (n > 0 ? 100 * mitosis / n : 0)
    << "%, apoptosis " << apoptosis << ")  AUC compression " << auc_compression << "  AUC WT-contact " << auc_wt
    << "  AUC smaller nucleus " << auc_small_nucleus;
  if (logit.coef.size() == 3)
    s << "  logit z(compression) " << logit.coef[1] << " [" << logit.ci_lo[1] << ", " << logit.ci_hi[1]
      << "]  z(WT) " << logit.coef[2] << " [" << logit.ci_lo[2] << ", " << logit.ci_hi[2] << "]";
  s << "  rho(area, density) " << spearman_area_density << "  scrib fraction " << scrib_fraction_first << " -> "
    << scrib_fraction_last << "  scrib apoptosis/h " << scrib_apoptosis_per_h;
  return s.str();
}

}  // namespace taupe
