#pragma once
// Sweeps of independent runs: `taupe run --seeds LIST` and / or `--data A,B,...` run the same
// pipeline once per seed and input, each in its own directory under the sweep's --out, so a Slurm
// job array (or any set of processes) fans them out with `--index K` / SLURM_ARRAY_TASK_ID, and
// `taupe gather OUT` collects their summaries into one table (docs/pipeline.md "Sweeps").
//
//   OUT/sweep.json                     the members (written by the first invocation)
//   OUT/seed-<n>/                      a seed sweep's runs
//   OUT/<input>/ or OUT/<input>/seed-<n>/   a data sweep's runs (one per input, per seed)
//   OUT/runs.json, OUT/runs.csv        the gathered table (runs.json also combines the seeds of
//                                      each --data source: `replicates`, replicates.h)
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/validate/replicates.h"
#include "taupe/validate/validate.h"

namespace taupe::validate {

struct SweepSpec {
  std::vector<std::int64_t> seeds;                ///< empty: the configuration's run.seed only
  std::vector<std::filesystem::path> inputs;      ///< --data sources (absolute); empty: simulate
  bool empty() const { return seeds.empty() && inputs.empty(); }
  bool operator==(const SweepSpec& o) const { return seeds == o.seeds && inputs == o.inputs; }
};

struct SweepMember {
  std::string name;             ///< "seed-3", "movieA", "movieA/seed-3"
  std::filesystem::path dir;    ///< OUT/<name>
  std::int64_t seed = -1;       ///< -1: the configuration's run.seed
  std::filesystem::path data;   ///< empty: simulated
};

/// Members in order: input-major, seed-minor. An input is named after its directory, or its file
/// without the extension; inputs whose names collide are named by their path below the inputs'
/// common parent ('/' → '-').
std::vector<SweepMember> sweep_members(const SweepSpec& spec, const std::filesystem::path& out);

/// OUT/sweep.json when it exists (a given spec that differs from it is a ConfigError naming the
/// file), else `given`; `write` records a new one atomically.
SweepSpec resolve_sweep(const std::filesystem::path& out, const SweepSpec& given, bool write);

/// The member for a job-array index: `index` >= 0, else SLURM_ARRAY_TASK_ID when set, else -1
/// (every member). ConfigError naming the source when it is out of range.
int sweep_index(int index, std::size_t members);

struct SweepTable {
  std::vector<SweepMember> members;
  std::vector<RunRecord> runs;  ///< members' order; status "missing" for a run that has not finished
  /// Per --data source with at least two finished seeds: its verdicts across them (replicates.h).
  std::vector<ReplicateGroup> replicates;
  nlohmann::json to_json() const;
  /// One row per member: member, status, seed, data, world, CV recall (gated and of the TCN alone),
  /// every verdict's outcome / direction / estimate / interval, seconds.
  std::string csv() const;
  std::string brief() const;
};

/// Reads every member's summary.json, combines the seed replicates of each --data source, and
/// writes OUT/runs.json and OUT/runs.csv atomically.
/// IoError when OUT holds no sweep.json.
SweepTable gather_sweep(const std::filesystem::path& out);

}  // namespace taupe::validate
