#include "taupe/simulate/simulate.h"

#include "taupe/core/parallel.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/log.h"
#include "taupe/core/rng.h"
#include "taupe/core/runtime.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/patches.h"
#include "taupe/dataset/tracks.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/simulate/render.h"

namespace taupe {
namespace fs = std::filesystem;

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
int resolve_threads(int t) { return t > 0 ? t : std::max(1, cores_available()); }

/// Runs write tasks, in submission order, on one background thread (every HDF5 call of the
/// glimpse / patch files happens there), so compression overlaps the rendering of the next
/// batch. At most `capacity` tasks wait; the first exception is rethrown by push() / finish().
class BackgroundWriter {
 public:
  explicit BackgroundWriter(std::size_t capacity) : capacity_(capacity), thread_([this] { loop(); }) {}
  ~BackgroundWriter() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> l(m_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
  }
  void push(std::function<void()> task) {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return q_.size() < capacity_ || err_; });
    if (err_) std::rethrow_exception(err_);
    q_.push_back(std::move(task));
    cv_.notify_all();
  }
  void finish() {
    {
      std::lock_guard<std::mutex> l(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (err_) std::rethrow_exception(err_);
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return !q_.empty() || done_; });
        if (q_.empty()) return;
        task = std::move(q_.front());
        q_.pop_front();
        cv_.notify_all();
      }
      try {
        if (!err_) task();
      } catch (...) {
        std::lock_guard<std::mutex> l(m_);
        err_ = std::current_exception();
        cv_.notify_all();
      }
    }
  }
  std::size_t capacity_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool done_ = false;
  std::exception_ptr err_;
  std::thread thread_;
};
}  // namespace


std::map<std::string, float> snapshot_features(const CellSnap& c) {
  return {{"compression", c.compression},
          {"local_density", c.local_density},
          {"wt_neighbours", static_cast<float>(c.wt_neighbours)},
          {"scrib_neighbours", static_cast<float>(c.scrib_neighbours)},
          {"hazard_apoptosis", c.hazard_apoptosis},
          {"true_nuclear_area_um2", c.nuclear_area_um2},
          {"cell_area_um2", c.area_um2},
          {"cycle_phase", c.phase},
          {"morph", static_cast<float>(c.morph)}};
}

std::vector<FovHistory> simulate_all(const SimConfig& cfg, std::uint64_t seed, int threads) {
  cfg.validate();
  std::vector<FovHistory> out(static_cast<std::size_t>(cfg.fovs));
  parallel_for(cfg.fovs, resolve_threads(threads > 0 ? threads : cfg.threads),
               [&](int f) { out[static_cast<std::size_t>(f)] = simulate_fov(cfg, seed, f); });
  return out;
}

namespace {

/// Ground-truth features of the simulated cell `id` at frame `t` (empty when it is absent).
FrameFeatures snapshot_lookup(const FovHistory& h) {
  return [&h](std::int64_t id, std::int32_t t) {
    const CellSnap* c = h.find(id, t);
    return c ? snapshot_features(*c) : std::map<std::string, float>{};
  };
}

/// Renders every frame of a field of view into its movie file (HDF5 calls under `h5_mutex`).
void write_fov_movie(const FovHistory& h, const SimConfig& cfg, const fs::path& dir, std::mutex& h5_mutex) {
  SceneRenderer ren(h, cfg);
  std::unique_ptr<MovieWriter> w;
  {
    std::lock_guard<std::mutex> lock(h5_mutex);
    w = std::make_unique<MovieWriter>(simulate_artifacts::movie(dir), ren.movie_info());
  }
  for (int t = 0; t < static_cast<int>(h.frames.size()); ++t) {
    MovieFrame fr = ren.frame(t);
    std::lock_guard<std::mutex> lock(h5_mutex);
    w->append(fr);
  }
  std::lock_guard<std::mutex> lock(h5_mutex);
  w->close();
  w.reset();
}

/// Simulates the fields of view in parallel; each writes its tracks, ground truth and movie
/// (HDF5 calls serialised).
std::vector<FovHistory> simulate_fovs(const SimConfig& cfg, std::uint64_t seed, const fs::path& out, int threads) {
  std::vector<FovHistory> fovs(static_cast<std::size_t>(cfg.fovs));
  std::mutex h5_mutex;
  parallel_for(cfg.fovs, threads, [&](int f) {
    FovHistory h = simulate_fov(cfg, seed, f);
    const fs::path dir = out / simulate_artifacts::fov_name(f);
    fs::create_directories(dir);
    h.tracks.validate("simulate " + simulate_artifacts::fov_name(f));
    {
      std::lock_guard<std::mutex> lock(h5_mutex);
      write_tracks(simulate_artifacts::tracks(dir), h.tracks);
      if (cfg.ground_truth) write_ground_truth(simulate_artifacts::ground_truth(dir), h);
    }
    if (cfg.movies) write_fov_movie(h, cfg, dir, h5_mutex);
    fovs[static_cast<std::size_t>(f)] = std::move(h);
  });
  return fovs;
}

/// Renders `work` in batches of `batch` items in parallel (`render(item, index)`); each batch's
/// results are counted (`count`) and queued, in order, on `bg` to be written (`write`).
template <class Result, class Work, class Render, class Count, class Write>
void render_in_batches(const std::vector<Work>& work, int batch, int threads, BackgroundWriter& bg, const Render& render,
                       const Count& count, const Write& write) {
  for (std::size_t b0 = 0; b0 < work.size(); b0 += static_cast<std::size_t>(batch)) {
    const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch), work.size() - b0));
    auto done = std::make_shared<std::vector<Result>>(static_cast<std::size_t>(n));
    parallel_for(n, threads, [&](int i) {
      const std::size_t k = b0 + static_cast<std::size_t>(i);
      (*done)[static_cast<std::size_t>(i)] = render(work[k], k);
    });
    for (const auto& x : *done) count(x);
    bg.push([write, done] {
      for (const auto& x : *done) write(x);
    });
  }
}

/// Renders the planned glimpse trajectories (ids 1, 2, ... in plan order) and queues them on
/// `bg` for `gwriter`; counts them into `r`.
void queue_glimpses(const std::vector<FovHistory>& fovs, const std::vector<std::unique_ptr<SceneRenderer>>& renderers,
                    const ExtractConfig& ex, int threads, GlimpseWriter& gwriter, BackgroundWriter& bg,
                    SimulateResult& r) {
  struct Item { int fov; GlimpsePlan plan; };
  std::vector<Item> items;
  for (const auto& h : fovs)
    for (const GlimpsePlan& p : plan_glimpses(h.tracks, ex)) items.push_back({h.fov, p});
  render_in_batches<GlimpseTrajectory>(
      items, 8 * threads, threads, bg,
      [&](const Item& it, std::size_t k) {
        const FovHistory& h = fovs[static_cast<std::size_t>(it.fov)];
        return extract_trajectory(*renderers[static_cast<std::size_t>(it.fov)], h.tracks, it.plan,
                                  static_cast<std::int64_t>(k) + 1, simulate_artifacts::fov_name(it.fov),
                                  snapshot_lookup(h));
      },
      [&r](const GlimpseTrajectory& tr) {
        ++r.trajectories;
        (tr.fate == Fate::kMitosis ? r.mitosis : r.apoptosis)++;
      },
      [&gwriter](const GlimpseTrajectory& tr) { gwriter.append(tr); });
  bg.push([&gwriter] { gwriter.close(); });
}

/// Renders the planned encoder patches (in chunks of 256 plans) and queues them on `bg` for
/// `pwriter`; counts them into `r`.
void queue_patches(const std::vector<FovHistory>& fovs, const std::vector<std::unique_ptr<SceneRenderer>>& renderers,
                   const ExtractConfig& ex, std::uint64_t seed, int threads, PatchWriter& pwriter,
                   BackgroundWriter& bg, SimulateResult& r) {
  struct Chunk { int fov; std::vector<PatchPlan> plans; };
  std::vector<Chunk> chunks;
  for (const auto& h : fovs) {
    const auto plans = plan_patches(h.tracks, ex, derive_seed(seed, 0x9A7C0000ull + static_cast<std::uint64_t>(h.fov)));
    for (std::size_t i = 0; i < plans.size(); i += 256)
      chunks.push_back({h.fov, std::vector<PatchPlan>(plans.begin() + static_cast<std::ptrdiff_t>(i),
                                                      plans.begin() + static_cast<std::ptrdiff_t>(std::min(plans.size(), i + 256)))});
  }
  render_in_batches<PatchBatch>(
      chunks, 2 * threads, threads, bg,
      [&](const Chunk& c, std::size_t) {
        const FovHistory& h = fovs[static_cast<std::size_t>(c.fov)];
        return extract_patches(*renderers[static_cast<std::size_t>(c.fov)], c.plans, snapshot_lookup(h));
      },
      [&r](const PatchBatch& b) { r.patches += b.size(); },
      [&pwriter](const PatchBatch& b) { pwriter.append(b); });
  bg.push([&pwriter] { pwriter.close(); });
}

/// Glimpses straight from the simulation, then encoder patches (both types): batches are
/// rendered in parallel and handed, in plan order, to one writer thread (compression overlaps
/// the next batch's rendering).
void write_glimpses_and_patches(const SimConfig& cfg, const ExtractConfig& ex, std::uint64_t seed, const fs::path& out,
                                const std::vector<FovHistory>& fovs,
                                const std::vector<std::unique_ptr<SceneRenderer>>& renderers, int threads,
                                SimulateResult& r) {
  const auto t1 = std::chrono::steady_clock::now();
  GlimpseFileInfo info;
  info.world = cfg.world;
  info.seed = static_cast<std::int64_t>(seed);
  info.source = "taupe simulate";
  info.frame_interval_min = cfg.frame_interval_min;
  GlimpseWriter gwriter(simulate_artifacts::glimpses(out), info);
  PatchWriter pwriter(simulate_artifacts::patches(out));
  BackgroundWriter bg(2);
  queue_glimpses(fovs, renderers, ex, threads, gwriter, bg, r);
  r.seconds_glimpses = since(t1);

  const auto t2 = std::chrono::steady_clock::now();
  queue_patches(fovs, renderers, ex, seed, threads, pwriter, bg, r);
  bg.finish();
  r.seconds_patches = since(t2);
}

/// Mean nuclear intensity per channel (GFP of wild-type, RFP of scrib nuclei) on frame `t`.
void measure_nuclear_intensity(SceneRenderer& ren, int t, SimulateResult& r) {
  const MovieFrame f = ren.frame(t);
  double s[2] = {0, 0};
  std::size_t n[2] = {0, 0};
  const std::size_t plane = f.labels.size();
  for (std::size_t i = 0; i < plane; ++i) {
    if (!f.labels[i]) continue;
    auto it = f.label_types.find(f.labels[i]);
    if (it == f.label_types.end()) continue;
    const int c = it->second == CellType::kWildType ? 0 : 1;
    s[c] += f.images[static_cast<std::size_t>(c) * plane + i];
    ++n[c];
  }
  r.gfp_mean = n[0] ? s[0] / n[0] : 0;
  r.rfp_mean = n[1] ? s[1] / n[1] : 0;
}

/// The simulation summary (simulation.json).
nlohmann::json simulation_json(const SimConfig& cfg, std::uint64_t seed, const SimulateResult& r) {
  nlohmann::json j;
  j["format"] = "taupe.simulation";
  j["world"] = cfg.world;
  j["seed"] = seed;
  j["fovs"] = cfg.fovs;
  j["frames"] = cfg.frames;
  j["cells_first_frame"] = r.cells_first_frame;
  j["cell_frames"] = r.cell_frames;
  j["trajectories"] = r.trajectories;
  j["mitosis"] = r.mitosis;
  j["apoptosis"] = r.apoptosis;
  j["patches"] = r.patches;
  namespace sa = simulate_artifacts;
  j[sa::kAucCompression] = r.world.auc_compression;
  j[sa::kAucWtNeighbours] = r.world.auc_wt;
  j[sa::kAucSmallNucleus] = r.world.auc_small_nucleus;
  if (r.world.logit.coef.size() == 3) {
    j[sa::kLogitCompression] = {r.world.logit.coef[1], r.world.logit.ci_lo[1], r.world.logit.ci_hi[1]};
    j[sa::kLogitWtNeighbours] = {r.world.logit.coef[2], r.world.logit.ci_lo[2], r.world.logit.ci_hi[2]};
  }
  j["spearman_nuclear_area_density"] = r.world.spearman_area_density;
  j["scrib_fraction_first"] = r.world.scrib_fraction_first;
  j["scrib_fraction_last"] = r.world.scrib_fraction_last;
  j["scrib_apoptosis_per_h"] = r.world.scrib_apoptosis_per_h;
  j["gfp_mean_nuclear_adu"] = r.gfp_mean;
  j["rfp_mean_nuclear_adu"] = r.rfp_mean;
  return j;
}

}  // namespace

SimulateResult run_simulate(const SimConfig& cfg, const ExtractConfig& ex, std::uint64_t seed, const fs::path& out) {
  cfg.validate();
  ex.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const int threads = resolve_threads(cfg.threads);
  SimulateResult r;
  r.fovs = cfg.fovs;
  fs::create_directories(out);
  remove_stale_temporaries(out);

  // 1. Fields of view in parallel; each writes its own files.
  const std::vector<FovHistory> fovs = simulate_fovs(cfg, seed, out, threads);
  for (const auto& h : fovs) {
    r.cells_first_frame += h.frames.empty() ? 0 : h.frames.front().size();
    for (const auto& fr : h.frames) r.cell_frames += fr.size();
    r.frames += h.frames.size();
  }
  r.seconds_simulate = since(t0);
  log_info("simulate: " + std::to_string(cfg.fovs) + " fields of view, " + std::to_string(r.cell_frames) +
           " cell-frames in " + std::to_string(r.seconds_simulate) + " s");

  // 2.+3. Glimpses and encoder patches.
  std::vector<std::unique_ptr<SceneRenderer>> renderers;
  for (const auto& h : fovs) renderers.push_back(std::make_unique<SceneRenderer>(h, cfg));
  write_glimpses_and_patches(cfg, ex, seed, out, fovs, renderers, threads, r);

  // 4. Ground-truth statistics, pictures, summary.
  std::vector<const FovHistory*> ptrs;
  for (const auto& h : fovs) ptrs.push_back(&h);
  r.world = world_stats(ptrs, ex, cfg.frame_interval_min);
  measure_nuclear_intensity(*renderers[0], static_cast<int>(fovs[0].frames.size()) / 2, r);
  if (cfg.pictures) write_pictures(simulate_artifacts::pictures(out), cfg, ex, fovs, r);
  r.seconds_total = since(t0);
  write_text_atomic(simulate_artifacts::simulation_json(out), simulation_json(cfg, seed, r).dump(2) + "\n");
  return r;
}

std::string SimulateResult::brief() const {
  std::ostringstream s;
  s.precision(3);
  s << fovs << " fields of view, " << cells_first_frame << " cells at frame 0, " << trajectories
    << " labelled trajectories (mitosis " << mitosis << ", apoptosis " << apoptosis << "), " << patches
    << " patches\n"
    << world.brief() << "\nGFP/RFP mean nuclear intensity " << gfp_mean << " / " << rfp_mean << " ADU\n"
    << "time: simulate " << seconds_simulate << " s, glimpses " << seconds_glimpses << " s, patches "
    << seconds_patches << " s, total " << seconds_total << " s";
  return s.str();
}

}  // namespace taupe
