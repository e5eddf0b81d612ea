// The hierarchical bootstrap (models, then lineage clusters within each model): closed-form point
// estimates, clusters resampled as units, and calibration of the verdict tests on a synthetic
// generator of predictions whose models and lineages carry shared random effects (the structure of
// fold models trained on overlapping data and of sister cells).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "taupe/core/rng.h"
#include "taupe/perturb/analysis.h"
#include "taupe/perturb/verdict.h"

namespace taupe::perturb {
namespace {

const std::array<double, 3> kApoptosis{0.0, 1.0, 0.0};

TEST(BootstrapRatio, PointEstimateIsTheMeanOverModelsOfPerModelRatios) {
  Strata st;
  st.num_models = 2;
  std::vector<double> x;
  auto add = [&](int m, int c, double v, std::int64_t cl) {
    st.model.push_back(m), st.truth.push_back(c), st.cluster.push_back(cl), x.push_back(v);
  };
  add(0, 1, 1, 0), add(0, 1, 0, 0), add(0, 1, 1, 1), add(0, 1, 1, 2);  // model 0: 3/4
  add(1, 1, 0, 3), add(1, 1, 1, 4);                                    // model 1: 1/2
  add(0, 0, 1, 5), add(1, 2, 1, 6);                                    // other classes: ignored by the coef
  st.finalize();
  for (auto mode : {Resampling::kModelsThenClusters, Resampling::kTrajectories}) {
    st.resampling = mode;
    const auto r = bootstrap_ratio(st, x, 1, {kApoptosis}, 200, 1, 0.95);
    EXPECT_DOUBLE_EQ(r[0].estimate, 0.625);
    EXPECT_LE(r[0].lo, r[0].estimate);
    EXPECT_GE(r[0].hi, r[0].estimate);
  }
  // Class-balanced: ½ (mean mitosis ratio + mean apoptosis ratio); mitosis exists in model 0 only.
  st.resampling = Resampling::kModelsThenClusters;
  const auto b = bootstrap_ratio(st, x, 1, {{0.5, 0.5, 0.0}}, 200, 1, 0.95);
  EXPECT_DOUBLE_EQ(b[0].estimate, 0.5 * (1.0 + 0.625));
}

/// M models × L lineages of `per` trajectories each (all apoptotic), per-trajectory value drawn
/// from `value(model, lineage)`.
template <class F>
std::pair<Strata, std::vector<double>> clustered(int M, int L, int per, F value) {
  Strata st;
  st.num_models = M;
  std::vector<double> x;
  for (int m = 0; m < M; ++m)
    for (int l = 0; l < L; ++l)
      for (int k = 0; k < per; ++k) {
        st.model.push_back(m), st.truth.push_back(1), st.cluster.push_back(m * 1000 + l);
        x.push_back(value(m, l));
      }
  st.finalize();
  return {st, x};
}

TEST(BootstrapRatio, ALineageIsResampledAsOneUnit) {
  // Copying every trajectory three times within its lineage adds no information: with lineage
  // clusters the interval is unchanged; treating the copies as independent makes it √3 narrower.
  // Every model holds the same 12 lineage values, so resampling the models adds nothing and the
  // width comes from the lineages alone.
  Rng rng(3);
  std::vector<double> v(12);
  for (auto& e : v) e = rng.uniform();
  auto value = [&](int, int l) { return v[static_cast<std::size_t>(l)]; };
  auto [one, x1] = clustered(5, 12, 1, value);
  auto [three, x3] = clustered(5, 12, 3, value);
  const auto a = bootstrap_ratio(one, x1, 1, {kApoptosis}, 400, 9, 0.95)[0];
  const auto b = bootstrap_ratio(three, x3, 1, {kApoptosis}, 400, 9, 0.95)[0];
  EXPECT_DOUBLE_EQ(a.estimate, b.estimate);
  EXPECT_NEAR(a.hi - a.lo, b.hi - b.lo, 1e-12);
  three.cluster.clear();  // every copy its own cluster
  const auto c = bootstrap_ratio(three, x3, 1, {kApoptosis}, 400, 9, 0.95)[0];
  EXPECT_LT(c.hi - c.lo, 0.8 * (b.hi - b.lo));
}

/// Null replicate of a Δ apoptosis recall: M fold models, each with L lineages of 1–3 sister
/// trajectories. A trajectory's prediction is "apoptosis" with probability 0.6 before and
/// 0.6 + b_m + u_l after the perturbation, b_m ~ N(shift, sd_model) shared by a model's
/// trajectories, u_l ~ N(0, sd_lineage) shared by sisters. The population effect is `shift`.
struct NullSample {
  Strata strata;
  std::vector<int> before, after;
};
NullSample null_sample(std::uint64_t seed, double shift, double sd_model, double sd_lineage) {
  const int M = 10, L = 15;
  Rng rng(seed);
  NullSample s;
  s.strata.num_models = M;
  for (int m = 0; m < M; ++m) {
    const double b = rng.normal(shift, sd_model);
    for (int l = 0; l < L; ++l) {
      const double u = rng.normal(0.0, sd_lineage);
      const int sisters = static_cast<int>(rng.integer(1, 3));
      for (int k = 0; k < sisters; ++k) {
        s.strata.model.push_back(m), s.strata.truth.push_back(1), s.strata.cluster.push_back(m * 100 + l);
        s.before.push_back(rng.bernoulli(0.6) ? 1 : 0);
        s.after.push_back(rng.bernoulli(std::clamp(0.6 + b + u, 0.0, 1.0)) ? 1 : 0);
      }
    }
  }
  s.strata.finalize();
  return s;
}

/// Rejections of "Δ = 0" (the effect test: the 95 % interval excludes 0) over `n` null replicates.
int false_effects(int n, Resampling mode, double sd_model) {
  int rejected = 0;
  for (int r = 0; r < n; ++r) {
    auto s = null_sample(1000 + static_cast<std::uint64_t>(r), 0.0, sd_model, 0.10);
    s.strata.resampling = mode;
    const auto d = delta_recall(s.strata, s.before, s.after, 1, 200, 77 + static_cast<std::uint64_t>(r), 0.95);
    rejected += d.excludes_zero();
  }
  return rejected;
}

// 200 replicates at α = 0.05: the count of rejections lies in [4, 17] with probability ≈ 0.96
// (binomial(200, 0.05)); the tests below check the nominal α against that interval.
constexpr int kReplicates = 200, kLo = 4, kHi = 17;

TEST(BootstrapCalibration, HierarchicalEffectTestHoldsItsAlphaUnderSharedModelEffects) {
  const int k = false_effects(kReplicates, Resampling::kModelsThenClusters, 0.08);
  EXPECT_GE(k, kLo - 4);  // conservative is allowed; a test that never rejects would show here as 0
  EXPECT_LE(k, kHi) << k << " of " << kReplicates << " null replicates rejected";
}

TEST(BootstrapCalibration, TrajectoryBootstrapIsTooNarrowWhenModelsShareEffects) {
  // The reason the trajectory-only bootstrap is not the default: it treats the 10 models as fixed,
  // so a between-model effect of sd 0.08 reads as a real effect far more often than α.
  const int k = false_effects(kReplicates, Resampling::kTrajectories, 0.08);
  EXPECT_GT(k, kHi) << k << " of " << kReplicates;
}

TEST(BootstrapCalibration, EquivalenceTestHoldsItsAlphaAtTheMargin) {
  // True effect exactly at the margin: "no effect" may be declared in at most ≈ α of replicates.
  const double margin = 0.10;
  int claimed = 0;
  for (int r = 0; r < kReplicates; ++r) {
    auto s = null_sample(5000 + static_cast<std::uint64_t>(r), margin, 0.04, 0.10);
    const auto d = delta_recall(s.strata, s.before, s.after, 1, 200, 91 + static_cast<std::uint64_t>(r), 0.95);
    claimed += decide(d, margin, 0.05, static_cast<std::int64_t>(s.before.size())).outcome == Outcome::kNoEffect;
  }
  EXPECT_LE(claimed, kHi) << claimed << " of " << kReplicates;
}

TEST(BootstrapCalibration, PcSlopeTestHoldsItsAlphaUnderSharedModelSlopes) {
  // Neutral-world sweeps: each model's apoptosis probability moves with the shift by its own slope
  // b_m ~ N(0, 0.03) per unit (population slope 0), each lineage adds its own offset; the slope test
  // (hierarchical interval of the class-balanced apoptosis slope) rejects at most at rate ≈ α.
  const std::vector<double> shifts = {-2, -1, 0, 1, 2};
  int rejected = 0;
  for (int r = 0; r < kReplicates; ++r) {
    Rng rng(20000 + static_cast<std::uint64_t>(r));
    Strata st;
    st.num_models = 10;
    std::vector<double> slope_of_model(10), offset;
    for (int m = 0; m < 10; ++m) {
      slope_of_model[static_cast<std::size_t>(m)] = rng.normal(0.0, 0.03);
      for (int l = 0; l < 12; ++l) {
        const double u = rng.normal(0.0, 0.1);
        const int sisters = static_cast<int>(rng.integer(1, 3));
        for (int k = 0; k < sisters; ++k) {
          st.model.push_back(m), st.truth.push_back(static_cast<int>(rng.integer(0, 1))), st.cluster.push_back(m * 100 + l);
          offset.push_back(u);
        }
      }
    }
    st.finalize();
    Sweep sw;
    sw.num_p = 1, sw.num_s = 5, sw.n = static_cast<std::int64_t>(st.model.size());
    sw.pred.resize(static_cast<std::size_t>(5 * sw.n));
    for (int s = 0; s < 5; ++s)
      for (std::int64_t i = 0; i < sw.n; ++i) {
        const double p = 0.5 + offset[static_cast<std::size_t>(i)] +
                         slope_of_model[static_cast<std::size_t>(st.model[static_cast<std::size_t>(i)])] * shifts[static_cast<std::size_t>(s)];
        sw.pred[static_cast<std::size_t>(s) * static_cast<std::size_t>(sw.n) + static_cast<std::size_t>(i)] =
            rng.bernoulli(std::clamp(p, 0.0, 1.0)) ? 1 : 0;
      }
    const auto res = sweep_slopes(sw, st, shifts, 0.2, 200, 33 + static_cast<std::uint64_t>(r), 0.95, "holm");
    rejected += res[0].slope_apoptosis.excludes_zero();
  }
  EXPECT_LE(rejected, kHi) << rejected << " of " << kReplicates;
}

TEST(BootstrapCalibration, SkillPermutationTestOnLabelPermutedModelsHoldsItsAlpha) {
  // Label-permuted models: predictions independent of the true class (each model its own bias).
  int rejected = 0;
  for (int r = 0; r < kReplicates; ++r) {
    Rng rng(9000 + static_cast<std::uint64_t>(r));
    Strata st;
    st.num_models = 10;
    std::vector<int> pred;
    for (int m = 0; m < 10; ++m) {
      const double bias = rng.uniform(0.2, 0.8);
      for (int i = 0; i < 30; ++i) {
        st.model.push_back(m), st.truth.push_back(rng.bernoulli(0.5) ? 1 : 0), st.cluster.push_back(m * 100 + i);
        pred.push_back(rng.bernoulli(bias) ? 1 : 0);
      }
    }
    st.finalize();
    rejected += predictive_skill(st, pred, 199, 5 + static_cast<std::uint64_t>(r), 0.95, 0.0).informedness.p < 0.05;
  }
  EXPECT_LE(rejected, kHi) << rejected;
  EXPECT_GE(rejected, 1);
}

}  // namespace
}  // namespace taupe::perturb
