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

SimulateResult run_simulate(const SimConfig& cfg, const ExtractConfig& ex, std::uint64_t seed, const fs::path& out) {
  cfg.validate();
  ex.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const int threads = resolve_threads(cfg.threads);
  SimulateResult r;
  r.fovs = cfg.fovs;
  fs::create_directories(out);
  remove_stale_temporaries(out);

  // 1. Fields of view in parallel; each writes its own files (HDF5 calls serialised).
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
    if (cfg.movies) {
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
    fovs[static_cast<std::size_t>(f)] = std::move(h);
  });
  for (const auto& h : fovs) {
    r.cells_first_frame += h.frames.empty() ? 0 : h.frames.front().size();
    for (const auto& fr : h.frames) r.cell_frames += fr.size();
    r.frames += h.frames.size();
  }
  r.seconds_simulate = since(t0);
  log_info("simulate: " + std::to_string(cfg.fovs) + " fields of view, " + std::to_string(r.cell_frames) +
           " cell-frames in " + std::to_string(r.seconds_simulate) + " s");

  std::vector<std::unique_ptr<SceneRenderer>> renderers;
  for (const auto& h : fovs) renderers.push_back(std::make_unique<SceneRenderer>(h, cfg));

  // 2.+3. Glimpses straight from the simulation, then encoder patches (both types): batches are
  // rendered in parallel and handed, in plan order, to one writer thread (compression overlaps
  // the next batch's rendering).
  const auto t1 = std::chrono::steady_clock::now();
  {
    GlimpseFileInfo info;
    info.world = cfg.world;
    info.seed = static_cast<std::int64_t>(seed);
    info.source = "taupe simulate";
    info.frame_interval_min = cfg.frame_interval_min;
    GlimpseWriter gwriter(simulate_artifacts::glimpses(out), info);
    PatchWriter pwriter(simulate_artifacts::patches(out));
    BackgroundWriter bg(2);
    struct Item { int fov; GlimpsePlan plan; };
    std::vector<Item> items;
    for (const auto& h : fovs)
      for (const GlimpsePlan& p : plan_glimpses(h.tracks, ex)) items.push_back({h.fov, p});
    const int batch = 8 * threads;
    for (std::size_t b0 = 0; b0 < items.size(); b0 += static_cast<std::size_t>(batch)) {
      const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch), items.size() - b0));
      auto done = std::make_shared<std::vector<GlimpseTrajectory>>(static_cast<std::size_t>(n));
      parallel_for(n, threads, [&](int i) {
        const Item& it = items[b0 + static_cast<std::size_t>(i)];
        const FovHistory& h = fovs[static_cast<std::size_t>(it.fov)];
        FrameFeatures feat = [&h](std::int64_t id, std::int32_t t) {
          const CellSnap* c = h.find(id, t);
          return c ? snapshot_features(*c) : std::map<std::string, float>{};
        };
        (*done)[static_cast<std::size_t>(i)] =
            extract_trajectory(*renderers[static_cast<std::size_t>(it.fov)], h.tracks, it.plan,
                               static_cast<std::int64_t>(b0) + i + 1, simulate_artifacts::fov_name(it.fov), feat);
      });
      for (const auto& tr : *done) {
        ++r.trajectories;
        (tr.fate == Fate::kMitosis ? r.mitosis : r.apoptosis)++;
      }
      bg.push([&gwriter, done] {
        for (const auto& tr : *done) gwriter.append(tr);
      });
    }
    bg.push([&gwriter] { gwriter.close(); });
    r.seconds_glimpses = since(t1);

    const auto t2 = std::chrono::steady_clock::now();
    struct Chunk { int fov; std::vector<PatchPlan> plans; };
    std::vector<Chunk> chunks;
    for (const auto& h : fovs) {
      const auto plans = plan_patches(h.tracks, ex, derive_seed(seed, 0x9A7C0000ull + static_cast<std::uint64_t>(h.fov)));
      for (std::size_t i = 0; i < plans.size(); i += 256)
        chunks.push_back({h.fov, std::vector<PatchPlan>(plans.begin() + static_cast<std::ptrdiff_t>(i),
                                                        plans.begin() + static_cast<std::ptrdiff_t>(std::min(plans.size(), i + 256)))});
    }
    const int pbatch = 2 * threads;
    for (std::size_t b0 = 0; b0 < chunks.size(); b0 += static_cast<std::size_t>(pbatch)) {
      const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(pbatch), chunks.size() - b0));
      auto done = std::make_shared<std::vector<PatchBatch>>(static_cast<std::size_t>(n));
      parallel_for(n, threads, [&](int i) {
        const Chunk& c = chunks[b0 + static_cast<std::size_t>(i)];
        const FovHistory& h = fovs[static_cast<std::size_t>(c.fov)];
        FrameFeatures feat = [&h](std::int64_t id, std::int32_t t) {
          const CellSnap* s = h.find(id, t);
          return s ? snapshot_features(*s) : std::map<std::string, float>{};
        };
        (*done)[static_cast<std::size_t>(i)] = extract_patches(*renderers[static_cast<std::size_t>(c.fov)], c.plans, feat);
      });
      for (const auto& b : *done) r.patches += b.size();
      bg.push([&pwriter, done] {
        for (const auto& b : *done) pwriter.append(b);
      });
    }
    bg.push([&pwriter] { pwriter.close(); });
    bg.finish();
    r.seconds_patches = since(t2);
  }

  // 4. Ground-truth statistics, pictures, summary.
  std::vector<const FovHistory*> ptrs;
  for (const auto& h : fovs) ptrs.push_back(&h);
  r.world = world_stats(ptrs, ex, cfg.frame_interval_min);
  {  // mean nuclear intensity per channel on the middle frame of fov 0
    SceneRenderer& ren = *renderers[0];
    const int t = static_cast<int>(fovs[0].frames.size()) / 2;
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
  if (cfg.pictures) write_pictures(simulate_artifacts::pictures(out), cfg, ex, fovs, r);
  r.seconds_total = since(t0);

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
  j["auc_compression"] = r.world.auc_compression;
  j["auc_wt_neighbours"] = r.world.auc_wt;
  if (r.world.logit.coef.size() == 3) {
    j["logit_compression"] = {r.world.logit.coef[1], r.world.logit.ci_lo[1], r.world.logit.ci_hi[1]};
    j["logit_wt_neighbours"] = {r.world.logit.coef[2], r.world.logit.ci_lo[2], r.world.logit.ci_hi[2]};
  }
  j["spearman_nuclear_area_density"] = r.world.spearman_area_density;
  j["scrib_fraction_first"] = r.world.scrib_fraction_first;
  j["scrib_fraction_last"] = r.world.scrib_fraction_last;
  j["scrib_apoptosis_per_h"] = r.world.scrib_apoptosis_per_h;
  j["gfp_mean_nuclear_adu"] = r.gfp_mean;
  j["rfp_mean_nuclear_adu"] = r.rfp_mean;
  write_text_atomic(simulate_artifacts::simulation_json(out), j.dump(2) + "\n");
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
