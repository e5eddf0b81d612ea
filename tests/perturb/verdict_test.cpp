// Verdicts: the three-way decision against closed forms, the skill gate's three states, the
// expectation table of the simulated worlds, directions, and scoring (inconclusive is never
// correct; a wrong direction is wrong).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "taupe/perturb/verdict.h"

namespace taupe::perturb {
namespace {

/// An interval with its equivalence bounds: estimate ± 1.96 se (CI) and ± 1.645 se (TOST).
Interval iv(double est, double se) {
  Interval i;
  i.estimate = est;
  i.se = se;
  i.lo = est - 1.96 * se;
  i.hi = est + 1.96 * se;
  i.eq_lo = est - 1.645 * se;
  i.eq_hi = est + 1.645 * se;
  i.p = 0.5;
  return i;
}

TEST(VerdictDecide, EffectNeedsZeroExcludedAndThePracticalSize) {
  const auto d = decide(iv(-0.30, 0.05), 0.10, 0.05, 200);
  EXPECT_EQ(d.outcome, Outcome::kEffect);
  EXPECT_EQ(d.direction, -1);
  EXPECT_EQ(d.needed, -1);
  EXPECT_EQ(decide(iv(+0.30, 0.05), 0.10, 0.05, 200).direction, +1);
}

TEST(VerdictDecide, NoEffectIsEquivalenceInsideTheMargin) {
  // 90 % interval: 0.003 ± 1.645 · 0.025 = [−0.038, +0.044] ⊂ (−0.1, 0.1).
  EXPECT_EQ(decide(iv(0.003, 0.025), 0.10, 0.05, 600).outcome, Outcome::kNoEffect);
  // Just outside: 0.02 + 1.645 · 0.05 = 0.102 > 0.1.
  EXPECT_EQ(decide(iv(0.02, 0.05), 0.10, 0.05, 600).outcome, Outcome::kInconclusive);
}

TEST(VerdictDecide, InconclusiveSaysHowManyTrajectoriesWouldDecide) {
  // The interval the issue quotes for 20 switched trajectories per model: −0.058 [−0.142, +0.029].
  const double se = (0.029 + 0.142) / (2 * 1.96);
  const auto d = decide(iv(-0.058, se), 0.10, 0.05, 200);
  EXPECT_EQ(d.outcome, Outcome::kInconclusive);
  // |est| < margin: the 90 % lower bound −0.058 − 1.645 se must come inside −0.1; half-widths
  // scale as 1/√n, so n scales with (1.645 se / (0.1 − 0.058))².
  const double r = 1.645 * se / (0.10 - 0.058);
  EXPECT_EQ(d.needed, static_cast<std::int64_t>(std::ceil(200 * r * r)));
  EXPECT_GT(d.needed, 200);
  // |est| ≥ margin but the interval holds 0: the 95 % bound on the side of 0 must reach 0.
  const auto e = decide(iv(0.15, 0.1), 0.10, 0.05, 100);
  EXPECT_EQ(e.outcome, Outcome::kInconclusive);
  const double r2 = 1.96 * 0.1 / 0.15;
  EXPECT_EQ(e.needed, static_cast<std::int64_t>(std::ceil(100 * r2 * r2)));
}

TEST(VerdictDecide, NeededFollowsAnAsymmetricIntervalAndExceedsTheSampleUsed) {
  // A skewed bootstrap interval: the 90 % bounds sit 0.012 above and 0.040 below the estimate.
  // A normal extrapolation from se alone would claim that fewer than the 400 trajectories used
  // already decide; the deciding (lower) side needs (0.040 / 0.029)² times as many.
  Interval i = iv(-0.071, 0.0166);
  i.eq_lo = -0.111;
  i.eq_hi = -0.059;
  const auto d = decide(i, 0.10, 0.05, 400);
  EXPECT_EQ(d.outcome, Outcome::kInconclusive);
  const double r = 0.040 / 0.029;
  EXPECT_EQ(d.needed, static_cast<std::int64_t>(std::ceil(400 * r * r)));
  EXPECT_GT(d.needed, 400);
  // Near 0 with a wide interval, the side with the larger shortfall decides.
  Interval w = iv(0.01, 0.0);
  w.lo = -0.15, w.hi = 0.20, w.eq_lo = -0.12, w.eq_hi = 0.16, w.se = 0.08;
  const auto e = decide(w, 0.10, 0.05, 100);
  EXPECT_EQ(e.outcome, Outcome::kInconclusive);
  const double r2 = std::max((0.16 - 0.01) / (0.10 - 0.01), (0.01 + 0.12) / (0.10 + 0.01));
  EXPECT_EQ(e.needed, static_cast<std::int64_t>(std::ceil(100 * r2 * r2)));
}

TEST(VerdictDecide, OnlyTheWithinModelSpreadShrinksWithMoreTrajectories) {
  // −0.058 ± 1.645 se, se 0.04: equivalence needs the interval 1.645·0.04 / 0.042 ≈ 1.57 times
  // narrower, i.e. the variance at most 0.0016 / 1.57² ≈ 6.5e-4.
  const Interval i = iv(-0.058, 0.04);
  Decision d = decide(i, 0.10, 0.05, 200);
  ASSERT_EQ(d.outcome, Outcome::kInconclusive);
  const double r = 1.645 * 0.04 / (0.10 - 0.058);
  EXPECT_NEAR(d.narrow_by, r, 1e-12);
  // Models fixed, se 0.03: var_w = 9e-4, so var_b = 7e-4 already exceeds the 6.5e-4 that would
  // decide: no number of trajectories does.
  Decision models = d;
  split_needed(models, i, 0.03, 200);
  EXPECT_TRUE(models.needs_models);
  EXPECT_EQ(models.needed, -1);
  // Models fixed, se 0.038: var_b = 0.0016 − 0.001444 = 1.56e-4; n' = 200 · var_w / (target − var_b).
  Decision more = d;
  split_needed(more, i, 0.038, 200);
  EXPECT_FALSE(more.needs_models);
  const double target = 0.0016 / (r * r), var_w = 0.038 * 0.038;
  EXPECT_EQ(more.needed, static_cast<std::int64_t>(std::ceil(200 * var_w / (target - (0.0016 - var_w)))));
  EXPECT_GT(more.needed, d.needed);  // more than if every bit of the spread shrank with n
  // With the models contributing nothing, the plain extrapolation.
  Decision same = d;
  split_needed(same, i, 0.04, 200);
  EXPECT_EQ(same.needed, static_cast<std::int64_t>(std::ceil(200 * r * r)));
  // Unknown within-model se, or a decided interval: unchanged.
  Decision unknown = d;
  split_needed(unknown, i, std::numeric_limits<double>::quiet_NaN(), 200);
  EXPECT_EQ(unknown.needed, d.needed);
  Decision decided = decide(iv(-0.30, 0.05), 0.10, 0.05, 200);
  split_needed(decided, iv(-0.30, 0.05), 0.01, 200);
  EXPECT_EQ(decided.needed, -1);
  EXPECT_FALSE(decided.needs_models);
}

TEST(VerdictDecide, SignificantButNegligibleWithoutEquivalenceIsInconclusive) {
  const auto d = decide(iv(0.05, 0.02), 0.10, 0.05, 100);  // [0.011, 0.089] excludes 0; 90 %: [0.017, 0.083]
  EXPECT_EQ(d.outcome, Outcome::kNoEffect);                 // ... which lies within ±0.1: a negligible effect
  const auto e = decide(iv(0.07, 0.03), 0.10, 0.05, 100);   // 90 % upper 0.119 > 0.1, |est| < 0.1
  EXPECT_EQ(e.outcome, Outcome::kInconclusive);
}

TEST(VerdictDecide, DegenerateIntervalsAreInconclusiveNeverAnEffect) {
  Interval z = iv(-0.2, 0.0);
  z.zero_spread = true;
  z.lo = z.hi = z.eq_lo = z.eq_hi = -0.2;
  EXPECT_EQ(decide(z, 0.1, 0.05, 50).outcome, Outcome::kInconclusive);
  Interval n = iv(NAN, 0.1);
  EXPECT_EQ(decide(n, 0.1, 0.05, 50).outcome, Outcome::kInconclusive);
  Interval u = iv(0.3, 0.05);
  u.eq_lo = u.eq_hi = NAN;  // no equivalence bounds computed
  EXPECT_EQ(decide(u, 0.1, 0.05, 50).outcome, Outcome::kInconclusive);
}

Skill skill_of(double j, double eq_lo, double eq_hi, double p) {
  Skill s;
  s.informedness = Interval{j, eq_lo - 0.01, eq_hi + 0.01, 0.02, p};
  s.informedness.eq_lo = eq_lo;
  s.informedness.eq_hi = eq_hi;
  s.alpha = 0.05;
  return s;
}

TEST(VerdictSkill, ShownAbsentUncertain) {
  EXPECT_EQ(skill_state(skill_of(0.55, 0.50, 0.60, 0.002), 0.10), SkillState::kShown);
  EXPECT_EQ(skill_state(skill_of(0.02, -0.03, 0.07, 0.20), 0.10), SkillState::kAbsent);
  EXPECT_EQ(skill_state(skill_of(0.06, 0.01, 0.11, 0.01), 0.10), SkillState::kUncertain);
  EXPECT_EQ(skill_state(skill_of(0.12, 0.05, 0.19, 0.20), 0.10), SkillState::kUncertain);  // p not below α
  // Constant predictions on a handful of trajectories: J = 0 in every resample shows nothing.
  Skill flat = skill_of(0.0, 0.0, 0.0, 0.5);
  flat.informedness.zero_spread = true;
  EXPECT_EQ(skill_state(flat, 0.10), SkillState::kUncertain);
  EXPECT_EQ(to_string(SkillState::kShown), "shown");
  EXPECT_EQ(to_string(SkillState::kAbsent), "absent");
  EXPECT_EQ(to_string(SkillState::kUncertain), "uncertain");
}

TEST(VerdictTruth, ExpectationTableOfTheWorlds) {
  struct Row {
    const char* world;
    Outcome neighbour;
    int neighbour_dir;
    Outcome nuclear;
    Outcome any;
  };
  const Row rows[] = {{"mechanical", Outcome::kNoEffect, 0, Outcome::kEffect, Outcome::kEffect},
                      {"contact", Outcome::kEffect, -1, Outcome::kEffect, Outcome::kEffect},
                      {"both", Outcome::kEffect, -1, Outcome::kEffect, Outcome::kEffect},
                      {"neutral", Outcome::kNoEffect, 0, Outcome::kNoEffect, Outcome::kNoEffect}};
  for (const auto& r : rows) {
    const auto t = world_truth(r.world);
    EXPECT_TRUE(t.known) << r.world;
    const auto n = expected_outcome("neighbour identity", t);
    EXPECT_EQ(n.outcome, r.neighbour) << r.world;
    EXPECT_EQ(n.direction, r.neighbour_dir) << r.world;
    const auto s = expected_outcome("nuclear size", t);
    EXPECT_EQ(s.outcome, r.nuclear) << r.world;
    if (s.outcome == Outcome::kEffect) {
      EXPECT_EQ(s.direction, +1) << r.world;  // smaller nucleus, more apoptosis
    }
    EXPECT_EQ(expected_outcome("any effect", t).outcome, r.any) << r.world;
  }
  EXPECT_FALSE(world_truth("").known);
  EXPECT_FALSE(world_truth("volcanic").known);
}

/// Inputs with a skilled model set, a neighbour switch and a 4-PC sweep whose nuclear-size PC is 1.
VerdictInputs inputs(const std::string& world) {
  VerdictInputs in;
  in.truth = world_truth(world);
  in.have_skill = true;
  in.skill = skill_of(0.55, 0.50, 0.60, 0.002);
  in.have_switch = true;
  in.switch_trajectories = 600;
  in.delta_apoptosis = iv(0.003, 0.02);
  in.have_pc = true;
  in.pc_trajectories = 1600;
  in.slope_apoptosis.assign(4, iv(0.0, 0.002));
  in.pc_sd.assign(4, 2.0);
  in.range_points.assign(4, 25);
  in.p_adjusted.assign(4, 1.0);
  in.nuclear_pc = 1;
  in.nuclear_rho = 0.7;  // the PC grows with the nucleus: shrinking = moving it down
  return in;
}

TEST(VerdictRules, MechanicalWorldScoresDirectionToo) {
  auto in = inputs("mechanical");
  // Slope −0.05 per PC unit, sd 2 → −0.1 per sd of growth → +0.1 per sd of shrinkage.
  in.slope_apoptosis[1] = iv(-0.05, 0.004);
  in.p_adjusted[1] = 1e-6;
  const VerdictConfig cfg;
  auto v = make_verdicts(in, cfg);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].experiment, "neighbour identity");
  EXPECT_EQ(v[0].outcome, Outcome::kNoEffect) << v[0].conclusion;
  EXPECT_TRUE(v[0].correct);
  EXPECT_EQ(v[1].experiment, "nuclear size");
  EXPECT_EQ(v[1].outcome, Outcome::kEffect) << v[1].conclusion;
  EXPECT_EQ(v[1].direction, +1);
  EXPECT_NEAR(v[1].statistic.estimate, 0.1, 1e-12);
  EXPECT_TRUE(v[1].correct);
  EXPECT_EQ(v[2].outcome, Outcome::kEffect);
  EXPECT_TRUE(v[2].correct);
  // A model that learned "bigger nucleus → apoptosis" fails the nuclear-size verdict.
  in.slope_apoptosis[1] = iv(+0.05, 0.004);
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[1].outcome, Outcome::kEffect);
  EXPECT_EQ(v[1].direction, -1);
  EXPECT_FALSE(v[1].correct);
  EXPECT_NE(v[1].conclusion.find("WRONG"), std::string::npos) << v[1].conclusion;
  // The same slope with ρ < 0 (PC grows as the nucleus shrinks) is the planted direction again.
  in.nuclear_rho = -0.7;
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[1].direction, +1);
  EXPECT_TRUE(v[1].correct);
}

TEST(VerdictRules, ContactWorldNeedsTheSwitchToLowerApoptosis) {
  auto in = inputs("contact");
  in.slope_apoptosis[1] = iv(-0.03, 0.004);
  in.p_adjusted[1] = 1e-6;
  in.delta_apoptosis = iv(-0.68, 0.04);
  const VerdictConfig cfg;
  auto v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kEffect);
  EXPECT_EQ(v[0].direction, -1);
  EXPECT_TRUE(v[0].correct) << v[0].conclusion;
  EXPECT_NE(v[0].conclusion.find("the switch lowers apoptosis"), std::string::npos) << v[0].conclusion;
  in.delta_apoptosis = iv(+0.68, 0.04);
  v = make_verdicts(in, cfg);
  EXPECT_FALSE(v[0].correct);
}

TEST(VerdictRules, InconclusiveIsNeverCorrectAndSaysWhatWouldDecide) {
  auto in = inputs("mechanical");
  in.delta_apoptosis = iv(-0.058, 0.0436);  // the 20-per-model interval
  in.switch_trajectories = 200;
  const auto v = make_verdicts(in, VerdictConfig{});
  EXPECT_EQ(v[0].outcome, Outcome::kInconclusive);
  EXPECT_FALSE(v[0].correct);
  EXPECT_GT(v[0].trajectories_needed, 200);
  EXPECT_NE(v[0].conclusion.find("would decide"), std::string::npos) << v[0].conclusion;
  EXPECT_NE(v[0].conclusion.find("→ inconclusive"), std::string::npos) << v[0].conclusion;
}

TEST(VerdictRules, NeighbourSwitchIsReadOnlyInsideTheRealisticRange) {
  // Contact world, the TCN alone lowers apoptosis by 0.3; the gated Δ (−0.5) is not the statistic.
  auto in = inputs("contact");
  in.slope_apoptosis[1] = iv(-0.03, 0.004);
  in.p_adjusted[1] = 1e-6;
  in.delta_apoptosis = iv(-0.30, 0.04);
  in.delta_apoptosis_gated = iv(-0.50, 0.04);
  in.realistic_threshold = 0.2;
  in.switch_synthetic_share = 0.19;  // just inside: read as usual
  const VerdictConfig cfg;
  auto v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kEffect) << v[0].conclusion;
  EXPECT_EQ(v[0].direction, -1);
  EXPECT_NEAR(v[0].statistic.estimate, -0.30, 1e-12);
  EXPECT_NE(v[0].conclusion.find("with the gate -0.500"), std::string::npos) << v[0].conclusion;
  EXPECT_TRUE(v[0].statistic_read);
  EXPECT_TRUE(v[1].statistic_read);   // nuclear size: an assessable PC
  EXPECT_FALSE(v[2].statistic_read);  // any effect has no single statistic
  // At the threshold (realistic means strictly below it) the switch is out of distribution:
  // inconclusive whatever the interval says, with the reason, and never correct.
  in.switch_synthetic_share = 0.2;
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kInconclusive) << v[0].conclusion;
  EXPECT_EQ(v[0].direction, 0);
  EXPECT_EQ(v[0].trajectories_needed, -1);
  EXPECT_FALSE(v[0].correct);
  EXPECT_NE(v[0].conclusion.find("leave the realistic range: 20 %"), std::string::npos) << v[0].conclusion;
  EXPECT_FALSE(v[0].statistic_read);  // so a combination across runs does not read its estimate
  // A flat response out of range is not "no effect" either.
  in.delta_apoptosis = iv(0.0, 0.01);
  in.switch_synthetic_share = 0.9;
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kInconclusive) << v[0].conclusion;
  // Models shown to lack skill carry no fate information on any input: "no effect" still holds.
  in.skill = skill_of(0.02, -0.03, 0.07, 0.3);
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kNoEffect) << v[0].conclusion;
}

TEST(VerdictRules, NeutralWorldNeedsEquivalenceEverywhereOrAbsentSkill) {
  auto in = inputs("neutral");
  const VerdictConfig cfg;
  auto v = make_verdicts(in, cfg);
  for (const auto& x : v) {
    EXPECT_EQ(x.outcome, Outcome::kNoEffect) << x.experiment << ": " << x.conclusion;
    EXPECT_TRUE(x.correct);
  }
  // One assessable PC that cannot be shown flat: "any effect" is no longer "no effect".
  in.slope_apoptosis[3] = iv(0.0, 0.05);
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[2].outcome, Outcome::kInconclusive) << v[2].conclusion;
  // ...unless its realistic range is too short to assess it.
  in.range_points[3] = 3;
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[2].outcome, Outcome::kNoEffect) << v[2].conclusion;
  // Models without skill: every verdict is "no effect", whatever they respond.
  in.skill = skill_of(0.02, -0.03, 0.07, 0.3);
  in.delta_apoptosis = iv(0.3, 0.02);
  v = make_verdicts(in, cfg);
  for (const auto& x : v) EXPECT_EQ(x.outcome, Outcome::kNoEffect) << x.experiment << ": " << x.conclusion;
  // Uncertain skill turns an effect into "inconclusive".
  in.skill = skill_of(0.06, 0.01, 0.11, 0.01);
  v = make_verdicts(in, cfg);
  EXPECT_EQ(v[0].outcome, Outcome::kInconclusive) << v[0].conclusion;
}

TEST(VerdictRules, AnyEffectNeedsThePcSweepToRuleOne) {
  auto in = inputs("neutral");
  in.have_pc = false;
  auto v = make_verdicts(in, VerdictConfig{});
  ASSERT_EQ(v.size(), 1u);  // a flat switch alone says nothing about other causes
  in.delta_apoptosis = iv(-0.5, 0.04);
  v = make_verdicts(in, VerdictConfig{});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1].experiment, "any effect");
  EXPECT_EQ(v[1].outcome, Outcome::kEffect);
  EXPECT_FALSE(v[1].correct);  // neutral world: a false effect
}

TEST(VerdictRules, RealDataGetsConclusionsWithoutScores) {
  auto in = inputs("");
  for (const auto& x : make_verdicts(in, VerdictConfig{})) {
    EXPECT_FALSE(x.has_truth);
    EXPECT_FALSE(x.correct);
    EXPECT_EQ(x.conclusion.find("world"), std::string::npos) << x.conclusion;
  }
}

TEST(VerdictRules, UnknownNuclearPcIsInconclusive) {
  auto in = inputs("mechanical");
  in.nuclear_pc = -1;
  auto v = make_verdicts(in, VerdictConfig{});
  EXPECT_EQ(v[1].outcome, Outcome::kInconclusive);
  EXPECT_FALSE(v[1].correct);
  EXPECT_FALSE(v[1].statistic_read);
  // A nuclear-size PC whose realistic range is too short to assess is not read either.
  in.nuclear_pc = 1;
  in.range_points[1] = in.min_range_points - 1;
  v = make_verdicts(in, VerdictConfig{});
  EXPECT_EQ(v[1].outcome, Outcome::kInconclusive);
  EXPECT_FALSE(v[1].statistic_read);
}

}  // namespace
}  // namespace taupe::perturb
