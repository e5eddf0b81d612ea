#pragma once
// Seed replicates: runs of one dataset with different pipeline seeds (`taupe run --data D --seeds
// LIST`), combined into one verdict per experiment whose interval includes the spread between
// trainings (docs/perturbation.md "What a run's interval covers").
//
// A run's interval resamples its fold models and, within them, lineages; every fold model shares
// the run's one encoder and projector, so the interval is conditional on them. Runs that differ
// only in their seeds sample that component too: across R runs the verdict reads the mean of
// their estimates with the t interval mean ± t(R − 1) · sd / √R at 1 − α (and 1 − 2α for the
// equivalence side), and applies the same three-way rule (perturb::decide) with the runs' margin.
// It is inconclusive when a run could not read its statistic (the realistic range or an
// unassessable PC stopped it) or fewer than two could; an effect needs the models' skill shown in
// every run, and skill shown absent in every run gives "no effect", as in a single run.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/perturb/analysis.h"
#include "taupe/validate/validate.h"

namespace taupe::validate {

/// One experiment's verdict across the replicate runs of a dataset.
struct ReplicateVerdict {
  std::string experiment;
  int runs = 0;                        ///< runs that report the verdict
  int read = 0;                        ///< of those, runs whose statistic was read
  std::map<std::string, int> outcomes; ///< the runs' own outcomes (effect, no effect, inconclusive)
  std::vector<double> estimates;       ///< of the read runs, in member order
  double margin = 0;
  /// sd of the read runs' estimates (R − 1 denominator), and the mean half-width of their own
  /// (1 − α) intervals: how much of the spread between trainings a single run's interval shows.
  double sd_between = 0, mean_half_width = 0;
  /// Some read run's estimate lies outside another read run's own interval.
  bool runs_disagree = false;
  perturb::Interval interval;          ///< over the read runs (NaN when not computed)
  std::string outcome = kInconclusive; ///< effect | no effect | inconclusive
  int direction = 0;
  std::int64_t runs_needed = -1;       ///< inconclusive: runs that would decide (-1 unknown)
  std::string reason;
};

/// The replicate runs of one dataset.
struct ReplicateGroup {
  std::string data;                        ///< the --data source
  std::vector<std::string> members;        ///< finished runs, in member order
  std::vector<std::string> skill_states;   ///< per finished run: shown | absent | uncertain | ""
  double alpha = 0.05;                     ///< the runs' verdict.alpha
  std::vector<ReplicateVerdict> verdicts;
  nlohmann::json to_json() const;
  std::string brief() const;
};

/// One run of a sweep as the combination sees it.
struct ReplicateRun {
  std::string data;       ///< its --data source ("" = simulated: its seed changes the data)
  std::string name;       ///< the sweep member
  const RunRecord* run = nullptr;
};

/// Combines the finished runs (status "done") of each --data source that has at least two of
/// them; `alpha` as the runs were configured. Simulated runs are never replicates of each other.
std::vector<ReplicateGroup> combine_replicates(const std::vector<ReplicateRun>& runs, double alpha);

/// The verdicts of one group of runs (exposed for tests).
ReplicateVerdict combine_verdict(const std::string& experiment, const std::vector<const VerdictRecord*>& runs,
                                 const std::vector<std::string>& skill_states, double alpha);

/// verdict.alpha of a run directory's config.toml (the default when it is absent or unreadable).
double run_alpha(const std::filesystem::path& run_dir);

}  // namespace taupe::validate
