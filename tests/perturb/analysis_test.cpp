// Statistics of the perturbation engine on hand-made predictions: confusion over models, paired
// recall changes, realistic range, OLS slopes with bootstrap CIs, and the verdict rules.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/perturb/analysis.h"

namespace taupe::perturb {
namespace {

TEST(PerturbRange, ContiguousAroundZero) {
  const std::vector<double> x = {-2, -1, 0, 1, 2};
  EXPECT_EQ(realistic_range(x, {0.5, 0.1, 0.0, 0.15, 0.3}, 0.2), std::make_pair(1, 3));
  EXPECT_EQ(realistic_range(x, {0.1, 0.5, 0.0, 0.1, 0.1}, 0.2), std::make_pair(2, 4));
  EXPECT_EQ(realistic_range(x, {0.0, 0.0, 0.25, 0.0, 0.0}, 0.2), std::make_pair(-1, -1));
  EXPECT_EQ(realistic_range(x, {0.0, 0.0, 0.0, 0.0, 0.0}, 0.2), std::make_pair(0, 4));
  // exactly at the threshold is outside (< 20 %)
  EXPECT_EQ(realistic_range(x, {0.2, 0.0, 0.0, 0.0, 0.2}, 0.2), std::make_pair(1, 3));
  EXPECT_EQ(intersect_ranges({1, 3}, {2, 4}), std::make_pair(2, 3));
  EXPECT_EQ(intersect_ranges({0, 1}, {2, 4}), std::make_pair(-1, -1));
}

TEST(PerturbRange, OlsWeightsGiveTheSlope) {
  const std::vector<double> x = {-2, -1, 0, 1, 2, 3};
  const auto a = ols_slope_weights(x, {1, 4});
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += a[i] * (2.5 * x[i] + 1 + (i == 0 || i == 5 ? 100 : 0));
  EXPECT_NEAR(s, 2.5, 1e-12);  // points outside the range do not count
  for (double v : ols_slope_weights(x, {2, 2})) EXPECT_EQ(v, 0.0);
}

Strata two_models_ten_each() {
  Strata st;
  st.num_models = 2;
  for (int m = 0; m < 2; ++m)
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < 10; ++k) st.model.push_back(m), st.truth.push_back(c);
  st.finalize();
  return st;
}

TEST(PerturbSlopes, LinearRiseIsRecoveredAndFlatCurveIsNot) {
  // Two models are too few for a model-level interval (t with 1 df); the slope mechanics are
  // checked with the models held fixed.
  Strata st = two_models_ten_each();
  st.resampling = Resampling::kTrajectories;
  const std::vector<double> shifts = {-2, -1, 0, 1, 2};
  Sweep sw;
  sw.num_p = 2, sw.num_s = 5, sw.n = 40;
  sw.pred.assign(2 * 5 * 40, 0);
  for (int s = 0; s < 5; ++s)
    for (int i = 0; i < 40; ++i) {
      const int k = i % 10;
      std::uint8_t pr;
      if (s == 4) pr = 2;                              // +2: everything synthetic (out of range)
      else pr = (shifts[s] >= (k % 4) - 2) ? 1 : 0;    // apoptosis fractions 0.3, 0.6, 0.8, 1.0
      sw.pred[(0 * 5 + s) * 40 + i] = pr;
      sw.pred[(1 * 5 + s) * 40 + i] = 0;               // PC 1: always mitosis
    }
  const auto r = sweep_slopes(sw, st, shifts, 0.2, 400, 7, 0.95, "holm");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].range, std::make_pair(0, 3));
  EXPECT_NEAR(r[0].slope[2][1], 0.23, 1e-12);
  EXPECT_NEAR(r[0].slope_apoptosis.estimate, 0.23, 1e-12);
  EXPECT_NEAR(r[0].slope_mitosis.estimate, -0.23, 1e-12);
  EXPECT_NEAR(r[0].slope[0][1], 0.23, 1e-12);
  EXPECT_LT(r[0].slope_apoptosis.lo, 0.23);
  EXPECT_GT(r[0].slope_apoptosis.hi, 0.15);
  EXPECT_TRUE(r[0].significant);
  EXPECT_DOUBLE_EQ(r[0].sign_agreement, 1.0);
  EXPECT_EQ(r[1].range, std::make_pair(0, 4));
  EXPECT_EQ(r[1].slope_apoptosis.estimate, 0.0);
  EXPECT_FALSE(r[1].significant);
  EXPECT_DOUBLE_EQ(r[1].p_adjusted, 1.0);
}

TEST(PerturbSlopes, EmptyRangeGivesNaN) {
  const Strata st = two_models_ten_each();
  Sweep sw;
  sw.num_p = 1, sw.num_s = 3, sw.n = 40;
  sw.pred.assign(3 * 40, 2);  // all synthetic
  const auto r = sweep_slopes(sw, st, {-1, 0, 1}, 0.2, 50, 1, 0.95, "bh");
  EXPECT_EQ(r[0].range, std::make_pair(-1, -1));
  EXPECT_TRUE(std::isnan(r[0].slope_apoptosis.estimate));
  EXPECT_FALSE(r[0].significant);
}

TEST(PerturbConfusion, MeanAndSdOverModels) {
  // model 0: mitosis 2/2 correct; model 1: mitosis 1 of 2 predicted apoptosis.
  const std::vector<int> model = {0, 0, 1, 1}, truth = {0, 0, 0, 0}, pred = {0, 0, 0, 1};
  const auto cs = confusion_stats(2, model, truth, pred);
  EXPECT_DOUBLE_EQ(cs.mean[0][0], 0.75);
  EXPECT_DOUBLE_EQ(cs.mean[0][1], 0.25);
  EXPECT_NEAR(cs.sd[0][0], std::sqrt(0.125), 1e-12);
  EXPECT_DOUBLE_EQ(cs.mean[1][1], 0.0);  // empty rows stay 0
}

TEST(PerturbDeltaRecall, PairedChangeWithCi) {
  Strata st = two_models_ten_each();
  st.resampling = Resampling::kTrajectories;  // see LinearRiseIsRecoveredAndFlatCurveIsNot
  std::vector<int> a(40), b(40);
  for (int i = 0; i < 40; ++i) {
    a[i] = st.truth[i];                        // all correct
    b[i] = (st.truth[i] == 1 && i % 10 < 3) ? 0 : st.truth[i];  // 3 of 10 apoptoses flip
  }
  const auto d = delta_recall(st, a, b, 1, 500, 3, 0.95);
  EXPECT_NEAR(d.estimate, -0.3, 1e-12);
  EXPECT_LT(d.hi, 0.0);
  EXPECT_TRUE(d.excludes_zero());
  const auto m = delta_recall(st, a, b, 0, 500, 3, 0.95);
  EXPECT_EQ(m.estimate, 0.0);
  EXPECT_FALSE(m.excludes_zero());
  // Resampling two identical models adds no spread between them, but t(1 df) widens the interval
  // of whatever spread the lineages give: it still holds the estimate.
  st.resampling = Resampling::kModelsThenClusters;
  const auto h = delta_recall(st, a, b, 1, 500, 3, 0.95);
  EXPECT_NEAR(h.estimate, -0.3, 1e-12);
  EXPECT_GT(h.hi - h.lo, d.hi - d.lo);
}



TEST(PerturbDeltaProbability, ClassBalancedPairedMean) {
  Strata st = two_models_ten_each();
  st.resampling = Resampling::kTrajectories;
  // Mitosis trajectories rise by 0.1, apoptosis ones by 0.3 (+ a spread that averages to 0 per
  // model and class): the class-balanced mean is (0.1 + 0.3) / 2 = 0.2 whatever the class sizes.
  std::vector<double> a(40, 0.2), b(40);
  for (int i = 0; i < 40; ++i) b[i] = 0.2 + (st.truth[i] == 1 ? 0.3 : 0.1) + (i % 2 == 0 ? 0.05 : -0.05);
  const auto d = delta_probability(st, a, b, 500, 5, 0.95);
  EXPECT_NEAR(d.estimate, 0.2, 1e-12);
  EXPECT_TRUE(d.excludes_zero());
  EXPECT_LT(d.lo, 0.2);
  EXPECT_GT(d.hi, 0.2);
  // Only the apoptosis trajectories move (by 0.4): the mitosis class still counts half.
  std::vector<double> flat_a(40, 0.0), flat_b(40);
  for (int i = 0; i < 40; ++i) flat_b[i] = st.truth[i] == 1 ? 0.4 : 0.0;
  EXPECT_NEAR(delta_probability(st, flat_a, flat_b, 200, 5, 0.95).estimate, 0.2, 1e-12);
  // A change of probability cannot leave [−1, 1], whatever the t interval of two models says.
  st.resampling = Resampling::kModelsThenClusters;
  std::vector<double> zero(40, 0.0), one(40);
  for (int i = 0; i < 40; ++i) one[i] = (i % 3 == 0) ? 1.0 : 0.9;
  const auto c = delta_probability(st, zero, one, 200, 5, 0.95);
  EXPECT_LE(c.hi, 1.0);
  EXPECT_GE(c.lo, -1.0);
  EXPECT_THROW(delta_probability(st, zero, std::vector<double>(3, 0.0), 10, 5, 0.95), DataError);
}


}  // namespace
}  // namespace taupe::perturb
