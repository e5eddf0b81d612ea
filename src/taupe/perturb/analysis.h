#pragma once
// Statistics of the perturbation experiments (pure numerics, torch-free): confusion matrices over
// models, paired bootstrap of recall changes, realistic range, OLS slopes of prediction curves
// with bootstrap CIs and multiple-comparison correction, and the ground-truth verdict rules.
//
// Conventions. Every real trajectory i has the model that held it out (m_i, 0..M-1) and its true
// class c_i (0 mitosis, 1 apoptosis). Per-model quantities are computed on that model's own
// trajectories; "mean over models" averages the models that have trajectories of the class.
// Bootstrap: trajectories are resampled with replacement within each (model, true class) stratum
// (so every model keeps its test-set composition), paired across conditions (the same resample
// feeds the unperturbed and the perturbed predictions). All statistics bootstrapped here are
// linear in per-trajectory terms, so a resample only reweights precomputed contributions.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace taupe::perturb {

inline constexpr int kNumClasses3 = 3;
using Matrix3 = std::array<std::array<double, 3>, 3>;

/// Point estimate with a CI, the bootstrap standard error and a two-sided p-value (normal
/// approximation z = estimate / se).
struct Interval {
  double estimate = 0, lo = 0, hi = 0, se = 0, p = 1;
  bool excludes_zero() const { return lo > 0 || hi < 0; }
};

/// Trajectory strata for the bootstrap: model and true class of every trajectory.
struct Strata {
  int num_models = 0;
  std::vector<int> model;  ///< (N)
  std::vector<int> truth;  ///< (N) 0..2
  /// Trajectories of (model, class); 0 for empty strata.
  std::int64_t count(int m, int c) const;
  /// Models that have at least one trajectory of class c.
  int models_with(int c) const;
  void finalize();  ///< computes the counts (call after filling model/truth)
  std::vector<std::int64_t> counts;  ///< (M, 3)
};

/// Bootstrap of K linear statistics stat_k = Σ_i w_i h[i*K + k], with w the stratified resample
/// multiplicities (w = 1 for the point estimate). Percentile CIs at `level`, se = sd of replicates.
std::vector<Interval> bootstrap_linear(const Strata& strata, const std::vector<double>& h, int k, int reps,
                                       std::uint64_t seed, double level);

/// Row-normalised confusion per model (rows = true class, columns = predicted) and mean / sd over
/// models (a model without trajectories of a class does not enter that row's mean / sd).
struct ConfusionStats {
  std::vector<Matrix3> per_model;
  Matrix3 mean{}, sd{};
};
ConfusionStats confusion_stats(int num_models, const std::vector<int>& model, const std::vector<int>& truth,
                               const std::vector<int>& pred);

/// Change in recall of class c, mean over models of (recall_b − recall_a) on each model's own
/// trajectories, with a paired stratified bootstrap CI. Trajectories of other classes are ignored.
Interval delta_recall(const Strata& strata, const std::vector<int>& pred_a, const std::vector<int>& pred_b, int c,
                      int reps, std::uint64_t seed, double level);

/// Realistic range: the contiguous run of grid points around the one nearest to 0 where
/// synthetic_fraction < threshold. Returns {first, last} indices, or {-1, -1} when the point
/// nearest 0 is already outside.
std::pair<int, int> realistic_range(const std::vector<double>& shifts, const std::vector<double>& synthetic_fraction,
                                    double threshold);
/// Intersection of two index ranges ({-1,-1} when empty).
std::pair<int, int> intersect_ranges(std::pair<int, int> a, std::pair<int, int> b);

/// OLS weights a_s (zero outside [first, last]) so that slope = Σ_s a_s y_s for every y; all zero
/// when the range has fewer than two points.
std::vector<double> ols_slope_weights(const std::vector<double>& x, std::pair<int, int> range);

/// Predictions of a sweep: P perturbations (e.g. PCs) × S grid points × N trajectories.
struct Sweep {
  int num_p = 0, num_s = 0;
  std::int64_t n = 0;
  std::vector<std::uint8_t> pred;  ///< (P, S, N) predicted class
  std::uint8_t at(int p, int s, std::int64_t i) const {
    return pred[(static_cast<std::size_t>(p) * num_s + s) * n + i];
  }
};

/// Fractions predicted as each class: (P, S, M, 3 true, 3 predicted); NaN for empty strata.
std::vector<double> sweep_fractions(const Sweep& sw, const Strata& strata);
inline std::size_t frac_index(int p, int s, int m, int c, int j, int num_s, int num_m) {
  return ((((static_cast<std::size_t>(p) * num_s + s) * num_m + m) * 3 + c) * 3) + j;
}

/// Per-PC slope analysis of a sweep (paper Fig 6, with CIs).
struct SlopeResult {
  int p = 0;
  std::array<std::pair<int, int>, 2> range_by_class{};  ///< realistic range per true class (indices)
  std::pair<int, int> range{-1, -1};                     ///< intersection: where slopes are fitted
  /// [true class 0..1 or 2 = class-balanced][predicted class 0..1]: slope of the mean curve.
  std::array<std::array<double, 2>, 3> slope{};
  Interval slope_apoptosis;   ///< class-balanced fraction predicted apoptosis: estimate + bootstrap CI
  Interval slope_mitosis;     ///< same for mitosis
  double p_adjusted = 1;      ///< apoptosis slope p-value after correction over the P perturbations
  bool significant = false;   ///< p_adjusted < 1 − level
  double sign_agreement = 0;  ///< fraction of models whose own apoptosis slope has the mean's sign
};
/// Slopes of every perturbation p; `correction` "holm" | "bh".
std::vector<SlopeResult> sweep_slopes(const Sweep& sw, const Strata& strata, const std::vector<double>& shifts,
                                      double realistic_threshold, int reps, std::uint64_t seed, double level,
                                      const std::string& correction);

/// Mean over models (ignoring NaN) and sd.
std::pair<double, double> mean_sd_ignore_nan(const std::vector<double>& v);

// ---- ground-truth verdicts ------------------------------------------------------------------
struct VerdictInputs {
  std::string world;                 ///< "" for real data
  double practical_threshold = 0.06;
  bool have_switch = false;
  Interval delta_apoptosis_recall;   ///< switched − normalised-unswitched
  bool have_pc = false;
  int nuclear_pc = -1;               ///< PC most correlated with nuclear area (-1 unknown)
  double nuclear_rho = 0;
  int top_pc = -1;                   ///< PC with the largest |class-balanced apoptosis slope|
  std::vector<double> slope_apoptosis;        ///< per PC
  std::vector<Interval> slope_ci_apoptosis;   ///< per PC
  std::vector<bool> significant;              ///< per PC, after correction
};
struct Verdict {
  std::string experiment;   ///< "neighbour identity", "nuclear size", "any cause"
  std::string conclusion;   ///< one line with the numbers
  bool causal = false;      ///< what the engine concluded
  bool has_truth = false;   ///< simulated data (world known)
  bool expected = false;    ///< what the planted world implies
  bool correct = false;     ///< causal == expected (only meaningful with has_truth)
};
/// Rules (docs/perturbation.md):
///  - neighbour identity causal ⇔ CI of Δ apoptosis recall excludes 0 and |Δ| ≥ practical threshold;
///    expected causal ⇔ world = contact;
///  - nuclear size causal ⇔ the nuclear-size PC's apoptosis slope is significant after correction
///    and it is the top-|slope| PC; expected ⇔ world = mechanical;
///  - any cause found ⇔ neighbour identity causal or some PC significant after correction;
///    expected ⇔ world ≠ neutral.
std::vector<Verdict> make_verdicts(const VerdictInputs& in);

std::string format_interval(const Interval& v, int digits = 3);

}  // namespace taupe::perturb
