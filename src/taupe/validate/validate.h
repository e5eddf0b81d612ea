#pragma once
// `taupe validate`: a validation study of the verdicts. K seeds × worlds at one preset, one
// normal `taupe run` per (world, seed), then a table of how often each verdict came out right.
//
//   STUDY_DIR/study.json                 what the study is (preset, config file, --set, worlds, seeds)
//   STUDY_DIR/<world>/seed-<n>/          one run directory each (pipeline.h), resumable like `taupe run`
//   STUDY_DIR/validation.json            the aggregated table (format below)
//   STUDY_DIR/validation.html            the same as a self-contained page with the effect-size figure
//
// Members are ordered world-major, seed-minor: index i (0-based) is world i / K, seed i % K
// of the study's lists, so a job array of K × worlds tasks covers it (docs/validation.md).
//
// Input contract: each run's summary.json (report/summary.h), read as plain JSON so that a run
// of an older or newer schema degrades to "missing" verdicts instead of an error. Per verdict
// (ground_truth.verdicts[i]): experiment, outcome ("effect" | "no effect" | "inconclusive"),
// direction (+1 | -1 | 0), estimate, ci [lo, hi], margin, expected_outcome, expected_direction,
// correct. A verdict a run lacks counts as "missing", never as correct.
//
// validation.json: format "taupe.validation", version 1, preset, worlds, seeds, runs[] (world,
// seed, dir, status, problem, cv_recall {mitosis, apoptosis[, mitosis_raw, apoptosis_raw]},
// seconds, verdicts[]), cells[] (world, experiment, seeds, expected_outcome,
// expected_direction, counts {effect, no effect, inconclusive, missing}, wrong_direction,
// accuracy / false_effect_rate / power as {k, n, value, ci [lo, hi]} or null), timing
// {runs_sum_s, run_max_s, elapsed_s (this invocation when it ran the whole study, else null)}.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace taupe::validate {

/// Seeds of a study when none are given: 1..kDefaultSeeds.
inline constexpr int kDefaultSeeds = 10;
/// Preset of a study when none is given.
inline constexpr const char* kDefaultPreset = "study";
/// Verdict outcomes as summary.json spells them, and the column of a verdict a run lacks.
inline constexpr const char* kEffect = "effect";
inline constexpr const char* kNoEffect = "no effect";
inline constexpr const char* kInconclusive = "inconclusive";
inline constexpr const char* kMissing = "missing";
/// Count columns of a cell, in table order.
const std::vector<std::string>& outcome_columns();

/// What a study is. Empty fields mean "not given": resolve_study() fills them from study.json
/// or from the defaults (kDefaultPreset, 1..kDefaultSeeds, kSimWorlds).
struct StudySpec {
  std::string preset;
  std::filesystem::path config_file;  ///< optional --config FILE applied to every run
  std::vector<std::string> sets;      ///< --set section.key=value applied to every run
  std::vector<std::string> worlds;
  std::vector<std::int64_t> seeds;
};
void to_json(nlohmann::json& j, const StudySpec& s);
void from_json(const nlohmann::json& j, StudySpec& s);

/// "1..10" or "3,5,8" or "1..3,7" → seeds (ascending input order kept, duplicates rejected).
/// Throws ConfigError naming `what` on bad text.
std::vector<std::int64_t> parse_seed_list(const std::string& text, const std::string& what = "--seeds");

/// The study of STUDY_DIR: study.json when it exists (a given field that differs from it is a
/// ConfigError naming study.json and the field), else `given` with defaults filled in, checked
/// (every world one simulate.world accepts, seeds >= 0, no duplicates, the preset exists).
/// `write` records a new study.json atomically.
StudySpec resolve_study(const std::filesystem::path& study_dir, const StudySpec& given, bool write);
std::filesystem::path study_file(const std::filesystem::path& study_dir);

/// One (world, seed) run of a study.
struct StudyMember {
  std::string world;
  std::int64_t seed = 0;
  std::filesystem::path dir;  ///< STUDY_DIR/<world>/seed-<n>
};
/// Members in the documented order (world-major, seed-minor).
std::vector<StudyMember> study_members(const StudySpec& spec, const std::filesystem::path& study_dir);

struct StudyOptions {
  int index = -1;             ///< >= 0: run only this member (a job-array task); no gather
  int jobs = 1;               ///< > 1: run members as this many child processes at once
  /// Command line that runs one member in a child process; "--index <i>" is appended
  /// (used when jobs > 1; the CLI passes its own executable and arguments).
  std::vector<std::string> child_command;
  bool progress = true;       ///< progress bars / stage lines of each run
  std::string command_line;   ///< recorded in each run's manifest
};

/// " (+)" / " (-)" after an effect with a direction, else "".
std::string direction_mark(const std::string& outcome, int direction);

/// One run of the study as read back from its directory.
struct VerdictRecord {
  std::string experiment;
  std::string outcome = kMissing;  ///< effect | no effect | inconclusive | missing
  int direction = 0;
  double estimate, ci_lo, ci_hi, margin;  ///< NaN when absent
  std::string expected_outcome;    ///< "" when absent
  int expected_direction = 0;
  bool correct = false;
  /// The decision rested on the statistic's interval (summary.json statistic_read; older
  /// summaries: the estimate is finite).
  bool statistic_read = false;
  VerdictRecord();
};
struct RunRecord {
  StudyMember member;
  std::string status = kMissing;  ///< "done" (summary.json read) | "missing" | "invalid"
  std::string problem;            ///< why not done
  std::vector<VerdictRecord> verdicts;
  std::map<std::string, double> cv_recall;  ///< mitosis, apoptosis (gated) and *_raw when reported
  std::string skill_state;                  ///< model_skill.state: shown | absent | uncertain ("" unknown)
  std::map<std::string, double> timings_s;  ///< per stage (summary.json, else manifest.json)
  /// The simulated world's ground truth (data/simulation.json, world_stat_keys(); the logit
  /// entries are the coefficients' estimates); empty when the run has no simulation.json.
  std::map<std::string, double> world_stats;
  double seconds() const;                   ///< sum of the stage timings
};
/// The simulation.json statistics a study records per run: how well compression, WT contact and
/// a smaller nucleus each rank apoptosis above mitosis (AUC), and the logistic coefficients of
/// compression and WT contact taken together, which tell a planted cause from its proxy.
const std::vector<std::string>& world_stat_keys();
/// Reads STUDY_DIR/<world>/seed-<n>/summary.json (and manifest.json for timings); never throws
/// for a missing or malformed run: the record says so.
RunRecord read_run(const StudyMember& m);
/// The same from parsed documents (`manifest` may be null).
RunRecord parse_run(const StudyMember& m, const nlohmann::json& summary, const nlohmann::json& manifest);

/// A proportion k/n with its Wilson 95 % interval.
struct Proportion {
  std::int64_t k = 0, n = 0;
  double value = 0, lo = 0, hi = 1;
};
Proportion proportion(std::int64_t k, std::int64_t n);

/// One world × verdict cell of the table.
struct Cell {
  std::string world, experiment;
  std::int64_t seeds = 0;             ///< K: runs of this world in the study
  std::string expected_outcome;       ///< from the runs ("" when no run reported the verdict)
  int expected_direction = 0;
  std::map<std::string, std::int64_t> counts;  ///< outcome_columns() → runs; they sum to `seeds`
  std::int64_t correct = 0;
  std::int64_t wrong_direction = 0;   ///< "effect" with a direction other than the expected one
  Proportion accuracy;                ///< correct / K
  std::optional<Proportion> false_effect_rate;  ///< "effect" / K where no effect is planted
  std::optional<Proportion> power;              ///< right-direction "effect" / K where one is planted
};

/// One ground-truth statistic of a world over the study's runs that recorded it.
struct WorldStat {
  std::int64_t n = 0;
  double mean = 0, min = 0, max = 0;
};

struct Validation {
  StudySpec spec;
  std::vector<RunRecord> runs;  ///< study_members() order
  std::vector<Cell> cells;      ///< world-major, verdicts in first-reported order
  /// world → world_stat_keys() entry → over the world's runs (keys no run recorded are absent).
  std::map<std::string, std::map<std::string, WorldStat>> world_stats;
  double runs_sum_s = 0, run_max_s = 0;
  std::optional<double> elapsed_s;  ///< wall time of the invocation that ran the whole study
  nlohmann::json to_json() const;
  /// Terminal view: one line per cell.
  std::string brief() const;
};

/// The table from the runs (pure; every world × verdict reported by any run gets a cell).
Validation aggregate(const StudySpec& spec, std::vector<RunRecord> runs);
/// Reads every member's run, aggregates and writes validation.json + validation.html atomically.
Validation gather(const std::filesystem::path& study_dir, std::optional<double> elapsed_s = std::nullopt);

/// Runs (or resumes) one member in this process: a normal `taupe run` of the study's preset,
/// config file and sets with run.world and run.seed set, in the member's directory.
void run_member(const StudySpec& spec, const StudyMember& m, const StudyOptions& opts);

struct StudyResult {
  std::vector<StudyMember> ran;      ///< members this invocation ran or resumed to completion
  std::vector<std::string> failed;   ///< "world seed n: message"
  std::optional<Validation> validation;  ///< when the whole study was handled (no --index)
};
/// `taupe validate`: resolves the study, runs the selected members (all, or opts.index; one at
/// a time or opts.jobs child processes), and gathers unless opts.index is set. A failing run
/// does not stop the others; the failures are listed in the result (the CLI exits non-zero).
StudyResult run_study(const std::filesystem::path& study_dir, const StudySpec& given, const StudyOptions& opts);

}  // namespace taupe::validate
