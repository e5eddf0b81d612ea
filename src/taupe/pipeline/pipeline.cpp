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
#include "taupe/core/resources.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/runtime.h"
#include "taupe/core/signals.h"
#include "taupe/dist/cluster.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"
#include "taupe/simulate/artifacts.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

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

DataSource resolve_data_source(const fs::path& data) {
  std::error_code ec;
  if (fs::is_directory(data, ec)) {
    const fs::path g = simulate_artifacts::glimpses(data);
    if (!fs::exists(g))
      throw IoError("--data " + data.string() + ": no glimpses.h5 in this directory",
                    "point --data at a directory with glimpses.h5 (and optionally patches.h5), or at a glimpse file; "
                    "`taupe import` / `taupe extract` make them");
    const fs::path p = simulate_artifacts::patches(data);
    return {fs::absolute(g), fs::exists(p) ? fs::absolute(p) : fs::path()};
  }
  if (fs::is_regular_file(data, ec)) return {fs::absolute(data), fs::path()};
  throw IoError("--data " + data.string() + ": no such file or directory");
}

std::string DataSource::identity() const {
  std::ostringstream s;
  for (const auto& f : {glimpses, patches}) {
    if (f.empty()) continue;
    std::error_code ec;
    s << f.string() << ' ' << fs::file_size(f, ec) << ' '
      << fs::last_write_time(f, ec).time_since_epoch().count() << '\n';
  }
  return s.str();
}

namespace {

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


// ---- the pipeline --------------------------------------------------------------------------------

/// The value of the seed key `key` ("section.key") in `cfg`.
std::int64_t stage_seed(RunConfig& cfg, const std::string& key) {
  const auto dot = key.find('.');
  const ConfigSections secs = sections(cfg);
  return std::stoll(field_value_string(find_field(secs, key.substr(0, dot), key.substr(dot + 1))));
}

/// Logs the plan: one line, then the reason of every stage that does not simply run for the
/// first time.
void log_plan(const fs::path& out, const std::vector<PlannedStage>& plan) {
  std::ostringstream s;
  s << "run " << out.string() << ": ";
  for (std::size_t i = 0; i < plan.size(); ++i)
    s << plan[i].name << " " << to_string(plan[i].action) << (i + 1 == plan.size() ? "" : ", ");
  log_info(s.str());
  for (const auto& p : plan)
    if (p.action != StageAction::kRun || p.reason != "not run yet")
      log_info("  " + p.name + ": " + to_string(p.action) + " (" + p.reason + ")");
}

/// A stage has finished: `artifacts` are its outputs, complete. Records it as done, with the
/// size and SHA-256 of every file under its artifacts (verified before it is skipped later).
void record_finished_stage(RunDir& rd, const Stage& stage, const std::vector<fs::path>& artifacts) {
  rd.stage_end(stage.name, StageStatus::kDone, artifacts);
}

/// How `taupe run` opens its run directory: resumable, with the resolved configuration.
RunDirOptions run_dir_options(RunConfig& cfg, const PipelineOptions& opts) {
  RunDirOptions ro;
  ro.command_line = opts.command_line;
  ro.seed = static_cast<std::uint64_t>(cfg.run.seed);
  ro.threads = cfg.run.threads;
  ro.config_toml = run_config_toml(cfg);
  ro.resume = true;
  ro.force_unlock = opts.force_unlock;
  return ro;
}

/// The stages recorded in the run directory's manifest. Verified artifacts: a finished stage
/// that would be skipped (same config hash) must still have the files it wrote.
std::map<std::string, StageRecord> verified_stage_records(RunDir& rd, const std::map<std::string, std::string>& hashes) {
  auto previous = stage_records(rd.manifest());
  for (auto& [name, rec] : previous)
    if (rec.status == StageStatus::kDone && hashes.count(name) && hashes.at(name) == rec.config_hash)
      rec.changed_files = rd.verify_stage(name);
  return previous;
}

}  // namespace

PipelineResult run_pipeline(RunConfig cfg, const PipelineOptions& opts) {
  return run_pipeline(std::move(cfg), opts, pipeline_stages());
}

namespace {

/// The plan as rank 0 publishes it to the other ranks: stage name -> action.
std::string plan_message(const std::vector<PlannedStage>& plan) {
  json j = json::object();
  for (const auto& p : plan) j[p.name] = to_string(p.action);
  return j.dump();
}

/// Runs one planned stage on rank 0 (or the only process) and records it in the manifest.
void run_planned_stage(const Stage& stage, const PlannedStage& p, RunConfig& cfg,
                       const RunLayout& L, const PipelineOptions& opts, RunDir& rd) {
  StageContext ctx{cfg, L, opts, &rd, stage.name, p.action == StageAction::kRun,
                   ProgressOptions{nullptr, -1, -1, opts.progress}, std::chrono::steady_clock::now()};
  rd.stage_begin(stage.name);
  rd.stage_note(stage.name, "config_hash", p.config_hash);
  rd.stage_note(stage.name, "action", to_string(p.action));
  if (!stage.seed_key.empty()) rd.stage_note(stage.name, "seed", stage_seed(cfg, stage.seed_key));
  const std::vector<fs::path> artifacts = stage.artifacts ? stage.artifacts(L) : std::vector<fs::path>{};
  if (ctx.fresh || !stage.resumable)
    for (const auto& a : artifacts) remove_path(a);
  Cluster* cl = opts.cluster;
  if (cl && stage.distributed) {  // the other ranks start once the stage's directories are ready
    rd.stage_note(stage.name, "ranks", cl->world_size());
    cl->publish("stage/" + stage.name + "/go", ctx.fresh ? "run" : "resume");
  }
  release_free_heap();                      // what earlier stages freed does not count here
  const bool own_peak = reset_peak_rss();  // else the process's peak so far
  stage.run(ctx);
  if (cl && stage.distributed) cl->barrier("stage/" + stage.name + "/end");
  rd.stage_note(stage.name, own_peak ? "peak_rss_mb" : "process_peak_rss_mb",
                std::round(peak_rss_bytes() / (1024.0 * 1024.0)));
  record_finished_stage(rd, stage, artifacts);
}

/// Ranks other than 0: follow rank 0's plan, run their share of every distributed stage.
PipelineResult follow_pipeline(RunConfig& cfg, const PipelineOptions& opts, const StageTable& stages,
                               const RunLayout& L) {
  Cluster& cl = *opts.cluster;
  const json plan = json::parse(cl.await("plan"));
  PipelineOptions quiet = opts;
  quiet.progress = false;
  for (const Stage& stage : stages) {
    if (!stage.distributed || !plan.contains(stage.name) || plan.at(stage.name) == to_string(StageAction::kSkip))
      continue;
    const std::string mode = cl.await("stage/" + stage.name + "/go");
    StageContext ctx{cfg, L, quiet, nullptr, stage.name, mode == "run", ProgressOptions{nullptr, -1, -1, false},
                     std::chrono::steady_clock::now()};
    log_info(stage.name + ": joining on " + cl.describe());
    stage.run(ctx);
    cl.barrier("stage/" + stage.name + "/end");
  }
  cl.finish();
  PipelineResult result;
  result.run_dir = L.root;
  return result;
}

/// Rank 0 (or the only process): plan, run, record.
PipelineResult lead_pipeline(RunConfig& cfg, const PipelineOptions& opts, const StageTable& stages, const RunLayout& L,
                             const std::string& identity) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool real = !opts.data.empty();
  RunDir rd(L.root, run_dir_options(cfg, opts));  // takes the run directory's lock: nothing is written here before it
  if (!real && L.real_data())
    remove_path(L.data());  // this directory held a --data run: the first stage differs anyway
  const auto hashes = stage_config_hashes(stages, cfg, identity);
  const std::vector<PlannedStage> plan = plan_stages(stages, hashes, verified_stage_records(rd, hashes));
  log_plan(L.root, plan);
  if (opts.cluster) opts.cluster->publish("plan", plan_message(plan));
  const auto memory = expected_stage_memory(stages, cfg);

  Eta eta(expected_stage_seconds(stages, cfg), plan);
  PipelineResult result;
  result.run_dir = L.root;
  result.plan = plan;
  const std::size_t n = plan.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Stage& stage = stages[i];
    const PlannedStage& p = plan[i];
    const std::string tag = "[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + stage.name;
    if (p.action == StageAction::kSkip) {
      log_info(tag + ": done earlier (" + fmt(rd.stage_seconds(stage.name), 1) + " s), skipped");
      eta.finished(stage.name, 0, false);
      continue;
    }
    if (!opts.stop_before.empty() && opts.stop_before == stage.name)
      throw Error("stopped before stage " + stage.name + " (stop_before)");
    throw_if_stop_requested("before stage " + stage.name + " (the finished stages are saved)");
    check_memory(stage.name, memory.at(stage.name), available_memory(cfg.run.memory_limit_mb));
    const double eta_stage = eta.stage(stage.name);
    log_info(tag + (p.action == StageAction::kResume ? ": resuming" : ": running") + " — ETA this stage " +
             Progress::format_duration(eta_stage) + ", overall " +
             Progress::format_duration(eta_stage + eta.remaining_after(stage.name)));
    const auto started = std::chrono::steady_clock::now();
    run_planned_stage(stage, p, cfg, L, opts, rd);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    eta.finished(stage.name, secs, p.action == StageAction::kRun);
    log_info(tag + ": done in " + Progress::format_duration(secs) +
             (i + 1 < n ? ", overall ETA " + Progress::format_duration(eta.remaining_after(stage.name)) : std::string()));
  }
  if (opts.cluster) opts.cluster->finish();
  // Timings of every stage (including the report itself) as recorded now.
  if (fs::exists(L.summary())) result.summary = report::read_summary(L.summary());
  rd.finish(true);
  result.report_html = L.report();
  result.summary_json = L.summary();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace

PipelineResult run_pipeline(RunConfig cfg, const PipelineOptions& opts, const StageTable& table) {
  const fs::path out = opts.out.empty() ? fs::path(cfg.run.out) : opts.out;
  cfg.run.out = out.string();
  cfg.simulate.world = cfg.run.world;
  validate_all(sections(cfg));
  check_stage_table(table);
  const RunLayout L(out);
  const bool real = !opts.data.empty();
  std::string identity;
  if (real) identity = resolve_data_source(opts.data).identity();
  const StageTable stages = active_stages(table, real);
  if (!opts.cluster) return lead_pipeline(cfg, opts, stages, L, identity);
  try {  // a failing rank tells the others before it unwinds
    return opts.cluster->leader() ? lead_pipeline(cfg, opts, stages, L, identity)
                                  : follow_pipeline(cfg, opts, stages, L);
  } catch (const DistributedError&) {
    throw;  // another rank's failure (already published) or a lost rank
  } catch (const std::exception& e) {
    opts.cluster->publish_failure(e.what());
    throw;
  }
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
