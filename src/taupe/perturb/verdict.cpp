// Verdicts: three-way decisions, directions and ground-truth scoring. See verdict.h.
#include "taupe/perturb/verdict.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "taupe/core/stats.h"
#include "taupe/simulate/model.h"
#include "taupe/simulate/sim_config.h"

namespace taupe::perturb {

std::string to_string(Outcome o) {
  switch (o) {
    case Outcome::kEffect: return "effect";
    case Outcome::kNoEffect: return "no effect";
    case Outcome::kInconclusive: return "inconclusive";
  }
  return "inconclusive";
}

Decision decide(const Interval& iv, double margin, double alpha, std::int64_t n) {
  Decision d;
  if (iv.degenerate() || !std::isfinite(iv.eq_lo) || !std::isfinite(iv.eq_hi)) {
    d.reason = iv.zero_spread ? "the bootstrap replicates do not vary" : "the interval is undefined";
    return d;
  }
  const double a = std::fabs(iv.estimate);
  if (iv.excludes_zero() && a >= margin) {
    d.outcome = Outcome::kEffect;
    d.direction = iv.estimate > 0 ? 1 : -1;
    d.reason = "interval excludes 0 and |estimate| >= margin";
    return d;
  }
  if (iv.eq_lo > -margin && iv.eq_hi < margin) {
    d.outcome = Outcome::kNoEffect;
    d.reason = "equivalence: the " + std::to_string(static_cast<int>(std::lround(100 * (1 - 2 * alpha)))) +
               " % interval lies within ±margin";
    return d;
  }
  d.reason = iv.excludes_zero() ? "interval excludes 0 but |estimate| < margin, and equivalence is not shown"
                                : "the interval holds 0 and reaches beyond the margin";
  // The size at which the interval would decide for the side the estimate is on, from the
  // interval's own half-widths (a bootstrap interval need not be ±z·se), each shrinking ∝ 1/√n:
  // towards "effect" the 95 % bound on the side of 0 must reach 0; towards "no effect" both
  // 90 % bounds must come inside ±margin.
  double ratio = 0;
  if (a >= margin) {
    const double towards_zero = iv.estimate > 0 ? iv.estimate - iv.lo : iv.hi - iv.estimate;
    ratio = towards_zero / a;
  } else {
    ratio = std::max((iv.eq_hi - iv.estimate) / (margin - iv.estimate), (iv.estimate - iv.eq_lo) / (margin + iv.estimate));
  }
  if (std::isfinite(ratio) && ratio > 0 && n > 0) {
    d.narrow_by = ratio;
    d.needed = static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * ratio * ratio));
  }
  return d;
}

void split_needed(Decision& d, const Interval& iv, double se_fixed, std::int64_t n) {
  if (d.outcome != Outcome::kInconclusive || !std::isfinite(d.narrow_by) || !std::isfinite(se_fixed) || !(iv.se > 0) ||
      n <= 0)
    return;
  const double var_t = iv.se * iv.se, var_w = std::min(var_t, se_fixed * se_fixed), var_b = var_t - var_w;
  const double target = var_t / (d.narrow_by * d.narrow_by);
  if (var_b >= target || !(var_w > 0)) {
    d.needed = -1;
    d.needs_models = true;
    return;
  }
  d.needed = static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * var_w / (target - var_b)));
}

SkillState skill_state(const Skill& skill, double min_informedness) {
  const Interval& j = skill.informedness;
  // A degenerate interval (e.g. models that predict one class on a handful of trajectories, so
  // every resample gives the same J) shows nothing either way.
  if (j.degenerate()) return SkillState::kUncertain;
  if (skill.informedness.p < skill.alpha && j.estimate >= min_informedness && !j.zero_spread) return SkillState::kShown;
  if (std::isfinite(j.eq_hi) && j.eq_hi < min_informedness) return SkillState::kAbsent;
  return SkillState::kUncertain;
}

std::string to_string(SkillState s) {
  switch (s) {
    case SkillState::kShown: return "shown";
    case SkillState::kAbsent: return "absent";
    case SkillState::kUncertain: break;
  }
  return "uncertain";
}

WorldTruth world_truth(const std::string& world) {
  WorldTruth t;
  t.world = world;
  if (std::find(kSimWorlds.begin(), kSimWorlds.end(), world) == kSimWorlds.end()) return t;
  // What the simulator plants, from its own declaration (default parameters of the world).
  const PlantedCauses planted = planted_causes(world);
  t.known = true;
  t.compression = planted.compression.planted && planted.compression.direction > 0;
  t.wt_contact = planted.wt_contact.planted && planted.wt_contact.direction > 0;
  t.small_nucleus_predicts_apoptosis = t.compression || t.wt_contact;
  return t;
}

Expectation expected_outcome(const std::string& experiment, const WorldTruth& truth) {
  Expectation e;
  if (experiment == "neighbour identity") {
    // Switching the neighbours turns WT neighbours into scrib ones (and back): with WT contact
    // planted, the loser's contact with winners falls and so does apoptosis.
    if (truth.wt_contact) e = {Outcome::kEffect, -1};
  } else if (experiment == "nuclear size") {
    if (truth.small_nucleus_predicts_apoptosis) e = {Outcome::kEffect, +1};
  } else if (experiment == "any effect") {
    if (truth.compression || truth.wt_contact) e = {Outcome::kEffect, 0};
  }
  return e;
}

namespace {

std::string describe(const Interval& iv, double margin, int digits = 3) {
  std::ostringstream s;
  if (std::isfinite(iv.estimate)) s << format_interval(iv, digits);
  else s << "undefined";
  s << " (margin ±" << std::fixed << std::setprecision(digits) << margin << ")";
  return s.str();
}

/// Applies the skill gate to a decision of an experiment.
void gate(Decision& d, SkillState skill) {
  if (skill == SkillState::kAbsent) {
    d.outcome = Outcome::kNoEffect;
    d.direction = 0;
    d.needed = -1;
    d.needs_models = false;
    d.reason = "the models do not predict fate (skill absent), so their responses carry no fate information";
  } else if (skill == SkillState::kUncertain && d.outcome == Outcome::kEffect) {
    d.outcome = Outcome::kInconclusive;
    d.direction = 0;
    d.reason = "a response, but the models' skill is not shown";
  }
}

void score(Verdict& v, const WorldTruth& truth) {
  v.has_truth = truth.known;
  if (!truth.known) return;
  v.expected = expected_outcome(v.experiment, truth);
  v.correct = v.outcome == v.expected.outcome &&
              (v.outcome != Outcome::kEffect || v.expected.direction == 0 || v.direction == v.expected.direction);
  std::ostringstream s;
  s << "; world = " << truth.world << ", expected " << to_string(v.expected.outcome);
  if (v.expected.outcome == Outcome::kEffect && v.expected.direction != 0)
    s << " (" << (v.expected.direction > 0 ? "+" : "-") << ")";
  s << " → " << (v.outcome == Outcome::kInconclusive ? "inconclusive" : v.correct ? "correct" : "WRONG");
  v.conclusion += s.str();
}

std::string outcome_text(const Verdict& v, const std::string& up, const std::string& down) {
  if (v.outcome == Outcome::kEffect) return "effect: " + (v.direction > 0 ? up : down);
  return to_string(v.outcome);
}

/// The apoptosis slope of PC `p` per sd of the PC (an unknown sd counts as 1).
Interval slope_per_sd(const VerdictInputs& in, std::size_t p) {
  const double sd = p < in.pc_sd.size() && std::isfinite(in.pc_sd[p]) ? in.pc_sd[p] : 1.0;
  return in.slope_apoptosis[p].scaled(sd);
}

/// Whether PC `p` can be assessed: its realistic range holds enough grid points.
bool assessable(const VerdictInputs& in, std::size_t p) {
  return p < in.range_points.size() && in.range_points[p] >= in.min_range_points;
}

/// Applies the skill gate to `d` and copies the decision into `v`.
void settle(Verdict& v, Decision& d, SkillState skill) {
  gate(d, skill);
  v.outcome = d.outcome;
  v.direction = d.direction;
  v.trajectories_needed = d.needed;
}

/// Appends how many trajectories would decide an inconclusive decision.
void note_needed(std::ostringstream& s, const Decision& d, const Verdict& v, const char* what) {
  if (d.outcome == Outcome::kInconclusive && d.needed > 0)
    s << "; ≈ " << d.needed << " " << what << " would decide (now " << v.trajectories << ")";
  if (d.outcome == Outcome::kInconclusive && d.needs_models)
    s << "; more " << what << " alone would not decide: the models differ from each other by more than "
      << "that allows (more models, i.e. folds, would)";
}

/// A verdict of `experiment` before its decision.
Verdict new_verdict(const char* experiment, const char* claim, double margin, std::int64_t trajectories) {
  Verdict v;
  v.experiment = experiment;
  v.claim = claim;
  v.margin = margin;
  v.trajectories = trajectories;
  return v;
}

/// The neighbour-identity verdict: Δ P(apoptosis) of the neighbour switch, read from the TCN
/// alone and only while both conditions stay in the realistic range (docs/perturbation.md).
Verdict neighbour_verdict(const VerdictInputs& in, const VerdictConfig& cfg, SkillState skill,
                          const std::string& skill_note) {
  Verdict v = new_verdict("neighbour identity",
                          "switching the neighbours' cell type (geometry fixed) changes predicted apoptosis; "
                          "statistic = class-balanced Δ P(apoptosis) of the TCN alone (no typicality gate), "
                          "switched − normalised, paired per trajectory, read only while less than the realistic-"
                          "range share of a real class is predicted synthetic in either condition; "
                          "direction = its sign",
                          cfg.switch_margin, in.switch_trajectories);
  v.statistic = in.delta_apoptosis;
  Decision d;
  if (is_realistic(in.switch_synthetic_share, in.realistic_threshold)) {
    d = decide(v.statistic, v.margin, cfg.alpha, v.trajectories);
    split_needed(d, v.statistic, in.delta_apoptosis_se_models_fixed, v.trajectories);
    v.statistic_read = true;
  } else {
    std::ostringstream r;
    r << "the switched inputs leave the realistic range: " << std::fixed << std::setprecision(0)
      << 100 * in.switch_synthetic_share << " % of a class predicted synthetic (realistic: < "
      << 100 * in.realistic_threshold << " %), so the models' answer is an extrapolation";
    d.reason = r.str();
  }
  settle(v, d, skill);
  std::ostringstream s;
  s << "Δ P(apoptosis), TCN alone " << describe(v.statistic, v.margin) << "; with the gate "
    << (std::isfinite(in.delta_apoptosis_gated.estimate) ? format_interval(in.delta_apoptosis_gated, 3) : "undefined")
    << "; synthetic share " << std::fixed << std::setprecision(2) << in.switch_synthetic_share << " → "
    << outcome_text(v, "the switch raises apoptosis", "the switch lowers apoptosis") << " (" << d.reason << ")";
  note_needed(s, d, v, "switched trajectories");
  s << skill_note;
  v.conclusion = s.str();
  score(v, in.truth);
  return v;
}

/// The nuclear-size verdict: apoptosis change per sd of nuclear shrinkage along the nuclear-size PC.
Verdict nuclear_size_verdict(const VerdictInputs& in, const VerdictConfig& cfg, SkillState skill,
                             const std::string& skill_note) {
  const auto P = in.slope_apoptosis.size();
  Verdict v = new_verdict("nuclear size",
                          "the models' apoptosis prediction responds to the nuclear-size PC; statistic = change of "
                          "the class-balanced apoptosis fraction per sd of nuclear shrinkage; direction +1 = smaller "
                          "nucleus, more apoptosis",
                          cfg.slope_margin, in.pc_trajectories);
  std::ostringstream s;
  const int np = in.nuclear_pc;
  if (np < 0 || static_cast<std::size_t>(np) >= P || in.nuclear_rho == 0 || !std::isfinite(in.nuclear_rho)) {
    v.outcome = Outcome::kInconclusive;
    v.statistic = Interval{NAN, NAN, NAN, NAN, 1.0};
    s << "nuclear-size PC unknown (no nuclear_area_um2 feature in the glimpses) → inconclusive";
  } else {
    const auto p = static_cast<std::size_t>(np);
    // The nucleus shrinks along −sign(ρ): the shrinkage effect is the slope times −sign(ρ).
    v.statistic = slope_per_sd(in, p).scaled(in.nuclear_rho > 0 ? -1.0 : 1.0);
    Decision d;
    if (!assessable(in, p)) {
      d.reason = "its realistic range holds fewer than " + std::to_string(in.min_range_points) + " grid points";
    } else {
      d = decide(v.statistic, v.margin, cfg.alpha, v.trajectories);
      v.statistic_read = true;
    }
    settle(v, d, skill);
    s << "PC " << np << " (ρ nuclear area " << std::fixed << std::setprecision(2) << in.nuclear_rho
      << "): apoptosis per sd of shrinkage " << describe(v.statistic, v.margin) << " → "
      << outcome_text(v, "smaller nucleus, more apoptosis", "smaller nucleus, less apoptosis") << " (" << d.reason
      << ")";
    note_needed(s, d, v, "trajectories");
    s << skill_note;
  }
  v.conclusion = s.str();
  score(v, in.truth);
  return v;
}

/// Per-PC tally of the PC sweep: PCs with an effect after correction, equivalent to none, assessed.
struct PcTally {
  int effects = 0, equivalent = 0, assessed = 0;
  std::vector<int> effect_pcs;
};

PcTally tally_pcs(const VerdictInputs& in, const VerdictConfig& cfg, double margin) {
  PcTally t;
  for (std::size_t p = 0; p < in.slope_apoptosis.size(); ++p) {
    const Interval iv = slope_per_sd(in, p);
    if (!assessable(in, p)) continue;
    ++t.assessed;
    const double padj = p < in.p_adjusted.size() ? in.p_adjusted[p] : 1.0;
    if (!iv.degenerate() && padj < cfg.alpha && std::fabs(iv.estimate) >= margin) {
      ++t.effects;
      t.effect_pcs.push_back(static_cast<int>(p));
    } else if (decide(iv, margin, cfg.alpha, 1).outcome == Outcome::kNoEffect) {
      ++t.equivalent;
    }
  }
  return t;
}

/// The "any effect" verdict: an effect of the neighbour switch or of any PC; none only when every
/// assessed perturbation is equivalent to none.
Verdict any_effect_verdict(const VerdictInputs& in, const VerdictConfig& cfg, SkillState skill,
                           const std::string& skill_note, Outcome neighbour) {
  Verdict v = new_verdict(
      "any effect",
      "some perturbation (neighbour switch or any PC within its realistic range) changes predicted apoptosis",
      cfg.slope_margin, in.pc_trajectories);
  v.statistic = Interval{NAN, NAN, NAN, NAN, 1.0};
  const PcTally t = tally_pcs(in, cfg, v.margin);
  Decision d;
  if (neighbour == Outcome::kEffect || t.effects > 0) {
    d.outcome = Outcome::kEffect;
    d.reason = "an effect was found";
  } else if (in.have_pc && t.assessed > 0 && t.equivalent == t.assessed &&
             (!in.have_switch || neighbour == Outcome::kNoEffect)) {
    d.outcome = Outcome::kNoEffect;
    d.reason = "every assessed perturbation is equivalent to none";
  } else {
    d.reason = "neither an effect nor equivalence everywhere";
  }
  gate(d, skill);
  v.outcome = d.outcome;
  v.direction = 0;
  std::ostringstream s;
  s << to_string(v.outcome) << " (" << d.reason << "): neighbour switch "
    << (in.have_switch ? to_string(neighbour) : std::string("not run")) << "; PCs with an effect after "
    << "correction: " << t.effects;
  if (!t.effect_pcs.empty()) {
    s << " (";
    for (std::size_t k = 0; k < t.effect_pcs.size() && k < 6; ++k) s << (k ? ", " : "") << t.effect_pcs[k];
    s << (t.effect_pcs.size() > 6 ? ", …" : "") << ")";
  }
  s << ", equivalent to none: " << t.equivalent << " of " << t.assessed << " assessed PCs" << skill_note;
  v.conclusion = s.str();
  score(v, in.truth);
  return v;
}

}  // namespace

std::vector<Verdict> make_verdicts(const VerdictInputs& in, const VerdictConfig& cfg) {
  std::vector<Verdict> out;
  const SkillState skill = in.have_skill ? skill_state(in.skill, cfg.min_informedness) : SkillState::kShown;
  const std::string skill_note = skill == SkillState::kAbsent      ? " [skill absent]"
                                 : skill == SkillState::kUncertain ? " [skill not shown]"
                                                                   : "";
  Outcome neighbour = Outcome::kInconclusive;
  if (in.have_switch) {
    out.push_back(neighbour_verdict(in, cfg, skill, skill_note));
    neighbour = out.back().outcome;
  }
  if (in.have_pc) out.push_back(nuclear_size_verdict(in, cfg, skill, skill_note));
  // "Any effect": needs the PC sweep to claim none (the switch alone cannot rule a cause out).
  if (in.have_pc || neighbour == Outcome::kEffect)
    out.push_back(any_effect_verdict(in, cfg, skill, skill_note, neighbour));
  return out;
}

}  // namespace taupe::perturb
