#pragma once
// Configuration of the virtual perturbation engine (`[perturb]` in configs/*.toml). See
// docs/perturbation.md for what every experiment does and how verdicts are reached.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "taupe/core/config.h"
#include "taupe/perturb/verdict_config.h"
#include "taupe/temporal/temporal_config.h"

namespace taupe {

/// Names of the experiments, in the order `taupe perturb all` runs them.
inline const std::vector<std::string>& perturb_experiment_names() {
  static const std::vector<std::string> names = {"switch-neighbours", "switch-centre", "pc-shift",
                                                 "pc-ablate",         "pc-window",     "shrink-nucleus"};
  return names;
}

struct PerturbConfig {
  static constexpr const char* kSection = "perturb";
  // ---- which experiments ------------------------------------------------------------------
  std::string experiments = "all";        ///< "all" or a comma-separated subset of the names above
  // ---- pc-shift (eq. 8) ---------------------------------------------------------------------
  double shift_min = -6.0;                ///< first shift of the grid
  double shift_max = 6.0;                 ///< last shift of the grid (inclusive)
  double shift_step = 0.5;                ///< grid step
  std::string shift_units = "pc";         ///< "pc": absolute PC units (paper); "sd": times each PC's sd
  double realistic_threshold = 0.2;       ///< realistic range: < this fraction of a true class predicted synthetic
  std::vector<double> decode_shifts = {-6, -4, -2, 0, 2, 4, 6};  ///< columns of the decoded rows (Fig 5a,b)
  int min_range_points = 5;               ///< the top-|slope| PC needs a realistic range of at least this many grid points
  // ---- statistics ---------------------------------------------------------------------------
  int bootstrap_reps = 1000;              ///< bootstrap resamples of trajectories (stratified by model and class)
  std::string correction = "holm";        ///< multiple comparisons over the PCs: holm | bh
  /// Resampling of every bootstrap: "hierarchical" (models, then lineages within each model) or
  /// "trajectories" (models fixed, trajectories within (model, class) strata).
  std::string bootstrap = "hierarchical";
  /// The `[verdict]` section (its own TOML section; every interval is at level verdict.level()).
  VerdictConfig verdict;
  // ---- switch normalisation (paper §3.1; reference §8 norm_channel) ------------------------
  int norm_median_radius = 2;             ///< disk radius of the median filter (pixels)
  double norm_outlier_threshold = 5.0;    ///< outlier if |x - local median| > this x channel sd
  double norm_percentile_lo = 5.0;        ///< percentile mapped to 0
  double norm_percentile_hi = 99.0;       ///< percentile mapped to 1
  // ---- image-space experiments ------------------------------------------------------------
  std::int64_t max_image_trajectories = 0;  ///< switch/shrink experiments use at most this many per model (0 = all)
  int example_count = 3;                  ///< example trajectories saved as Fig 3 panels
  int example_frames = 6;                 ///< frames (ending at the cutoff) per example panel
  std::vector<double> shrink_factors = {0.7, 0.8, 0.9, 1.0, 1.1, 1.2};  ///< central nucleus scale factors
  // ---- pc-window ----------------------------------------------------------------------------
  std::vector<int> window_lengths = {1, 2, 4, 8, 16, 32, 64, 128};  ///< last L real frames shifted
  std::vector<double> window_shifts = {-3.0, -1.5, 1.5, 3.0};       ///< shifts (shift_units) per L
  // ---- resources ----------------------------------------------------------------------------
  std::int64_t memory_budget_mb = CvConfig{}.predict_memory_mb;  ///< input buffer of one batched prediction call
  std::int64_t synthetic_per_model = -1;  ///< synthetic test inputs per model (-1 = as many as its real ones)
  std::int64_t seed = -1;                 ///< bootstrap, synthetic inputs, example choice; -1 = from run.seed

  template <class V>
  void visit(V& v) {
    v("experiments", experiments,
      "experiments of `taupe perturb all`: all | comma list of switch-neighbours, switch-centre, pc-shift, "
      "pc-ablate, pc-window, shrink-nucleus");
    v("shift_min", shift_min, "first PC shift of the grid");
    v("shift_max", shift_max, "last PC shift of the grid (inclusive)");
    v("shift_step", shift_step, "PC shift grid step", above(0.0));
    v("shift_units", shift_units, "pc: shifts in PC units (paper) | sd: multiples of each PC's sd", one_of({"pc", "sd"}));
    v("realistic_threshold", realistic_threshold,
      "realistic range: fraction of a true class predicted synthetic stays below this", in_range(0.0, 1.0));
    v("decode_shifts", decode_shifts, "shifts shown in the decoded image rows (Fig 5a,b)");
    v("min_range_points", min_range_points,
      "the top-|slope| PC (named in the verdicts) needs a realistic range of at least this many grid points", in_range(2, 100000));
    v("bootstrap_reps", bootstrap_reps, "bootstrap resamples of trajectories for every CI", in_range(10, 1000000));
    v("correction", correction, "multiple-comparison correction over the PCs: holm | bh", one_of({"holm", "bh"}));
    v("bootstrap", bootstrap,
      "resampling of every CI: hierarchical (models, then lineages within models) | trajectories (models fixed)",
      one_of({"hierarchical", "trajectories"}));
    v("norm_median_radius", norm_median_radius, "switch normalisation: median filter disk radius (px)", in_range(0, 16));
    v("norm_outlier_threshold", norm_outlier_threshold,
      "switch normalisation: outlier if |x - local median| > this times the channel sd", above(0.0));
    v("norm_percentile_lo", norm_percentile_lo, "switch normalisation: percentile mapped to 0", in_range(0.0, 100.0));
    v("norm_percentile_hi", norm_percentile_hi, "switch normalisation: percentile mapped to 1", in_range(0.0, 100.0));
    v("max_image_trajectories", max_image_trajectories,
      "image-space experiments: at most this many trajectories per model (0 = all)", at_least(0));
    v("example_count", example_count, "example trajectories saved as switch panels (Fig 3)", in_range(0, 100));
    v("example_frames", example_frames, "frames per example panel (ending at the cutoff)", in_range(1, 128));
    v("shrink_factors", shrink_factors, "shrink-nucleus: scale factors of the central nucleus", in_range(0.2, 3.0));
    v("window_lengths", window_lengths, "pc-window: number L of last real frames shifted", in_range(1, 4096));
    v("window_shifts", window_shifts, "pc-window: shifts applied for every L");
    v("memory_budget_mb", memory_budget_mb, "input buffer of one batched prediction call (MB)", above(0), speed_only);
    v("synthetic_per_model", synthetic_per_model, "synthetic test inputs per model (-1 = as many as its real ones)", at_least(-1));
    v("seed", seed, "seed of bootstrap resamples, synthetic inputs and example choice (-1 = derived from run.seed)",
      at_least(-1));
  }

  void validate() const {
    check_fields(*this);
    if (!(shift_max >= shift_min))
      throw ConfigError("perturb.shift_max = " + config_value_text(shift_max) + ": must be >= perturb.shift_min (" +
                        config_value_text(shift_min) + ")");
    if (!(shift_min <= 0.0 && shift_max >= 0.0))
      throw ConfigError("perturb.shift_min/shift_max = [" + config_value_text(shift_min) + ", " +
                        config_value_text(shift_max) + "]: the grid must contain 0 (the realistic range grows from it)");
    if ((shift_max - shift_min) / shift_step > 10000)
      throw ConfigError("perturb.shift_step = " + config_value_text(shift_step) + ": more than 10000 grid points");
    verdict.validate();
    if (!(norm_percentile_hi > norm_percentile_lo))
      throw ConfigError("perturb.norm_percentile_hi = " + config_value_text(norm_percentile_hi) +
                        ": must be > perturb.norm_percentile_lo");
    for (const auto& e : experiment_list()) check_one_of("perturb.experiments", e, perturb_experiment_names());
  }

  /// Shift grid shift_min, shift_min + step, ..., shift_max (0 snapped to exactly 0).
  std::vector<double> shifts() const {
    std::vector<double> out;
    const long n = std::lround(std::floor((shift_max - shift_min) / shift_step + 1e-9));
    for (long i = 0; i <= n; ++i) {
      double v = shift_min + static_cast<double>(i) * shift_step;
      if (std::fabs(v) < 1e-9 * shift_step) v = 0.0;
      out.push_back(v);
    }
    return out;
  }

  /// The experiments selected ("all" -> every name, in order).
  std::vector<std::string> experiment_list() const {
    if (experiments == "all" || experiments.empty()) return perturb_experiment_names();
    std::vector<std::string> out;
    std::stringstream ss(experiments);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const auto b = item.find_first_not_of(" \t");
      const auto e = item.find_last_not_of(" \t");
      if (b == std::string::npos) continue;
      out.push_back(item.substr(b, e - b + 1));
    }
    return out;
  }
  /// Level of every confidence interval (1 − verdict.alpha).
  double ci_level() const { return verdict.level(); }
  bool runs(const std::string& experiment) const {
    for (const auto& e : experiment_list())
      if (e == experiment) return true;
    return false;
  }
};

}  // namespace taupe
