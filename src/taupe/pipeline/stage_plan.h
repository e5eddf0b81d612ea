#pragma once
// `taupe run` stage planning, derived from the stage table (stage.h; torch-free, no I/O beyond
// what callers pass in): the stage names, the config hash of each stage, and — from the
// manifest of an earlier run in the same directory — which stages to skip, resume or run afresh.
//
// Every stage gets a config hash: FNV-1a 64 over its name, the hashes of the stages it depends
// on (Stage::depends_on) and the canonical TOML (no comments, no speed-only keys) of its config
// inputs (Stage::config), so a change anywhere upstream changes every hash below it. The hash
// is stored in the manifest (stage note "config_hash").
//
// Plan rules (plan_stages), in pipeline order:
//   - recorded hash differs (or none)            -> run fresh (outputs removed first)
//   - same hash, "done", and no dependency runs  -> skip, unless one of its recorded files
//                                                    changed (StageRecord::changed_files) -> run
//   - same hash, "running"/"failed" (interrupted)  -> resume (same work dirs; trainers continue
//                                                     from their checkpoints)
//   - a stage it depends on (directly or through others) runs or resumes -> it runs fresh
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/core/run_dir.h"
#include "taupe/pipeline/stage.h"

namespace taupe {

struct RunConfig;

/// Names of `stages`, in order.
std::vector<std::string> stage_names(const StageTable& stages);

/// The stage names of pipeline_stages() in pipeline order. `real_data`: the first stage is
/// "data" (an existing glimpse dataset) instead of "simulate".
std::vector<std::string> pipeline_stage_names(bool real_data = false);

/// 64-bit FNV-1a of `text`, as 16 lower-case hex digits.
std::string fnv1a_hex(const std::string& text);

/// Config hashes of `stages` (the active stages of one run, active_stages()); `data_identity`
/// goes into the hash of stages with hashes_data_source. `cfg` is not modified.
std::map<std::string, std::string> stage_config_hashes(const StageTable& stages, RunConfig& cfg,
                                                       const std::string& data_identity = {});

/// Config hashes of pipeline_stages() (keys = pipeline_stage_names(real_data)); for real data
/// `data_identity` (e.g. the dataset path and file sizes) goes into the first stage's hash.
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
  /// Files of a "done" stage that no longer match their record (RunDir::verify_stage; filled in
  /// by the caller): such a stage runs again, and so does everything that depends on it.
  std::vector<std::string> changed_files;
};

struct PlannedStage {
  std::string name;
  StageAction action = StageAction::kRun;
  std::string config_hash;   ///< the hash for this run
  std::string reason;        ///< human-readable: "config changed", "interrupted", "done", ...
};

/// Records of a manifest's "stages" array (missing stages are absent from the map).
std::map<std::string, StageRecord> stage_records(const nlohmann::json& manifest);

/// The plan for `stages` (see the header comment); `hashes` = their config hashes.
std::vector<PlannedStage> plan_stages(const StageTable& stages, const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous);

/// The plan for stages that each depend on the one before (`order`), as in pipeline_stages().
std::vector<PlannedStage> plan_stages(const std::vector<std::string>& order,
                                      const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous);

/// Stage::expected_seconds of each of `stages`.
std::map<std::string, double> expected_stage_seconds(const StageTable& stages, const RunConfig& cfg);

/// Stage::expected_memory of each of `stages` (a stage without a model: 0 bytes).
std::map<std::string, MemoryEstimate> expected_stage_memory(const StageTable& stages, const RunConfig& cfg);

/// Rough seconds each stage of pipeline_stages() should take on 2 cores for this configuration
/// (ETAs before real timings are known). Keys = pipeline_stage_names(real_data).
std::map<std::string, double> expected_stage_seconds(const RunConfig& cfg, bool real_data = false);

}  // namespace taupe
