// `taupe run`: stage orchestration, resume and invalidation (pipeline.h, stage_plan.h).
#include "taupe/pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>
#include <cmath>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/progress.h"
#include "taupe/core/run_dir.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/encoder_train.h"
#include "taupe/perturb/perturb.h"
#include "taupe/pipeline/pipeline_config.h"
#include "taupe/pipeline/report_builder.h"
#include "taupe/projector/projector.h"
#include "taupe/simulate/simulate.h"
#include "taupe/temporal/cross_validation.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

// ---- layout ------------------------------------------------------------------------------------
namespace {

json read_source_json(const fs::path& data_dir) {
  const fs::path f = data_dir / "source.json";
  try {
    return json::parse(read_text_file(f));
  } catch (const json::exception& e) {
    throw DataError(f.string() + ": not valid JSON: " + e.what());
  }
}

}  // namespace

bool RunLayout::real_data() const { return fs::exists(data() / "source.json"); }

fs::path RunLayout::glimpses() const {
  if (real_data()) return read_source_json(data()).value("glimpses", "");
  return data() / "glimpses.h5";
}

fs::path RunLayout::patches() const {
  if (real_data()) return read_source_json(data()).value("patches", "");
  return data() / "patches.h5";
}

// ---- real data -----------------------------------------------------------------------------------
std::size_t derive_patches_from_glimpses(const fs::path& glimpses, const fs::path& patches, int stride) {
  GlimpseReader reader(glimpses);
  PatchWriter writer(patches);
  std::size_t written = 0;
  const std::size_t px = static_cast<std::size_t>(kGlimpseChannels) * kGlimpseSize * kGlimpseSize;
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const GlimpseTrajectory tr = reader.read(i);
    PatchBatch b;
    for (int t = tr.cutoff % std::max(1, stride); t <= tr.cutoff && t < tr.num_frames(); t += std::max(1, stride)) {
      b.images.insert(b.images.end(), tr.images.begin() + static_cast<std::ptrdiff_t>(t * px),
                      tr.images.begin() + static_cast<std::ptrdiff_t>((t + 1) * px));
      b.types.push_back(tr.central_type);
      for (const auto& [name, v] : tr.features)
        if (static_cast<int>(v.size()) == tr.num_frames()) b.features[name].push_back(v[static_cast<std::size_t>(t)]);
    }
    // features must cover every patch of the batch
    for (auto it = b.features.begin(); it != b.features.end();)
      it = it->second.size() == b.size() ? std::next(it) : b.features.erase(it);
    if (b.size() == 0) continue;
    written += b.size();
    writer.append(b);
  }
  writer.close();
  if (written == 0) throw DataError(glimpses.string() + ": no glimpse frame up to a cutoff to derive encoder patches from");
  return written;
}

namespace {

/// Resolves --data into (glimpses, patches-or-empty).
std::pair<fs::path, fs::path> resolve_data_source(const fs::path& data) {
  std::error_code ec;
  if (fs::is_directory(data, ec)) {
    const fs::path g = data / "glimpses.h5";
    if (!fs::exists(g))
      throw IoError("--data " + data.string() + ": no glimpses.h5 in this directory",
                    "point --data at a directory with glimpses.h5 (and optionally patches.h5), or at a glimpse file; "
                    "`taupe import` / `taupe extract` make them");
    const fs::path p = data / "patches.h5";
    return {fs::absolute(g), fs::exists(p) ? fs::absolute(p) : fs::path()};
  }
  if (fs::is_regular_file(data, ec)) return {fs::absolute(data), fs::path()};
  throw IoError("--data " + data.string() + ": no such file or directory");
}

std::string data_identity(const fs::path& glimpses, const fs::path& patches) {
  std::ostringstream s;
  for (const auto& f : {glimpses, patches}) {
    if (f.empty()) continue;
    std::error_code ec;
    s << f.string() << ' ' << fs::file_size(f, ec) << ' '
      << fs::last_write_time(f, ec).time_since_epoch().count() << '\n';
  }
  return s.str();
}

// ---- helpers -------------------------------------------------------------------------------------
void remove_path(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) throw IoError("cannot remove " + p.string() + ": " + ec.message());
}

std::string fmt(double v, int d) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(d) << v;
  return s.str();
}

class Eta {
 public:
  Eta(std::map<std::string, double> expected, std::vector<PlannedStage> plan)
      : expected_(std::move(expected)), plan_(std::move(plan)) {}
  void finished(const std::string& stage, double seconds, bool full_run) {
    if (full_run && expected_.count(stage)) {
      actual_sum_ += seconds;
      expected_sum_ += expected_[stage];
    }
    done_.insert(stage);
  }
  double scale() const {
    if (expected_sum_ <= 0) return 1.0;
    return std::clamp(actual_sum_ / expected_sum_, 0.33, 3.0);  // one slow stage must not blow up every ETA
  }
  double stage(const std::string& s) const {
    auto it = expected_.find(s);
    return it == expected_.end() ? 0.0 : it->second * scale();
  }
  double remaining_after(const std::string& current) const {  // excluding `current`
    double r = 0;
    bool after = false;
    for (const auto& p : plan_) {
      if (p.name == current) {
        after = true;
        continue;
      }
      if (after && p.action != StageAction::kSkip) r += stage(p.name);
    }
    return r;
  }

 private:
  std::map<std::string, double> expected_;
  std::vector<PlannedStage> plan_;
  std::set<std::string> done_;
  double actual_sum_ = 0, expected_sum_ = 0;
};

}  // namespace

// ---- the pipeline --------------------------------------------------------------------------------
PipelineResult run_pipeline(RunConfig cfg, const PipelineOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path out = opts.out.empty() ? fs::path(cfg.run.out) : opts.out;
  cfg.run.out = out.string();
  cfg.simulate.world = cfg.run.world;
  validate_all(sections(cfg));
  const RunLayout L(out);
  const bool real = !opts.data.empty();

  fs::path src_glimpses, src_patches;
  std::string identity;
  if (real) {
    std::tie(src_glimpses, src_patches) = resolve_data_source(opts.data);
    identity = data_identity(src_glimpses, src_patches);
  } else if (fs::exists(L.data() / "source.json")) {
    remove_path(L.data());  // this directory held a --data run: the first stage differs anyway
  }

  const std::vector<std::string> order = pipeline_stage_names(real);
  const auto hashes = stage_config_hashes(cfg, real, identity);

  RunDirOptions ro;
  ro.command_line = opts.command_line;
  ro.seed = static_cast<std::uint64_t>(cfg.run.seed);
  ro.threads = cfg.run.threads;
  ro.config_toml = run_config_toml(cfg);
  ro.resume = true;
  RunDir rd(out, ro);
  const auto previous = stage_records(rd.manifest());
  std::vector<PlannedStage> plan = plan_stages(order, hashes, previous);
  {
    std::ostringstream s;
    s << "run " << out.string() << ": ";
    for (const auto& p : plan) s << p.name << " " << to_string(p.action) << (p.name == order.back() ? "" : ", ");
    log_info(s.str());
    for (const auto& p : plan)
      if (p.action != StageAction::kRun || p.reason != "not run yet")
        log_info("  " + p.name + ": " + to_string(p.action) + " (" + p.reason + ")");
  }

  Eta eta(expected_stage_seconds(cfg, real), plan);
  const ProgressOptions popt{nullptr, -1, -1, opts.progress};

  const VaeModel* vae_cache = nullptr;
  std::unique_ptr<VaeModel> vae;
  auto load_vae = [&]() -> const VaeModel& {
    if (!vae) {
      vae = std::make_unique<VaeModel>(VaeModel::load(L.model()));
      vae_cache = vae.get();
    }
    return *vae_cache;
  };

  PipelineResult result;
  result.run_dir = out;
  result.plan = plan;

  const int n = static_cast<int>(plan.size());
  for (int i = 0; i < n; ++i) {
    const PlannedStage& p = plan[static_cast<std::size_t>(i)];
    const std::string& st = p.name;
    const std::string tag = "[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + st;
    if (p.action == StageAction::kSkip) {
      log_info(tag + ": done earlier (" + fmt(rd.stage_seconds(st), 1) + " s), skipped");
      eta.finished(st, 0, false);
      continue;
    }
    if (!opts.stop_before.empty() && opts.stop_before == st)
      throw Error("stopped before stage " + st + " (stop_before)");
    const double eta_stage = eta.stage(st);
    log_info(tag + (p.action == StageAction::kResume ? ": resuming" : ": running") + " — ETA this stage " +
             Progress::format_duration(eta_stage) + ", overall " +
             Progress::format_duration(eta_stage + eta.remaining_after(st)));
    const bool fresh = p.action == StageAction::kRun;
    rd.stage_begin(st);
    rd.stage_note(st, "config_hash", p.config_hash);
    rd.stage_note(st, "action", to_string(p.action));
    const auto s0 = std::chrono::steady_clock::now();

    if (st == "simulate") {
      remove_path(L.data());  // the simulator is fast and not resumable: always from scratch
      const SimulateResult r =
          run_simulate(cfg.simulate, cfg.extract, static_cast<std::uint64_t>(cfg.run.seed), L.data());
      rd.stage_note(st, "trajectories", r.trajectories);
      rd.stage_note(st, "patches", r.patches);
      log_info("simulate: " + r.brief());
    } else if (st == "data") {
      remove_path(L.data());
      fs::create_directories(L.data());
      fs::path patches = src_patches;
      if (patches.empty()) {
        patches = fs::absolute(L.data() / "patches.h5");
        const int stride = cfg.extract.patch_frame_stride;
        std::size_t k = derive_patches_from_glimpses(src_glimpses, patches, stride);
        // A small dataset: rather than fail on fewer patches than a few training batches, use
        // every frame up to the cutoff.
        const std::size_t wanted = 4 * static_cast<std::size_t>(cfg.encoder.batch_size);
        if (k < wanted && stride > 1) {
          log_info("data: every " + std::to_string(stride) + "th frame gives only " + std::to_string(k) +
                   " encoder patches (< 4 batches of " + std::to_string(cfg.encoder.batch_size) + "); using every frame");
          k = derive_patches_from_glimpses(src_glimpses, patches, 1);
        }
        log_info("data: no patches.h5 given; derived " + std::to_string(k) + " encoder patches from glimpse frames");
      }
      json src = {{"glimpses", src_glimpses.string()}, {"patches", patches.string()},
                  {"patches_derived", src_patches.empty()}, {"source", opts.data.string()}};
      write_text_atomic(L.data() / "source.json", src.dump(2) + "\n");
    } else if (st == "encoder") {
      if (fresh) remove_path(L.model());
      EncoderTrainOptions o;
      o.patches = L.patches();
      o.model_dir = L.model();
      o.work_dir = L.encoder_work();
      o.resume = true;
      std::unique_ptr<Progress> bar;
      o.on_step = [&](std::int64_t step, std::int64_t total, double loss) {
        if (!bar) bar = std::make_unique<Progress>("  train encoder", total, "steps", popt);
        bar->set_status("loss " + fmt(loss, 0));
        bar->update(step);
      };
      const EncoderTrainResult r = train_encoder(cfg.encoder, o);
      if (bar) bar->finish();
      if (!r.completed) throw ModelError("encoder training stopped before its last step");
      log_info("encoder: " + r.brief());
    } else if (st == "projector") {
      remove_path(L.model() / "pca.h5");
      const VaeModel& m = load_vae();
      const PatchEncodings pe = encode_patch_file(m, L.patches(), cfg.projector.max_patches, cfg.projector.batch_size);
      const Pca pca = fit_projector(pe.enc.z_mean, pe.enc.dims, L.model(), cfg.projector);
      const PcMeaningReport rep =
          pc_meaning(pca.forward(pe.enc.z_mean), pca.dims, pe.types, pe.features, pca.explained_variance_ratio);
      write_pc_meaning(rep, L.model() / "pc_meaning");
      log_info("projector: fitted on " + std::to_string(pca.samples) + " patches\n" + rep.brief());
    } else if (st == "encode") {
      const VaeModel& m = load_vae();
      EncodeGlimpsesOptions eo;
      eo.batch_size = cfg.encoder.encode_batch_size;
      const EncodingSet set = encode_glimpse_file(m, L.glimpses(), L.encodings(), eo);
      rd.stage_note(st, "trajectories", set.trajectories.size());
    } else if (st == "temporal") {
      if (fresh) remove_path(L.temporal());
      const EncodingSet set = read_encodings(L.encodings());
      const Pca pca = load_projector(L.model());
      // One bar over every fold's epochs (folds train in parallel, cv.parallel_folds).
      std::unique_ptr<Progress> bar;
      std::map<int, int> epochs_by_fold;
      const CvProgress cb = [&](const CvProgressEvent& e) {
        if (!bar)
          bar = std::make_unique<Progress>("  " + std::to_string(cfg.cv.folds) + " folds",
                                           static_cast<std::int64_t>(cfg.cv.folds) * e.epochs, "epochs", popt);
        epochs_by_fold[e.fold] = e.epoch;
        std::int64_t done = 0;
        for (const auto& [fold, n] : epochs_by_fold) done += n;
        bar->set_status("fold " + std::to_string(e.fold + 1) + " epoch " + std::to_string(e.epoch) + " loss " +
                        fmt(e.train_loss, 3) + " val acc " + fmt(e.val_accuracy, 2));
        bar->update(done);
      };
      const CvResult r = run_cross_validation(set, pca, cfg.temporal, cfg.cv, L.model(), cb);
      if (bar) bar->finish();
      log_info("temporal: " + r.brief());
    } else if (st == "perturb") {
      remove_path(L.perturb());
      ModelSetOptions mo;
      mo.memory_budget_mb = cfg.cv.predict_memory_mb;
      PerturbContext ctx = PerturbContext::load(L.model(), L.glimpses(), L.encodings(), mo);
      if (L.real_data()) ctx.forget_world();  // --data: no ground-truth verdicts
      const PerturbAllResult all = run_all(ctx, cfg.perturb, out);
      report::RunSummary part;
      all.fill_summary(part);
      json j;
      to_json(j, part);
      write_text_atomic(L.summary_part(), j.dump(2) + "\n");
      log_info("perturb:\n" + all.brief());
    } else if (st == "report") {
      const double so_far = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
      result.summary = write_run_report(out, run_report_config(cfg), rd.manifest(), {{"report", so_far}});
    }

    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    rd.stage_end(st, StageStatus::kDone);
    eta.finished(st, secs, fresh);
    log_info(tag + ": done in " + Progress::format_duration(secs) +
             (i + 1 < n ? ", overall ETA " + Progress::format_duration(eta.remaining_after(st)) : std::string()));
  }

  // Timings of every stage (including the report itself) as recorded now.
  if (fs::exists(L.summary())) result.summary = report::read_summary(L.summary());
  rd.finish(true);
  result.report_html = L.report();
  result.summary_json = L.summary();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

std::string PipelineResult::brief() const {
  std::ostringstream s;
  s << "stages:";
  for (const auto& p : plan) s << ' ' << p.name << '(' << to_string(p.action) << ')';
  s << "\n" << summary.brief();
  if (summary.brief().empty() || summary.brief().back() != '\n') s << '\n';
  s << "wall time " << Progress::format_duration(seconds) << "\n";
  s << "report:  " << report_html.string() << "\nsummary: " << summary_json.string() << "\n";
  return s.str();
}

}  // namespace taupe
