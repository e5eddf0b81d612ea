#pragma once
// The stage table of `taupe run`: one Stage per pipeline stage, in pipeline order. Everything
// the pipeline knows about a stage is in its entry, and everything else derives from the table:
//   - the plan and the stage names (stage_plan.h: pipeline_stage_names, plan_stages),
//   - the invalidation hash chain (stage_config_hashes: the stage's config inputs + the
//     hashes of the stages it depends on),
//   - the ETA model (expected_stage_seconds: each stage's cost model),
//   - the memory check (expected_stage_memory: each stage's memory model),
//   - the verified artifacts (the files under `artifacts` are hashed into manifest.json when the
//     stage finishes and checked before it is skipped),
//   - the dispatch (run_pipeline loops over the table and calls each stage's `run`).
// Adding a stage = one entry in pipeline_stages() (stages.cpp) plus the stage's own code;
// docs/pipeline.md has a worked example. Torch-free.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/core/progress.h"
#include "taupe/core/resources.h"

namespace taupe {

class Cluster;
class RunDir;
struct RunConfig;
struct RunLayout;
struct PipelineOptions;

/// What a stage's `run` gets: the resolved configuration, the run directory and how it runs.
struct StageContext {
  RunConfig& cfg;
  const RunLayout& layout;
  const PipelineOptions& opts;
  /// The run directory's manifest and lock: rank 0's (or the only process's); nullptr on the
  /// other ranks of a multi-process run, which write no run-level file.
  RunDir* run_dir;
  std::string stage;            ///< this stage's name
  bool fresh = true;            ///< true: run from scratch; false: resume (same work dirs)
  ProgressOptions progress;     ///< for progress bars on stderr
  std::chrono::steady_clock::time_point started;  ///< when this stage started
  /// Records `key = value` for this stage in manifest.json (rank 0 only; a no-op elsewhere).
  void note(const std::string& key, const nlohmann::json& value) const;
  /// The job's ranks when the run is multi-process (docs/distributed.md); nullptr otherwise.
  Cluster* cluster() const;
};

/// Which runs a stage belongs to.
enum class StageSource { kAlways, kSimulated, kRealData };

struct Stage {
  std::string name;
  /// Stages whose outputs this one reads; each must come earlier in the table. Their config
  /// hashes chain into this stage's, and when one of them runs, this stage runs again.
  std::vector<std::string> depends_on;
  /// Configuration the stage's outputs depend on: a section name ("encoder": every key of
  /// [encoder] except the speed-only ones) or one key ("run.seed").
  std::vector<std::string> config;
  /// The config key holding the stage's seed ("" = none); recorded in manifest.json.
  std::string seed_key;
  /// The (real) dataset's identity (path, size, time) is part of the config hash.
  bool hashes_data_source = false;
  /// What the stage writes in a run directory (files or directories). Removed
  /// before the stage runs afresh (or always when it is not resumable); once the stage has
  /// finished, these are its finished artifacts.
  std::function<std::vector<std::filesystem::path>(const RunLayout&)> artifacts;
  /// Continues from its own work files when interrupted (otherwise starts over).
  bool resumable = false;
  /// In a multi-process run every rank runs it, each doing its share through ctx.cluster()
  /// (rank 0 writes the results); otherwise rank 0 runs it alone while the others wait.
  bool distributed = false;
  StageSource source = StageSource::kAlways;
  /// Cost model: expected seconds on 2 cores for this configuration (ETA before real timings).
  std::function<double(const RunConfig&)> expected_seconds;
  /// Memory model: rough peak memory for this configuration, what dominates it and the setting
  /// that lowers it; checked against the memory available before the stage starts.
  std::function<MemoryEstimate(const RunConfig&)> expected_memory;
  /// Does the work. Throws taupe::Error.
  std::function<void(StageContext&)> run;
};

using StageTable = std::vector<Stage>;

/// The stages of `taupe run`, in pipeline order (stages.cpp).
const StageTable& pipeline_stages();

/// The stages of `table` that take part in a simulated (`real_data` false) or --data run;
/// dependencies on stages that do not take part are dropped.
StageTable active_stages(const StageTable& table, bool real_data);

/// Throws Error when a stage name repeats or a stage depends on one that is not earlier.
void check_stage_table(const StageTable& table);

}  // namespace taupe
