#include "taupe/dataset/extract.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>

#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/rng.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/track_labels.h"
#include "taupe/simulate/artifacts.h"

namespace taupe {

// ---- movie source ------------------------------------------------------------------------------
struct MovieWindowSource::Impl {
  MovieReader reader;
  int capacity;
  std::unordered_map<int, MovieFrame> cache;
  std::deque<int> order;
  Impl(const std::filesystem::path& p, int cap) : reader(p), capacity(cap) {}
  const MovieFrame& frame(int t) {
    auto it = cache.find(t);
    if (it != cache.end()) return it->second;
    if (t < 0 || t >= reader.info().frames)
      throw DataError(reader.path().string() + ": frame " + std::to_string(t) + " requested, movie has " +
                      std::to_string(reader.info().frames) + " frames");
    if (static_cast<int>(order.size()) >= capacity) {
      cache.erase(order.front());
      order.pop_front();
    }
    order.push_back(t);
    return cache.emplace(t, reader.read(t)).first->second;
  }
};

MovieWindowSource::MovieWindowSource(const std::filesystem::path& movie, int cache_frames)
    : impl_(std::make_unique<Impl>(movie, std::max(1, cache_frames))) {
  if (impl_->reader.info().channels != kGlimpseChannels)
    throw DataError(movie.string() + ": movie has " + std::to_string(impl_->reader.info().channels) +
                    " channels; extraction needs 2 (GFP, RFP)");
}
MovieWindowSource::~MovieWindowSource() = default;
int MovieWindowSource::width() const { return impl_->reader.info().width; }
int MovieWindowSource::height() const { return impl_->reader.info().height; }
double MovieWindowSource::pixel_size_um() const { return impl_->reader.info().pixel_size_um; }
int MovieWindowSource::frames() const { return impl_->reader.info().frames; }

void MovieWindowSource::window(int t, int x0, int y0, int w, int h, ImageWindow& out) {
  const MovieFrame& f = impl_->frame(t);
  const int W = width(), H = height();
  out.x0 = x0; out.y0 = y0; out.w = w; out.h = h;
  out.images.resize(static_cast<std::size_t>(2 * w * h));
  out.labels.resize(static_cast<std::size_t>(w * h));
  out.label_types.clear();
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < h; ++y)
      std::copy_n(f.images.begin() + (static_cast<std::ptrdiff_t>(c) * H + y0 + y) * W + x0, w,
                  out.images.begin() + (static_cast<std::ptrdiff_t>(c) * h + y) * w);
  for (int y = 0; y < h; ++y)
    std::copy_n(f.labels.begin() + static_cast<std::ptrdiff_t>(y0 + y) * W + x0, w,
                out.labels.begin() + static_cast<std::ptrdiff_t>(y) * w);
  for (std::uint32_t l : out.labels)
    if (l) {
      auto it = f.label_types.find(l);
      out.label_types[l] = it == f.label_types.end() ? CellType::kUnknown : it->second;
    }
}

// ---- crop ------------------------------------------------------------------------------------------
namespace {
int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/// The field pixels a glimpse centred at (cx, cy) covers: output pixel (i, j) interpolates
/// between columns xa + j, xa + j + 1 and rows ya + i, ya + i + 1 (reflected at the field's
/// edges); the window read is that span clamped to the field.
struct CropSpan {
  double half = 0.5 * (kGlimpseSize - 1);  // 31.5
  int xa = 0, xb = 0, ya = 0, yb = 0;      ///< first and last field columns / rows (unclamped)
  int wx0 = 0, wx1 = 0, wy0 = 0, wy1 = 0;  ///< the window: the span clamped to the field
};

CropSpan crop_span(double cx, double cy, int W, int H) {
  CropSpan c;
  c.xa = static_cast<int>(std::floor(cx - c.half));
  c.xb = static_cast<int>(std::floor(cx + c.half)) + 1;
  c.ya = static_cast<int>(std::floor(cy - c.half));
  c.yb = static_cast<int>(std::floor(cy + c.half)) + 1;
  c.wx0 = std::clamp(c.xa, 0, W - 1);
  c.wx1 = std::clamp(c.xb, 0, W - 1);
  c.wy0 = std::clamp(c.ya, 0, H - 1);
  c.wy1 = std::clamp(c.yb, 0, H - 1);
  return c;
}

/// Window columns / rows of every output pixel's four neighbours and the bilinear weights (the
/// same for every pixel, in float).
struct BilinearSamples {
  std::vector<int> ix0, ix1, iy0, iy1;
  float w00 = 0, w01 = 0, w10 = 0, w11 = 0;
  bool contiguous = true;   ///< ix0[j] == ix0[0] + j and ix1[j] == ix0[j] + 1 for every j
};

BilinearSamples bilinear_samples(const CropSpan& sp, const ImageWindow& win, double cx, double cy, int W, int H) {
  constexpr int S = kGlimpseSize;
  auto widx = [&](int X, int n, int lo, int len) { return std::clamp(reflect101(X, n) - lo, 0, len - 1); };
  BilinearSamples b;
  b.ix0.resize(S);
  b.ix1.resize(S);
  b.iy0.resize(S);
  b.iy1.resize(S);
  for (int j = 0; j < S; ++j) {
    b.ix0[j] = widx(sp.xa + j, W, sp.wx0, win.w);
    b.ix1[j] = widx(sp.xa + j + 1, W, sp.wx0, win.w);
  }
  for (int i = 0; i < S; ++i) {
    b.iy0[i] = widx(sp.ya + i, H, sp.wy0, win.h);
    b.iy1[i] = widx(sp.ya + i + 1, H, sp.wy0, win.h);
  }
  const double fx = (cx - sp.half) - sp.xa, fy = (cy - sp.half) - sp.ya;
  b.w00 = static_cast<float>((1 - fx) * (1 - fy));
  b.w01 = static_cast<float>(fx * (1 - fy));
  b.w10 = static_cast<float>((1 - fx) * fy);
  b.w11 = static_cast<float>(fx * fy);
  for (int j = 0; j < S && b.contiguous; ++j) b.contiguous = b.ix0[j] == b.ix0[0] + j && b.ix1[j] == b.ix0[j] + 1;
  return b;
}

/// Bilinear resampling of both channels (value = floor(v + 0.5), v >= 0); the interior, where
/// the source columns are contiguous, runs as a plain vectorisable loop.
void interpolate_images(const ImageWindow& win, const BilinearSamples& b, std::vector<std::uint16_t>& images) {
  constexpr int S = kGlimpseSize;
  const float w00 = b.w00, w01 = b.w01, w10 = b.w10, w11 = b.w11;
  for (int c = 0; c < 2; ++c) {
    const std::uint16_t* im = win.images.data() + static_cast<std::size_t>(c) * win.w * win.h;
    for (int i = 0; i < S; ++i) {
      const std::uint16_t* r0 = im + static_cast<std::size_t>(b.iy0[i]) * win.w;
      const std::uint16_t* r1 = im + static_cast<std::size_t>(b.iy1[i]) * win.w;
      std::uint16_t* o = images.data() + (static_cast<std::size_t>(c) * S + i) * S;
      if (b.contiguous) {
        const std::uint16_t* a = r0 + b.ix0[0];
        const std::uint16_t* bb = r1 + b.ix0[0];
        for (int j = 0; j < S; ++j) {
          const float v = w00 * static_cast<float>(a[j]) + w01 * static_cast<float>(a[j + 1]) +
                          w10 * static_cast<float>(bb[j]) + w11 * static_cast<float>(bb[j + 1]);
          o[j] = static_cast<std::uint16_t>(std::min(65535, static_cast<int>(v + 0.5f)));
        }
      } else {
        for (int j = 0; j < S; ++j) {
          const float v = w00 * static_cast<float>(r0[b.ix0[j]]) + w01 * static_cast<float>(r0[b.ix1[j]]) +
                          w10 * static_cast<float>(r1[b.ix0[j]]) + w11 * static_cast<float>(r1[b.ix1[j]]);
          o[j] = static_cast<std::uint16_t>(std::min(65535, static_cast<int>(v + 0.5f)));
        }
      }
    }
  }
}

/// Masks: nearest pixel, zero outside the image; returns the central cell's pixel count.
int crop_masks(const ImageWindow& win, const CropSpan& sp, double cx, double cy, int W, int H,
               std::uint32_t central_label, std::vector<std::uint8_t>& masks) {
  constexpr int S = kGlimpseSize;
  const double half = sp.half;
  int central = 0;
  std::uint32_t last_label = 0;
  CellType last_type = CellType::kUnknown;
  std::vector<int> mx(S);
  for (int j = 0; j < S; ++j) mx[j] = static_cast<int>(std::floor(cx - half + j + 0.5));
  for (int i = 0; i < S; ++i) {
    const int Y = static_cast<int>(std::floor(cy - half + i + 0.5));
    if (Y < 0 || Y >= H) continue;
    const std::uint32_t* lrow = win.labels.data() + static_cast<std::size_t>(Y - sp.wy0) * win.w;
    for (int j = 0; j < S; ++j) {
      const int X = mx[j];
      if (X < 0 || X >= W) continue;
      const std::uint32_t l = lrow[X - sp.wx0];
      if (!l) continue;
      if (l != last_label) {
        auto it = win.label_types.find(l);
        last_type = it == win.label_types.end() ? CellType::kUnknown : it->second;
        last_label = l;
      }
      const CellType ty = last_type;
      const bool is_c = central_label != 0 && l == central_label;
      central += is_c;
      masks[static_cast<std::size_t>(i) * S + j] = mask_code(ty, is_c);
    }
  }
  return central;
}
}  // namespace

GlimpseCrop crop_glimpse(WindowSource& src, int t, double cx, double cy, std::uint32_t central_label) {
  constexpr int S = kGlimpseSize;
  const int W = src.width(), H = src.height();
  const CropSpan sp = crop_span(cx, cy, W, H);
  ImageWindow win;
  src.window(t, sp.wx0, sp.wy0, sp.wx1 - sp.wx0 + 1, sp.wy1 - sp.wy0 + 1, win);
  GlimpseCrop out;
  out.images.resize(static_cast<std::size_t>(2 * S * S));
  out.masks.assign(static_cast<std::size_t>(S * S), kMaskBackground);
  interpolate_images(win, bilinear_samples(sp, win, cx, cy, W, H), out.images);
  const int central = crop_masks(win, sp, cx, cy, W, H, central_label, out.masks);
  out.central_area_um2 = central * src.pixel_size_um() * src.pixel_size_um();
  return out;
}

// ---- plans ------------------------------------------------------------------------------------------
std::vector<GlimpsePlan> plan_glimpses(const TrackSet& tracks, const ExtractConfig& cfg) {
  std::unordered_map<std::int64_t, std::int64_t> parent_of;
  for (const Track& t : tracks.tracks) parent_of[t.id] = t.parent;
  // Root of a lineage: follow parents until a root (parent 0 or not in the set). TrackSet
  // validation excludes cycles; the step bound keeps a malformed set from looping.
  auto root_of = [&](std::int64_t id) {
    for (std::size_t step = 0; step <= parent_of.size(); ++step) {
      const auto it = parent_of.find(id);
      if (it == parent_of.end() || it->second == 0 || parent_of.count(it->second) == 0) return id;
      id = it->second;
    }
    return id;
  };
  std::vector<GlimpsePlan> out;
  for (const Track& t : tracks.tracks) {
    if (t.fate != Fate::kMitosis && t.fate != Fate::kApoptosis) continue;
    const bool want = cfg.glimpse_types == "both" ||
                      (cfg.glimpse_types == "scrib" && t.type == CellType::kScrib) ||
                      (cfg.glimpse_types == "wt" && t.type == CellType::kWildType);
    if (!want) continue;
    const int onset = t.event_onset >= 0 ? t.event_onset : t.end - cfg.unknown_onset_frames + 1;
    GlimpsePlan p;
    p.track_id = t.id;
    p.lineage = root_of(t.id);
    p.fate = t.fate;
    p.type = t.type;
    p.cutoff = onset - 1 - cfg.lead_frames;
    p.first = std::max(t.start, p.cutoff - cfg.max_frames_before_cutoff + 1);
    if (p.cutoff - p.first + 1 < cfg.min_frames_before_cutoff) continue;
    p.last = cfg.frames_after_cutoff ? t.end : p.cutoff;
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const GlimpsePlan& a, const GlimpsePlan& b) {
    return a.first != b.first ? a.first < b.first : a.track_id < b.track_id;
  });
  return out;
}

namespace {
/// Points of one track (sorted by t), found by binary search in the (track_id, t)-sorted list.
std::pair<const TrackPoint*, const TrackPoint*> track_points(const TrackSet& ts, std::int64_t id) {
  auto lo = std::lower_bound(ts.points.begin(), ts.points.end(), id,
                             [](const TrackPoint& p, std::int64_t v) { return p.track_id < v; });
  auto hi = std::upper_bound(lo, ts.points.end(), id,
                             [](std::int64_t v, const TrackPoint& p) { return v < p.track_id; });
  return {ts.points.data() + (lo - ts.points.begin()), ts.points.data() + (hi - ts.points.begin())};
}
}  // namespace

GlimpseTrajectory extract_trajectory(WindowSource& src, const TrackSet& tracks, const GlimpsePlan& plan,
                                     std::int64_t id, const std::string& movie_name, const FrameFeatures& extra) {
  GlimpseTrajectory tr;
  tr.id = id;
  tr.fate = plan.fate;
  tr.central_type = plan.type;
  tr.movie = movie_name;
  tr.track_id = plan.track_id;
  tr.lineage = plan.lineage != 0 ? plan.lineage : plan.track_id;
  auto [b, e] = track_points(tracks, plan.track_id);
  std::int32_t cutoff_index = -1;
  for (const TrackPoint* p = b; p != e; ++p) {
    if (p->t < plan.first || p->t > plan.last) continue;
    const GlimpseCrop c = crop_glimpse(src, p->t, p->x, p->y, p->label);
    tr.frames.push_back(p->t);
    tr.images.insert(tr.images.end(), c.images.begin(), c.images.end());
    tr.masks.insert(tr.masks.end(), c.masks.begin(), c.masks.end());
    tr.features["nuclear_area_um2"].push_back(static_cast<float>(c.central_area_um2));
    if (extra)
      for (const auto& [k, v] : extra(plan.track_id, p->t)) {
        if (k == "nuclear_area_um2") continue;
        tr.features[k].push_back(v);
      }
    if (p->t <= plan.cutoff) cutoff_index = static_cast<std::int32_t>(tr.frames.size()) - 1;
  }
  if (cutoff_index < 0)
    throw DataError(movie_name + ": track " + std::to_string(plan.track_id) + " has no point at or before its cutoff frame " +
                    std::to_string(plan.cutoff));
  tr.cutoff = cutoff_index;
  for (auto& [k, v] : tr.features)
    if (v.size() != tr.frames.size())
      throw DataError(movie_name + ": track " + std::to_string(plan.track_id) + ": feature '" + k +
                      "' missing for some frames");
  return tr;
}

std::vector<PatchPlan> plan_patches(const TrackSet& tracks, const ExtractConfig& cfg, std::uint64_t seed) {
  std::unordered_map<std::int64_t, CellType> type_of;
  for (const Track& t : tracks.tracks) type_of[t.id] = t.type;
  const int stride = cfg.patch_frame_stride, phase = cfg.patch_frame_stride / 2;
  std::map<int, std::vector<const TrackPoint*>> by_t;
  auto wanted = [&](std::int64_t track_id) {
    if (cfg.patch_types == "both") return true;
    auto it = type_of.find(track_id);
    const CellType ty = it == type_of.end() ? CellType::kUnknown : it->second;
    return cfg.patch_types == "scrib" ? ty == CellType::kScrib : ty == CellType::kWildType;
  };
  for (const TrackPoint& p : tracks.points)
    if (p.t % stride == phase && wanted(p.track_id)) by_t[p.t].push_back(&p);
  std::vector<PatchPlan> out;
  for (auto& [t, pts] : by_t) {
    std::sort(pts.begin(), pts.end(), [](const TrackPoint* a, const TrackPoint* b) { return a->track_id < b->track_id; });
    Rng rng(derive_seed(seed, static_cast<std::uint64_t>(t)));
    const std::size_t n = std::min(pts.size(), static_cast<std::size_t>(cfg.patches_per_frame));
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(rng.integer(0, static_cast<std::int64_t>(pts.size() - i) - 1));
      std::swap(pts[i], pts[j]);
    }
    std::vector<const TrackPoint*> chosen(pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(n));
    std::sort(chosen.begin(), chosen.end(), [](const TrackPoint* a, const TrackPoint* b) { return a->track_id < b->track_id; });
    for (const TrackPoint* p : chosen) {
      PatchPlan q;
      q.t = t;
      q.track_id = p->track_id;
      q.x = p->x;
      q.y = p->y;
      q.label = p->label;
      auto it = type_of.find(p->track_id);
      q.type = it == type_of.end() ? CellType::kUnknown : it->second;
      out.push_back(q);
    }
  }
  return out;
}

PatchBatch extract_patches(WindowSource& src, const std::vector<PatchPlan>& plans, const FrameFeatures& extra) {
  PatchBatch b;
  b.images.reserve(plans.size() * 2 * kGlimpseSize * kGlimpseSize);
  for (const PatchPlan& p : plans) {
    const GlimpseCrop c = crop_glimpse(src, p.t, p.x, p.y, p.label);
    b.images.insert(b.images.end(), c.images.begin(), c.images.end());
    b.types.push_back(p.type);
    b.features["nuclear_area_um2"].push_back(static_cast<float>(c.central_area_um2));
    if (extra)
      for (const auto& [k, v] : extra(p.track_id, p.t)) {
        if (k == "nuclear_area_um2") continue;
        b.features[k].push_back(v);
      }
  }
  for (auto& [k, v] : b.features)
    if (v.size() != b.types.size()) throw DataError("extract_patches: feature '" + k + "' missing for some patches");
  return b;
}

ExtractCounts extract_movie(const std::filesystem::path& movie, const std::filesystem::path& tracks_path,
                            const ExtractConfig& cfg, std::uint64_t seed, const std::string& movie_name,
                            GlimpseWriter* glimpses, PatchWriter* patches, std::int64_t& next_id) {
  cfg.validate();
  TrackSet tracks = read_tracks(tracks_path);
  tracks.validate(tracks_path.string());
  // Tracks imported without a movie carry no label ids: find them in this movie's masks.
  if (std::any_of(tracks.points.begin(), tracks.points.end(), [](const TrackPoint& p) { return p.label == 0; }))
    join_tracks_with_movie(tracks, MovieReader(movie), tracks_path.string());
  MovieWindowSource src(movie, cfg.frame_cache);
  ExtractCounts n;
  if (glimpses) {
    for (const GlimpsePlan& p : plan_glimpses(tracks, cfg)) {
      glimpses->append(extract_trajectory(src, tracks, p, next_id++, movie_name));
      ++n.trajectories;
      (p.fate == Fate::kMitosis ? n.mitosis : n.apoptosis)++;
    }
  }
  if (patches) {
    const std::vector<PatchPlan> plans = plan_patches(tracks, cfg, seed);
    for (std::size_t i = 0; i < plans.size(); i += 256) {
      std::vector<PatchPlan> chunk(plans.begin() + static_cast<std::ptrdiff_t>(i),
                                   plans.begin() + static_cast<std::ptrdiff_t>(std::min(plans.size(), i + 256)));
      const PatchBatch b = extract_patches(src, chunk);
      patches->append(b);
      n.patches += b.size();
    }
  }
  return n;
}

std::vector<MovieWithTracks> find_movies_with_tracks(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw IoError(dir.string() + ": not a directory");
  std::vector<MovieWithTracks> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const fs::path movie = simulate_artifacts::movie(e.path()), tracks = simulate_artifacts::tracks(e.path());
    if (e.is_directory() && fs::exists(movie) && fs::exists(tracks))
      found.push_back({movie, tracks, e.path().filename().string()});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (found.empty())
    throw IoError(dir.string() + ": no <dir>/movie.h5 + <dir>/tracks.h5 pairs found",
                  "write movies with `taupe simulate --movies`");
  return found;
}

ExtractCounts extract_dataset(const std::vector<MovieWithTracks>& inputs, const ExtractConfig& cfg,
                              std::uint64_t seed, const std::filesystem::path& out_dir) {
  std::filesystem::create_directories(out_dir);
  GlimpseFileInfo info;
  info.source = "taupe extract";
  GlimpseWriter gw(simulate_artifacts::glimpses(out_dir), info);
  PatchWriter pw(simulate_artifacts::patches(out_dir));
  std::int64_t next = 1;
  ExtractCounts total;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    const ExtractCounts n =
        extract_movie(in.movie, in.tracks, cfg, derive_seed(seed, 0x9A7C0000ull + i), in.name, &gw, &pw, next);
    log_info("extract: " + in.name + ": " + std::to_string(n.trajectories) + " trajectories, " +
             std::to_string(n.patches) + " patches");
    total.trajectories += n.trajectories;
    total.patches += n.patches;
    total.mitosis += n.mitosis;
    total.apoptosis += n.apoptosis;
  }
  gw.close();
  pw.close();
  return total;
}

}  // namespace taupe
