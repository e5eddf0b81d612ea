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
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace taupe::perturb {

inline constexpr int kNumClasses3 = 3;
using Matrix3 = std::array<std::array<double, 3>, 3>;

/// Point estimate with a CI, the bootstrap standard error and a two-sided p-value.
///
/// p-value (bootstrap_linear): the normal approximation 2 Φ(−|estimate| / se) while the bootstrap
/// replicates vary. When they do not (every resample gives the same value up to rounding: the
/// statistic is identically 0, or every trajectory of each stratum responds identically, as with
/// degenerate models) the bootstrap says nothing about the spread, and `zero_spread` is set:
/// p = 1 if the estimate is 0, else 2 / (reps + 1) — the most "all replicates on one side of 0"
/// can show (the (1 + #extreme) / (1 + B) rule). p is never 0.
struct Interval {
  double estimate = 0, lo = 0, hi = 0, se = 0, p = 1;
  bool zero_spread = false;  ///< every bootstrap replicate equal (up to rounding)
  /// The interval at level 2·level − 1 (0.90 for 0.95) from the same replicates: the two
  /// one-sided tests of an equivalence test (TOST) at α = 1 − level reject together iff it lies
  /// inside (−margin, +margin). NaN when not computed.
  double eq_lo = std::numeric_limits<double>::quiet_NaN(), eq_hi = std::numeric_limits<double>::quiet_NaN();
  bool excludes_zero() const { return lo > 0 || hi < 0; }
  /// Nothing can be concluded from it: a non-finite bound or estimate, or no spread at all.
  bool degenerate() const {
    return zero_spread || !std::isfinite(estimate) || !std::isfinite(lo) || !std::isfinite(hi);
  }
  /// The same statistic times k (k < 0 swaps the bounds).
  Interval scaled(double k) const;
};

/// Two-sided p-value of Student's t statistic with df > 0 degrees of freedom
/// (regularised incomplete beta; accurate in the far tail).
double student_t_p(double t, double df);

/// Model-level test of a mean over models (the unit of replication of a trained predictor): a
/// one-sample t-test of mean = 0 over the finite per-model values (df = models − 1). The
/// trajectory bootstrap treats the models as fixed; this asks whether independently trained
/// models agree. p = 1 with fewer than 2 models or when every value is 0; when all values are
/// equal and non-zero there is no between-model variation to test against: p = NaN (does not
/// limit the inference; the trajectory bootstrap decides).
struct ModelAgreement {
  int models = 0;            ///< finite per-model values
  double mean = 0, sd = 0;   ///< over those models
  double sign_agreement = 0; ///< fraction of models whose value has the mean's sign (0 values never agree)
  double p = 1;
};
ModelAgreement model_agreement(const std::vector<double>& per_model);

/// How a bootstrap replicate resamples (docs/perturbation.md, "Confidence intervals").
enum class Resampling {
  /// Models fixed; trajectories resampled within each (model, true class) stratum.
  kTrajectories,
  /// Two levels: the models are resampled with replacement, then, within every drawn model, its
  /// clusters (lineages: a mother and her daughters are one unit) with replacement. Per-model
  /// fractions are ratios of resampled sums.
  kModelsThenClusters,
};

/// Trajectory strata for the bootstrap: model and true class of every trajectory.
struct Strata {
  int num_models = 0;
  std::vector<int> model;  ///< (N)
  std::vector<int> truth;  ///< (N) 0..2
  /// (N) cluster key of every trajectory (e.g. the lineage); a cluster is resampled as a unit
  /// within its model. Empty: every trajectory is its own cluster.
  std::vector<std::int64_t> cluster;
  Resampling resampling = Resampling::kModelsThenClusters;
  /// Trajectories of (model, class); 0 for empty strata.
  std::int64_t count(int m, int c) const;
  /// Models that have at least one trajectory of class c.
  int models_with(int c) const;
  void finalize();  ///< computes the counts (call after filling model/truth)
  std::vector<std::int64_t> counts;  ///< (M, 3)
};

/// Bootstrap of K statistics that are class-weighted means over models of per-model ratios:
///   stat_k = Σ_c coef[k][c] · mean over models m with trajectories of class c of
///            (Σ_{i ∈ m, truth c} x[i*K + k]) / n_{m,c},
/// e.g. a recall (x = hit indicator, coef one-hot) or the slope of a class-balanced fraction
/// (coef = ½, ½, 0). Resampled as strata.resampling says; a replicate without any trajectory of
/// a class that a statistic needs is drawn again (at most 100 times, then skipped). Percentile CI
/// at `level` and eq_lo/eq_hi at 2·level − 1; p = 2Φ(−|estimate| / se); zero spread as in Interval.
std::vector<Interval> bootstrap_ratio(const Strata& strata, const std::vector<double>& x, int k,
                                      const std::vector<std::array<double, 3>>& coef, int reps, std::uint64_t seed,
                                      double level);

/// Bootstrap of K linear statistics stat_k = Σ_i w_i h[i*K + k], with w the stratified resample
/// multiplicities (w = 1 for the point estimate). Percentile CIs at `level`, se = sd of replicates.
std::vector<Interval> bootstrap_linear(const Strata& strata, const std::vector<double>& h, int k, int reps,
                                       std::uint64_t seed, double level);

/// Predictive skill of a model set on its own held-out trajectories: the gatekeeper of every
/// causal verdict. A perturbation changes what a model predicts; that says something about the
/// biology only if the model predicts fate better than chance (models fitted to noise still
/// respond to perturbations, and models trained on overlapping folds respond alike).
///
/// Statistic: informedness J = recall(mitosis) + recall(apoptosis) − 1 (Youden's J; 0 = chance,
/// 1 = perfect; balanced accuracy = (J + 1) / 2), the mean over models of each model's J on its
/// own real trajectories (a model without one of the classes does not enter that class's mean).
/// CI: stratified bootstrap (Strata). p: one-sided permutation test of "no skill": true classes
/// shuffled within each model's test set (so every model keeps its prediction distribution and
/// class counts), p = (1 + #{J_perm ≥ J}) / (1 + permutations).
/// passes ⇔ p < alpha and J ≥ min_informedness (a practical threshold, like practical_threshold
/// for recall changes).
struct Skill {
  Interval informedness;        ///< estimate, bootstrap CI; p = the permutation p-value
  double balanced_accuracy = 0; ///< (J + 1) / 2
  double min_informedness = 0;
  double alpha = 0.05;
  int permutations = 0;
  std::int64_t trajectories = 0;  ///< real (mitosis / apoptosis) trajectories used
  std::vector<double> per_model;  ///< J of each model (NaN: a class missing)
  std::vector<std::array<double, 2>> recall;          ///< per model: recall of mitosis, apoptosis (NaN: none)
  std::vector<std::array<std::int64_t, 2>> counts;    ///< per model: mitosis, apoptosis trajectories
  bool passes = false;
  /// "informedness +0.55 [+0.51, +0.59], balanced accuracy 0.77, permutation p 2.00e-03".
  std::string numbers() const;
  /// numbers() + " → the models predict fate" (or do not, and why).
  std::string brief() const;
};
/// pred: predicted class (0..2) of every trajectory of strata (synthetic rows, truth 2, are ignored).
Skill predictive_skill(const Strata& strata, const std::vector<int>& pred, int reps, std::uint64_t seed,
                       double level, double min_informedness);

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

/// Class-balanced change of a predicted probability, paired per trajectory: the mean over the
/// mitosis and apoptosis classes of the per-class mean over models of mean(p_b − p_a) on each
/// model's own trajectories; p_a, p_b (n) per trajectory in strata order. Bootstrap as
/// bootstrap_ratio; bounds clamped to [−1, 1].
Interval delta_probability(const Strata& strata, const std::vector<double>& p_a, const std::vector<double>& p_b,
                           int reps, std::uint64_t seed, double level);

/// Whether a perturbation with this fraction of a real class predicted synthetic is realistic
/// (the paper's rule: finite and strictly below the threshold).
inline bool is_realistic(double synthetic_fraction, double threshold) {
  return std::isfinite(synthetic_fraction) && synthetic_fraction < threshold;
}

/// Realistic range: the contiguous run of grid points around the one nearest to 0 that are
/// is_realistic. Returns {first, last} indices, or {-1, -1} when the point
/// nearest 0 is already outside.
std::pair<int, int> realistic_range(const std::vector<double>& shifts, const std::vector<double>& synthetic_fraction,
                                    double threshold);
/// Intersection of two index ranges ({-1,-1} when empty).
std::pair<int, int> intersect_ranges(std::pair<int, int> a, std::pair<int, int> b);

/// OLS weights a_s (zero outside [first, last]) so that slope = Σ_s a_s y_s for every y; all zero
/// when the range has fewer than two points.
std::vector<double> ols_slope_weights(const std::vector<double>& x, std::pair<int, int> range);
/// Σ_s a_s (y_s − y_first) over the range: the same slope (Σ a_s = 0), but exactly 0 for a
/// constant y (no rounding residue that a zero-spread bootstrap would call significant).
double ols_slope(const std::vector<double>& a, const std::vector<double>& y, std::pair<int, int> range);

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
  /// Model-level test of the class-balanced apoptosis slope over the models' own slopes
  /// (model_agreement; models with both real classes). NaN: every model has the same non-zero slope.
  double p_models = 1;
  int models_tested = 0;
  /// Intersection-union p-value max(slope_apoptosis.p, p_models) (p_models NaN: slope_apoptosis.p):
  /// a PC counts only if the trajectory bootstrap and the model level both reject.
  double p_joint = 1;
  double p_adjusted = 1;      ///< p_joint after correction over the P perturbations
  bool significant = false;   ///< p_adjusted < 1 − level (and the skill gate passed)
  bool gated = false;         ///< apply_skill_gate: the models failed the skill test
  double sign_agreement = 0;  ///< fraction of models whose own apoptosis slope has the mean's sign
};
/// Slopes of every perturbation p; `correction` "holm" | "bh".
std::vector<SlopeResult> sweep_slopes(const Sweep& sw, const Strata& strata, const std::vector<double>& shifts,
                                      double realistic_threshold, int reps, std::uint64_t seed, double level,
                                      const std::string& correction);

/// The perturbation with the largest |class-balanced apoptosis slope| among those whose realistic
/// range holds at least `min_points` grid points (a slope fitted on 2 points, e.g. a low-variance
/// PC that turns synthetic one step from 0, is reported but not ranked); -1 if none qualifies.
int top_slope_pc(const std::vector<SlopeResult>& slopes, int min_points);

/// Serial gatekeeping (Dmitrienko & Tamhane): the PC family is tested only if the skill test
/// rejects "no skill". Every p_adjusted becomes max(p_adjusted, skill p) and nothing is
/// significant when the skill test fails (including its practical threshold).
void apply_skill_gate(std::vector<SlopeResult>& slopes, const Skill& skill, double level);

/// Mean over models (ignoring NaN) and sd.
std::pair<double, double> mean_sd_ignore_nan(const std::vector<double>& v);

std::string format_interval(const Interval& v, int digits = 3);

}  // namespace taupe::perturb
