// Statistics of the perturbation engine when nothing varies: a constant
// response has slope exactly 0 and p = 1; identical responses within every (model, class) stratum
// give a zero-spread bootstrap that must not make a PC "significant"; the model-level test and the
// intersection-union p-value; closed forms for a noiseless linear response, pure noise, Holm over
// 32 PCs, and the neutral-world verdict with degenerate models.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "taupe/core/rng.h"
#include "taupe/core/stats.h"
#include "taupe/perturb/analysis.h"

namespace taupe::perturb {
namespace {

Strata balanced_strata(int models, int per_class) {
  Strata st;
  st.num_models = models;
  for (int m = 0; m < models; ++m)
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < per_class; ++k) st.model.push_back(m), st.truth.push_back(c);
  st.finalize();
  return st;
}

std::vector<double> grid(int lo, int hi) {
  std::vector<double> x;
  for (int v = lo; v <= hi; ++v) x.push_back(v);
  return x;
}

// ---- bootstrap_linear -------------------------------------------------------------------------
TEST(PerturbZeroSpread, AllZeroContributionsGivePOne) {
  const Strata st = balanced_strata(3, 5);
  const std::vector<double> h(st.model.size(), 0.0);
  const auto v = bootstrap_linear(st, h, 1, 200, 1, 0.95)[0];
  EXPECT_EQ(v.estimate, 0.0);
  EXPECT_TRUE(v.zero_spread);
  EXPECT_EQ(v.p, 1.0);
  EXPECT_EQ(v.lo, 0.0);
  EXPECT_EQ(v.hi, 0.0);
  EXPECT_FALSE(v.excludes_zero());
}

TEST(PerturbZeroSpread, IdenticalWithinStrataIsNeverPZero) {
  // Every trajectory of a stratum has the same contribution: every resample gives the estimate.
  // The old rule reported p = 0; now p is the resolution bound 2 / (B + 1).
  const Strata st = balanced_strata(4, 7);
  std::vector<double> h;
  for (std::size_t i = 0; i < st.model.size(); ++i) h.push_back(0.01 * (st.model[i] + 1) * (st.truth[i] ? 1 : -0.3) / 7);
  const int B = 199;
  const auto v = bootstrap_linear(st, h, 1, B, 3, 0.95)[0];
  EXPECT_TRUE(v.zero_spread);
  EXPECT_NE(v.estimate, 0.0);
  EXPECT_DOUBLE_EQ(v.p, 2.0 / (B + 1));
  EXPECT_GT(v.p, 0.0);
  EXPECT_DOUBLE_EQ(v.lo, v.estimate);
  EXPECT_DOUBLE_EQ(v.hi, v.estimate);
  // Cancelling strata (+a for one model, −a for the other) are an estimate of 0 up to rounding: p = 1.
  Strata two = balanced_strata(2, 3);
  std::vector<double> g;
  for (std::size_t i = 0; i < two.model.size(); ++i) g.push_back(two.model[i] == 0 ? 0.1 / 3 : -0.1 / 3);
  const auto z = bootstrap_linear(two, g, 1, 100, 1, 0.95)[0];
  EXPECT_TRUE(z.zero_spread);
  EXPECT_EQ(z.p, 1.0);
}

TEST(PerturbZeroSpread, VaryingContributionsUseTheNormalApproximation) {
  const Strata st = balanced_strata(2, 50);
  std::vector<double> h;
  Rng rng(5);
  for (std::size_t i = 0; i < st.model.size(); ++i) h.push_back((1.0 + rng.normal()) / 200.0);
  const auto v = bootstrap_linear(st, h, 1, 500, 2, 0.95)[0];
  EXPECT_FALSE(v.zero_spread);
  EXPECT_GT(v.se, 0.0);
  EXPECT_NEAR(v.p, 2 * stats::normal_cdf(-std::fabs(v.estimate) / v.se), 1e-15);
  EXPECT_GT(v.p, 0.0);  // far tail via erfc, not 1 − Φ
}

// ---- t distribution and the model-level test ---------------------------------------------------
TEST(PerturbModelLevel, StudentTClosedForms) {
  EXPECT_NEAR(student_t_p(1.0, 1.0), 0.5, 1e-12);               // Cauchy: 1 − 2 atan(1)/π
  EXPECT_NEAR(student_t_p(2.0, 2.0), 1 - 2 / std::sqrt(6.0), 1e-12);  // df 2: 1 − t/√(2 + t²)
  EXPECT_NEAR(student_t_p(2.262157162740992, 9.0), 0.05, 1e-9);  // t_{9, 0.975}
  EXPECT_NEAR(student_t_p(0.0, 5.0), 1.0, 1e-15);
  EXPECT_NEAR(student_t_p(-3.0, 1e6), 2 * stats::normal_cdf(-3.0), 1e-6);  // → normal
  const double far = student_t_p(40.0, 9.0);
  EXPECT_GT(far, 0.0);
  EXPECT_LT(far, 1e-9);
}

TEST(PerturbModelLevel, AgreementTest) {
  // Values 1, 2, 3: mean 2, sd 1, t = 2√3, df 2 → p = 1 − t/√(2 + t²) = 1 − √(12/14).
  auto a = model_agreement({1, 2, 3, std::nan("")});
  EXPECT_EQ(a.models, 3);
  EXPECT_DOUBLE_EQ(a.mean, 2.0);
  EXPECT_NEAR(a.p, 1 - std::sqrt(12.0 / 14.0), 1e-12);
  EXPECT_DOUBLE_EQ(a.sign_agreement, 1.0);
  // Disagreeing signs: large p.
  a = model_agreement({0.1, -0.1, 0.12, -0.09, 0.11, -0.1});
  EXPECT_GT(a.p, 0.5);
  EXPECT_DOUBLE_EQ(a.sign_agreement, 0.5);
  // All zero: p = 1; one model: p = 1; all equal non-zero: not testable at this level (NaN).
  EXPECT_EQ(model_agreement({0, 0, 0}).p, 1.0);
  EXPECT_EQ(model_agreement({0.3}).p, 1.0);
  EXPECT_TRUE(std::isnan(model_agreement({0.2, 0.2, 0.2}).p));
}

// ---- sweep slopes -----------------------------------------------------------------------------
TEST(PerturbSlopesDegenerate, ConstantResponseHasSlopeZeroAndPOne) {
  // Every trajectory is predicted apoptosis at every shift (a degenerate model): the slopes are
  // exactly 0 (no Σ a_s rounding residue), p = 1, nothing significant.
  const Strata st = balanced_strata(3, 6);
  const auto shifts = grid(-6, 6);  // 13 points: Σ a_s is not exactly 0 in floating point
  Sweep sw;
  sw.num_p = 2, sw.num_s = 13, sw.n = static_cast<std::int64_t>(st.model.size());
  sw.pred.assign(static_cast<std::size_t>(2 * 13 * sw.n), 1);
  const auto r = sweep_slopes(sw, st, shifts, 0.2, 300, 1, 0.95, "holm");
  for (const auto& x : r) {
    EXPECT_EQ(x.range, std::make_pair(0, 12));
    EXPECT_EQ(x.slope[2][1], 0.0);
    EXPECT_EQ(x.slope[2][0], 0.0);
    EXPECT_EQ(x.slope_apoptosis.estimate, 0.0);
    EXPECT_EQ(x.slope_mitosis.estimate, 0.0);
    EXPECT_EQ(x.slope_apoptosis.p, 1.0);
    EXPECT_EQ(x.p_models, 1.0);
    EXPECT_EQ(x.p_joint, 1.0);
    EXPECT_EQ(x.p_adjusted, 1.0);
    EXPECT_FALSE(x.significant);
    EXPECT_DOUBLE_EQ(x.sign_agreement, 0.0);  // no model has a non-zero slope
  }
}

TEST(PerturbSlopesDegenerate, NoiselessLinearResponseIsExactAndSignificant) {
  // Grid −5..5; trajectory k of every stratum turns apoptotic once shift ≥ k − 4.5, so the
  // fraction predicted apoptosis is exactly (s + 5)/10 and the slope exactly 0.1 (mitosis −0.1).
  const int M = 5, K = 10;
  const Strata st = balanced_strata(M, K);
  const auto shifts = grid(-5, 5);
  Sweep sw;
  sw.num_p = 1, sw.num_s = 11, sw.n = static_cast<std::int64_t>(st.model.size());
  sw.pred.resize(static_cast<std::size_t>(11 * sw.n));
  for (int s = 0; s < 11; ++s)
    for (std::int64_t i = 0; i < sw.n; ++i) sw.pred[s * sw.n + i] = shifts[s] >= (i % K) - 4.5 ? 1 : 0;
  const auto r = sweep_slopes(sw, st, shifts, 0.2, 1000, 4, 0.95, "holm");
  const auto& x = r[0];
  EXPECT_NEAR(x.slope[2][1], 0.1, 1e-15);
  EXPECT_NEAR(x.slope[0][1], 0.1, 1e-15);
  EXPECT_NEAR(x.slope[1][1], 0.1, 1e-15);
  EXPECT_NEAR(x.slope_apoptosis.estimate, 0.1, 1e-15);
  EXPECT_NEAR(x.slope_mitosis.estimate, -0.1, 1e-15);
  EXPECT_FALSE(x.slope_apoptosis.zero_spread);  // trajectories respond at different shifts
  EXPECT_TRUE(x.slope_apoptosis.excludes_zero());
  EXPECT_LT(x.slope_apoptosis.lo, 0.1);
  EXPECT_GT(x.slope_apoptosis.hi, 0.1);
  // Identical models: no between-model variation, the trajectory bootstrap decides.
  EXPECT_TRUE(std::isnan(x.p_models));
  EXPECT_EQ(x.models_tested, M);
  EXPECT_DOUBLE_EQ(x.p_joint, x.slope_apoptosis.p);
  EXPECT_LT(x.p_adjusted, 1e-4);  // models resampled: t with M − 1 = 4 degrees of freedom
  EXPECT_TRUE(x.significant);
  EXPECT_DOUBLE_EQ(x.sign_agreement, 1.0);
}

TEST(PerturbSlopesDegenerate, PureNoiseCiContainsZeroInMostSeeds) {
  // Predictions independent of the shift (fair coin between mitosis and apoptosis): the 95 % CI of
  // the apoptosis slope contains 0 in most seeds and almost nothing survives the correction.
  const int M = 4, K = 15, P = 4, seeds = 40;
  const Strata st = balanced_strata(M, K);
  const auto shifts = grid(-4, 4);
  const int S = static_cast<int>(shifts.size());
  int contains = 0, significant = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    Rng rng(static_cast<std::uint64_t>(seed) * 7919);
    Sweep sw;
    sw.num_p = P, sw.num_s = S, sw.n = static_cast<std::int64_t>(st.model.size());
    sw.pred.resize(static_cast<std::size_t>(P * S * sw.n));
    for (auto& v : sw.pred) v = static_cast<std::uint8_t>(rng.integer(0, 1));
    const auto r = sweep_slopes(sw, st, shifts, 0.2, 200, static_cast<std::uint64_t>(seed), 0.95, "holm");
    contains += !r[0].slope_apoptosis.excludes_zero();
    for (const auto& x : r) significant += x.significant;
  }
  EXPECT_GE(contains, 34) << "of " << seeds;  // nominal 95 % → 38; percentile CIs run a bit narrow
  EXPECT_LE(significant, 3) << "of " << seeds * P;
}

TEST(PerturbSlopesDegenerate, HolmAcross32PcsOnAKnownPVector) {
  // Closed form: sorted p_(k) × (m − k + 1), running maximum, capped at 1.
  std::vector<double> p(32, 0.5);
  p[7] = 0.0001, p[3] = 0.001, p[20] = 0.002, p[0] = 0.04;
  const auto adj = stats::holm(p);
  EXPECT_NEAR(adj[7], 0.0032, 1e-15);
  EXPECT_NEAR(adj[3], 0.031, 1e-15);
  EXPECT_NEAR(adj[20], 0.06, 1e-15);
  EXPECT_DOUBLE_EQ(adj[0], 1.0);  // 0.04 × 29 > 1
  for (int k : {1, 2, 31}) EXPECT_DOUBLE_EQ(adj[static_cast<std::size_t>(k)], 1.0);
  int sig = 0;
  for (double a : adj) sig += a < 0.05;
  EXPECT_EQ(sig, 2);
  // A p-value floor of 2/(B+1) (zero-spread statistics) never survives Holm over 32 PCs at B = 1000.
  std::vector<double> floor(32, 2.0 / 1001);
  for (double a : stats::holm(floor)) EXPECT_GT(a, 0.05);
}

TEST(PerturbSlopesDegenerate, SweepAppliesHolmToTheJointPValues) {
  // 32 PCs; PC 5 has a strong graded response agreed by every model (slightly different per
  // model), the others are noise: the adjusted p-values are Holm of p_joint.
  const int M = 6, K = 10, P = 32;
  const Strata st = balanced_strata(M, K);
  const auto shifts = grid(-4, 4);
  const int S = static_cast<int>(shifts.size());
  Sweep sw;
  sw.num_p = P, sw.num_s = S, sw.n = static_cast<std::int64_t>(st.model.size());
  sw.pred.resize(static_cast<std::size_t>(P * S * sw.n));
  Rng rng(11);
  for (int p = 0; p < P; ++p)
    for (int s = 0; s < S; ++s)
      for (std::int64_t i = 0; i < sw.n; ++i) {
        const int m = st.model[static_cast<std::size_t>(i)];
        const double thr = ((i % K) - 4.5) * (0.8 + 0.1 * m);  // steeper for some models
        sw.pred[(static_cast<std::size_t>(p) * S + s) * sw.n + i] =
            p == 5 ? (shifts[s] >= thr ? 1 : 0) : static_cast<std::uint8_t>(rng.integer(0, 1));
      }
  const auto r = sweep_slopes(sw, st, shifts, 0.2, 400, 2, 0.95, "holm");
  std::vector<double> joint;
  for (const auto& x : r) {
    EXPECT_DOUBLE_EQ(x.p_joint, std::isnan(x.p_models) ? x.slope_apoptosis.p : std::max(x.slope_apoptosis.p, x.p_models));
    joint.push_back(x.p_joint);
  }
  const auto adj = stats::holm(joint);
  for (int p = 0; p < P; ++p) EXPECT_DOUBLE_EQ(r[static_cast<std::size_t>(p)].p_adjusted, adj[static_cast<std::size_t>(p)]);
  EXPECT_TRUE(r[5].significant);
  EXPECT_GT(r[5].slope[2][1], 0.0);
  EXPECT_LT(r[5].p_models, 1e-4);
  EXPECT_EQ(r[5].models_tested, M);
  int others = 0;
  for (int p = 0; p < P; ++p) others += p != 5 && r[static_cast<std::size_t>(p)].significant;
  EXPECT_EQ(others, 0);
}

// Degenerate models in the neutral world. Each model predicts one class for
// every input until the shift crosses a model-specific threshold, in a model-specific direction;
// all trajectories of a (model, class) respond identically, so the trajectory bootstrap has zero
// spread. Before the fix every PC got p = 0 and the verdict claimed a cause.
Sweep degenerate_sweep(const Strata& st, int P, const std::vector<double>& shifts, std::uint64_t seed) {
  const int S = static_cast<int>(shifts.size());
  Sweep sw;
  sw.num_p = P, sw.num_s = S, sw.n = static_cast<std::int64_t>(st.model.size());
  sw.pred.resize(static_cast<std::size_t>(P * S * sw.n));
  Rng rng(seed);
  for (int p = 0; p < P; ++p) {
    std::vector<double> thr(static_cast<std::size_t>(st.num_models));
    std::vector<int> dir(static_cast<std::size_t>(st.num_models));
    for (int m = 0; m < st.num_models; ++m) {
      thr[static_cast<std::size_t>(m)] = -3.5 + static_cast<double>(rng.integer(0, 6));
      dir[static_cast<std::size_t>(m)] = (m + p) % 2 ? 1 : -1;  // half the models each way
    }
    for (int s = 0; s < S; ++s)
      for (std::int64_t i = 0; i < sw.n; ++i) {
        const int m = st.model[static_cast<std::size_t>(i)];
        const bool past = dir[static_cast<std::size_t>(m)] * (shifts[s] - thr[static_cast<std::size_t>(m)]) > 0;
        sw.pred[(static_cast<std::size_t>(p) * S + s) * sw.n + i] = past ? 1 : 0;
      }
  }
  return sw;
}

TEST(PerturbSlopesDegenerate, NeutralWorldDegenerateModelsFindNoCause) {
  // Every model responds deterministically (a step at its own threshold, half the models each
  // way): within a model every trajectory is identical.
  const int M = 10, P = 32;
  Strata st = balanced_strata(M, 30);
  const auto shifts = grid(-4, 4);
  const auto sw = degenerate_sweep(st, P, shifts, 17);
  // Models held fixed: nothing varies across resamples (zero spread), never p = 0, never significant.
  st.resampling = Resampling::kTrajectories;
  for (const auto& x : sweep_slopes(sw, st, shifts, 0.2, 1000, 5, 0.95, "holm")) {
    EXPECT_TRUE(x.slope_apoptosis.zero_spread) << "PC " << x.p;
    EXPECT_GT(x.slope_apoptosis.p, 0.0) << "PC " << x.p;
    EXPECT_FALSE(x.significant) << "PC " << x.p << " p_models " << x.p_models;
  }
  // Models resampled: their disagreement is the spread, and no PC is significant either.
  st.resampling = Resampling::kModelsThenClusters;
  for (const auto& x : sweep_slopes(sw, st, shifts, 0.2, 1000, 5, 0.95, "holm")) {
    EXPECT_FALSE(x.significant) << "PC " << x.p << " p " << x.slope_apoptosis.p;
    if (std::isfinite(x.slope[2][1]) && x.slope[2][1] != 0) {
      EXPECT_FALSE(x.slope_apoptosis.zero_spread) << "PC " << x.p;
    }
  }
}

TEST(PerturbSlopes, TopPcNeedsARealisticRangeOfMinPoints) {
  auto pc = [](int p, double slope, int lo, int hi) {
    SlopeResult s;
    s.p = p;
    s.slope[2][1] = slope;
    s.range = {lo, hi};
    return s;
  };
  // PC 30 turns synthetic one step from 0: its 2-point slope is the steepest but not ranked.
  const std::vector<SlopeResult> r = {pc(0, 0.01, 0, 24), pc(2, -0.073, 0, 24), pc(30, -0.179, 12, 13),
                                      pc(31, 0.5, -1, -1), pc(5, -0.06, 10, 14)};
  EXPECT_EQ(top_slope_pc(r, 5), 2);
  EXPECT_EQ(top_slope_pc(r, 2), 30);
  EXPECT_EQ(top_slope_pc({pc(7, 0.2, 3, 4)}, 5), -1);
  SlopeResult nan_slope = pc(8, std::nan(""), 0, 24);
  EXPECT_EQ(top_slope_pc({nan_slope, pc(9, 0.01, 0, 24)}, 5), 9);
}

}  // namespace
}  // namespace taupe::perturb
