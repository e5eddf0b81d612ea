#pragma once
// `taupe run` stage planning (torch-free, no I/O beyond what callers pass in): which stages the
// pipeline has, which configuration each depends on, and — from the manifest of an earlier
// run in the same directory — which stages to skip, resume or run afresh.
//
// Every stage gets a config hash: FNV-1a 64 over the canonical TOML (no comments) of the config
// sections it reads, chained with the hashes of its upstream stages, so a change anywhere
// upstream changes every hash below it:
//   simulate  <- run.seed, run.world, [simulate], [extract]      (real data: "data" <- path, [extract])
//   encoder   <- simulate + [encoder]
//   projector <- encoder + [projector]
//   encode    <- encoder + projector
//   temporal  <- encode + [temporal] + [cv]
//   perturb   <- temporal + [perturb]
//   report    <- perturb + [report]  (and every stage above, through the chain)
// The hash is stored in the manifest (stage note "config_hash").
//
// Plan rules (plan_stages), in pipeline order:
//   - recorded hash differs (or none)            -> run fresh (outputs removed first)
//   - same hash, "done", and nothing upstream ran -> skip
//   - same hash, "running"/"failed" (interrupted)  -> resume (same work dirs; trainers continue
//                                                     from their checkpoints)
//   - an upstream stage runs or resumes           -> every later stage that was "done" runs fresh
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/core/run_dir.h"

namespace taupe {

struct RunConfig;

/// The stage names in pipeline order. `real_data`: the first stage is "data" (an existing
/// glimpse dataset) instead of "simulate".
std::vector<std::string> pipeline_stage_names(bool real_data = false);

/// 64-bit FNV-1a of `text`, as 16 lower-case hex digits.
std::string fnv1a_hex(const std::string& text);

/// Per-stage config hashes (keys = pipeline_stage_names(real_data)). `data_identity` is mixed
/// into the first stage's hash for real data (e.g. the dataset path and file sizes).
/// `cfg` is not modified (non-const only because config sections bind by reference).
std::map<std::string, std::string> stage_config_hashes(RunConfig& cfg, bool real_data = false,
                                                       const std::string& data_identity = {});

enum class StageAction { kSkip, kResume, kRun };
/// "skip", "resume", "run".
const char* to_string(StageAction a);

/// What an earlier run recorded for a stage.
struct StageRecord {
  StageStatus status = StageStatus::kNone;
  std::string config_hash;
  double seconds = 0;        ///< recorded duration (0 when unknown)
};

struct PlannedStage {
  std::string name;
  StageAction action = StageAction::kRun;
  std::string config_hash;   ///< the hash for this run
  std::string reason;        ///< human-readable: "config changed", "interrupted", "done", ...
};

/// Records of a manifest's "stages" array (missing stages are absent from the map).
std::map<std::string, StageRecord> stage_records(const nlohmann::json& manifest);

/// The plan (see the header comment). `order` = pipeline stage names, `hashes` = their hashes.
std::vector<PlannedStage> plan_stages(const std::vector<std::string>& order,
                                      const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous);

/// Rough seconds each stage should take on 2 cores for this configuration (cost models per
/// stage from the dataset and training sizes; used for ETAs before real timings are known).
/// Keys = pipeline_stage_names(real_data).
std::map<std::string, double> expected_stage_seconds(const RunConfig& cfg, bool real_data = false);

}  // namespace taupe
