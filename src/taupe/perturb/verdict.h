#pragma once
// Verdicts of virtual perturbation (torch-free): three-way conclusions with stated margins,
// directions, and — on simulated data — scoring against the planted truth. docs/perturbation.md
// ("Verdicts") states every rule and its reason.
//
// What a verdict claims. Perturbations measure what the *models* rely on: a response to switching
// the neighbours' identity (geometry held fixed) or to moving the nuclear-size PC (the other PCs
// held fixed). A verdict is one of
//   effect       the (1 − α) interval excludes 0 and |estimate| ≥ margin; its direction is stated;
//   no effect    equivalence shown: the (1 − 2α) interval lies inside ±margin (TOST at α);
//   inconclusive neither (or a degenerate interval), with the trajectories that would be needed.
// The models' skill gates them: without skill shown, an effect is inconclusive; with skill shown
// to be absent, nothing the models do carries fate information and every verdict is "no effect".
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "taupe/perturb/analysis.h"
#include "taupe/perturb/perturb_config.h"
#include "taupe/perturb/verdict_config.h"

namespace taupe::perturb {

enum class Outcome { kEffect, kNoEffect, kInconclusive };
/// "effect" | "no effect" | "inconclusive".
std::string to_string(Outcome o);

/// Three-way decision on one interval (see the header comment). `n` is the sample the interval
/// came from; `needed` extrapolates the interval's half-widths, ∝ 1/√n, to the size at which it
/// would decide (towards "effect" when |estimate| ≥ margin: the 95 % bound on the side of 0
/// reaches 0; else towards "no effect": both 90 % bounds inside ±margin), so an undecided
/// interval always needs more than n; -1 when it decides already or is degenerate.
struct Decision {
  Outcome outcome = Outcome::kInconclusive;
  int direction = 0;           ///< sign of the estimate when outcome is effect, else 0
  std::int64_t needed = -1;
  /// Inconclusive: the factor by which the interval would have to narrow to decide (> 1); NaN
  /// otherwise.
  double narrow_by = std::numeric_limits<double>::quiet_NaN();
  /// The interval is wider between the models than narrow_by allows, so more trajectories alone
  /// would not decide (needed is then -1).
  bool needs_models = false;
  std::string reason;          ///< why, in a few words
};
Decision decide(const Interval& iv, double margin, double alpha, std::int64_t n);
/// `needed` of an inconclusive decision when the interval comes from models and trajectories
/// resampled together (variance var_t = se²) and only the within-model part var_w = se_fixed²
/// shrinks with more trajectories: deciding needs var_t / narrow_by², so
/// n' = n · var_w / (var_t / narrow_by² − var_b) with var_b = var_t − var_w; when var_b alone is
/// already too wide, needs_models is set instead. Unchanged when se_fixed is unknown.
void split_needed(Decision& d, const Interval& iv, double se_fixed, std::int64_t n);

/// The skill gate in three states (VerdictConfig::min_informedness).
enum class SkillState { kShown, kAbsent, kUncertain };
SkillState skill_state(const Skill& skill, double min_informedness);
/// "shown" | "absent" | "uncertain".
std::string to_string(SkillState s);

/// What a simulated world plants (the ground truth the verdicts are scored against).
struct WorldTruth {
  bool known = false;          ///< simulated data with a recognised world
  std::string world;
  bool wt_contact = false;     ///< contact with WT neighbours raises the scrib apoptosis hazard
  bool compression = false;    ///< compression raises it
  /// Smaller nuclei go with apoptosis in the data: compression is planted, or WT contact is
  /// (WT contact rises with crowding in every mixed culture, so a model that reads nuclear size
  /// uses real information about fate even where contact is the cause).
  bool small_nucleus_predicts_apoptosis = false;
};
/// The simulator's planted causes of `world` (simulate/model.h planted_causes, default
/// parameters); "" (real data) or a name the simulator does not know → known = false.
WorldTruth world_truth(const std::string& world);

struct Expectation {
  Outcome outcome = Outcome::kNoEffect;  ///< effect or no effect
  int direction = 0;                     ///< with an effect: +1 / −1
};

struct Verdict {
  std::string experiment;   ///< "neighbour identity" | "nuclear size" | "any effect"
  std::string claim;        ///< what an effect would mean, with the direction convention
  Outcome outcome = Outcome::kInconclusive;
  int direction = 0;        ///< +1 / −1 with an effect (claim says what the sign means)
  Interval statistic;       ///< the interval the decision read (NaN for "any effect")
  double margin = 0;
  std::int64_t trajectories = 0;         ///< sample behind the statistic
  std::int64_t trajectories_needed = -1; ///< inconclusive: sample that would decide (-1 unknown)
  std::string conclusion;   ///< one line with the numbers and the reason
  /// The decision rests on the statistic's interval (before the skill gate); false when the
  /// realistic range, an unassessable or unknown PC stopped it, and for "any effect".
  bool statistic_read = false;
  bool has_truth = false;
  Expectation expected;
  /// outcome == expected.outcome and, for an effect, direction == expected.direction;
  /// inconclusive is never correct.
  bool correct = false;
};

struct VerdictInputs {
  WorldTruth truth;
  bool have_skill = false;
  Skill skill;
  // Neighbour switch (docs: switch-neighbours): class-balanced Δ P(apoptosis), switched −
  // normalised, of the TCN alone (the statistic) and with the typicality gate (for the record);
  // the largest share of a real class predicted synthetic (gated, mean over models) in either
  // condition, which must stay below the realistic-range threshold for the switch to be read.
  bool have_switch = false;
  Interval delta_apoptosis;
  /// se of delta_apoptosis with the models held fixed (NaN: unknown): how much of its spread more
  /// trajectories would shrink.
  double delta_apoptosis_se_models_fixed = std::numeric_limits<double>::quiet_NaN();
  Interval delta_apoptosis_gated;
  double switch_synthetic_share = 0;
  std::int64_t switch_trajectories = 0;
  double realistic_threshold = PerturbConfig{}.realistic_threshold;
  // PC shift: per PC the class-balanced apoptosis slope per PC unit, the PC's sd, the number of
  // grid points of its realistic range and its p after correction over the PCs.
  bool have_pc = false;
  std::vector<Interval> slope_apoptosis;
  std::vector<double> pc_sd;
  std::vector<int> range_points;
  std::vector<double> p_adjusted;
  int min_range_points = PerturbConfig{}.min_range_points;
  std::int64_t pc_trajectories = 0;
  int nuclear_pc = -1;      ///< PC most correlated with nuclear area (-1 unknown)
  double nuclear_rho = 0;   ///< its Spearman ρ (sign: the PC grows with the nucleus when > 0)
};

/// The verdicts (docs/perturbation.md, "Verdicts").
std::vector<Verdict> make_verdicts(const VerdictInputs& in, const VerdictConfig& cfg);

/// The expectation of each verdict in a world (the table of docs/perturbation.md).
Expectation expected_outcome(const std::string& experiment, const WorldTruth& truth);

}  // namespace taupe::perturb
