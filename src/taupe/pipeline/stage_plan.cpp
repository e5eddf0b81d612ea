#include "taupe/pipeline/stage_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "taupe/core/config_io.h"
#include "taupe/pipeline/run_config.h"
#include "taupe/pipeline/pipeline_config.h"

namespace taupe {

namespace {

// Keys that only change how fast a stage runs, never what it writes: they do not invalidate.
const std::set<std::string>& resource_keys() {
  static const std::set<std::string> keys = {"threads",           "loader_threads",   "prefetch_batches",
                                             "frame_cache",       "predict_memory_mb", "memory_budget_mb"};
  return keys;
}

template <class Config>
std::string section_text(const std::string& name, const Config& cfg) {
  Config copy = cfg;
  ConfigSections secs = {make_section(name, copy)};
  const std::string toml = to_toml(secs, false);
  std::istringstream in(toml);
  std::string line, out;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) {
      std::string key = line.substr(0, eq);
      key.erase(key.find_last_not_of(" \t") + 1);
      key.erase(0, key.find_first_not_of(" \t"));
      if (resource_keys().count(key)) continue;
    }
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace

std::vector<std::string> pipeline_stage_names(bool real_data) {
  return {real_data ? "data" : "simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"};
}

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::map<std::string, std::string> stage_config_hashes(RunConfig& cfg, bool real_data,
                                                       const std::string& data_identity) {
  std::map<std::string, std::string> h;
  const std::string first = real_data ? "data" : "simulate";
  if (real_data) {
    h[first] = fnv1a_hex("data\n" + data_identity + "\n" + section_text("extract", cfg.extract));
  } else {
    h[first] = fnv1a_hex("simulate\nrun.seed=" + std::to_string(cfg.run.seed) + "\nrun.world=" + cfg.run.world +
                         "\n" + section_text("simulate", cfg.simulate) + section_text("extract", cfg.extract));
  }
  h["encoder"] = fnv1a_hex("encoder\n" + h[first] + "\n" + section_text("encoder", cfg.encoder));
  h["projector"] = fnv1a_hex("projector\n" + h["encoder"] + "\n" + section_text("projector", cfg.projector));
  h["encode"] = fnv1a_hex("encode\n" + h["encoder"] + "\n" + h["projector"]);
  h["temporal"] = fnv1a_hex("temporal\n" + h["encode"] + "\n" + section_text("temporal", cfg.temporal) +
                            section_text("cv", cfg.cv));
  h["perturb"] = fnv1a_hex("perturb\n" + h["temporal"] + "\n" + section_text("perturb", cfg.perturb));
  std::string report = "report\n" + h["perturb"] + "\n";
  for (const auto& s : pipeline_stage_names(real_data))
    if (s != "report") report += s + "=" + h[s] + "\n";
  h["report"] = fnv1a_hex(report + section_text("report", run_report_config(cfg)));
  return h;
}

const char* to_string(StageAction a) {
  switch (a) {
    case StageAction::kSkip: return "skip";
    case StageAction::kResume: return "resume";
    case StageAction::kRun: return "run";
  }
  return "run";
}

std::map<std::string, StageRecord> stage_records(const nlohmann::json& manifest) {
  std::map<std::string, StageRecord> out;
  if (!manifest.is_object() || !manifest.contains("stages") || !manifest["stages"].is_array()) return out;
  for (const auto& st : manifest["stages"]) {
    if (!st.is_object()) continue;
    const std::string name = st.value("name", "");
    if (name.empty()) continue;
    StageRecord r;
    try {
      r.status = stage_status_from_string(st.value("status", "none"));
    } catch (...) {
      r.status = StageStatus::kNone;
    }
    if (st.contains("config_hash") && st["config_hash"].is_string()) r.config_hash = st["config_hash"].get<std::string>();
    if (st.contains("seconds") && st["seconds"].is_number()) r.seconds = st["seconds"].get<double>();
    out[name] = r;
  }
  return out;
}

std::vector<PlannedStage> plan_stages(const std::vector<std::string>& order,
                                      const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous) {
  std::vector<PlannedStage> plan;
  bool upstream_ran = false;
  std::string upstream_name;
  for (const auto& name : order) {
    PlannedStage p;
    p.name = name;
    auto h = hashes.find(name);
    p.config_hash = h != hashes.end() ? h->second : std::string();
    auto prev = previous.find(name);
    if (prev == previous.end() || prev->second.status == StageStatus::kNone) {
      p.action = StageAction::kRun;
      p.reason = "not run yet";
    } else if (prev->second.config_hash != p.config_hash) {
      p.action = StageAction::kRun;
      p.reason = prev->second.config_hash.empty() ? "no recorded config hash" : "configuration changed";
    } else if (prev->second.status == StageStatus::kDone || prev->second.status == StageStatus::kSkipped) {
      if (upstream_ran) {
        p.action = StageAction::kRun;
        p.reason = "upstream stage " + upstream_name + " reran";
      } else {
        p.action = StageAction::kSkip;
        p.reason = "done";
      }
    } else {  // running (killed) or failed, same configuration
      p.action = StageAction::kResume;
      p.reason = std::string("interrupted (") + to_string(prev->second.status) + ")";
    }
    if (p.action != StageAction::kSkip && !upstream_ran) {
      upstream_ran = true;
      upstream_name = name;
    }
    plan.push_back(p);
  }
  return plan;
}

std::map<std::string, double> expected_stage_seconds(const RunConfig& cfg, bool real_data) {
  // Cost models calibrated on the quick preset on 2 cores (docs/pipeline.md); deliberately
  // simple: the ETA is corrected from the real timings as stages finish.
  const auto& s = cfg.simulate;
  const auto& x = cfg.extract;
  // Field area in units of the calibration field (512 x 512 px at 0.65 µm = 333 x 333 µm):
  // mechanics and trajectory counts scale with the physical area, not with the pixel count.
  const double area = static_cast<double>(s.fov_width_px) * s.fov_height_px * s.pixel_size_um * s.pixel_size_um /
                      (0.65 * 0.65);
  const double frames = s.frames + s.burn_in_frames;
  const double sim = 9e-8 * s.fovs * area * frames;
  double patches = static_cast<double>(s.fovs) * std::ceil(static_cast<double>(s.frames) / x.patch_frame_stride) *
                   x.patches_per_frame;
  if (cfg.encoder.max_patches > 0) patches = std::min(patches, static_cast<double>(cfg.encoder.max_patches));
  // labelled trajectories: ~ 290 per 512x512 field and 24 h (quick: ~1,150)
  const double traj = 290.0 * s.fovs * area / (512.0 * 512.0) * s.frames / 360.0;
  const double glimpse_frames = traj * (x.max_frames_before_cutoff + (x.frames_after_cutoff ? 12 : 0));
  const double enc_rate = 350.0;   // encoder training images/s
  const double inf_rate = 2500.0;  // encoding images/s
  std::map<std::string, double> e;
  e[real_data ? "data" : "simulate"] = real_data ? 5.0 : 2.0 + sim;
  e["encoder"] = 3.0 + patches * cfg.encoder.epochs / enc_rate;
  e["projector"] = 1.0 + patches / inf_rate;
  e["encode"] = 1.0 + glimpse_frames / inf_rate;
  e["temporal"] = 2.0 + static_cast<double>(cfg.cv.folds) * cfg.temporal.epochs * cfg.temporal.steps_per_epoch *
                            cfg.temporal.batch_size * (cfg.temporal.max_len / 128.0) / 9000.0;
  const double shifts = cfg.perturb.shifts().size();
  e["perturb"] = 5.0 + traj * 2 * cfg.encoder.latent_dims * shifts / 20000.0 + glimpse_frames * 3 / inf_rate;
  e["report"] = 3.0;
  return e;
}

}  // namespace taupe
