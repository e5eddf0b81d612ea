// The skill gate of the verdicts: held-out informedness (Youden's J) of a model set, its
// permutation test, and what a failing gate does to the slopes and the verdicts.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "taupe/core/rng.h"
#include "taupe/perturb/analysis.h"

namespace taupe::perturb {
namespace {

/// M models, each with n0 mitotic and n1 apoptotic trajectories.
Strata strata_of(int models, int n0, int n1) {
  Strata st;
  st.num_models = models;
  for (int m = 0; m < models; ++m) {
    for (int i = 0; i < n0; ++i) st.model.push_back(m), st.truth.push_back(0);
    for (int i = 0; i < n1; ++i) st.model.push_back(m), st.truth.push_back(1);
  }
  st.finalize();
  return st;
}

TEST(SkillGate, PerfectPredictionsHaveInformednessOneAndTheSmallestPermutationP) {
  const auto st = strata_of(3, 20, 10);
  std::vector<int> pred(st.truth.begin(), st.truth.end());
  const Skill sk = predictive_skill(st, pred, 199, 7, 0.95, 0.1);
  EXPECT_NEAR(sk.informedness.estimate, 1.0, 1e-12);
  EXPECT_NEAR(sk.balanced_accuracy, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(sk.informedness.p, 1.0 / 200.0);  // (1 + 0) / (1 + 199)
  EXPECT_TRUE(sk.passes);
  EXPECT_EQ(sk.trajectories, 90);
  for (double j : sk.per_model) EXPECT_NEAR(j, 1.0, 1e-12);
}

TEST(SkillGate, ConstantPredictionsAreChanceWithPOne) {
  const auto st = strata_of(4, 15, 15);
  const std::vector<int> pred(st.truth.size(), 1);  // everything "apoptosis": recall 0 + 1 − 1 = 0
  const Skill sk = predictive_skill(st, pred, 99, 3, 0.95, 0.0);
  EXPECT_NEAR(sk.informedness.estimate, 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(sk.informedness.p, 1.0);  // every permutation gives the same J
  EXPECT_FALSE(sk.passes);
  EXPECT_NE(sk.brief().find("do not predict fate better than chance"), std::string::npos) << sk.brief();
}

TEST(SkillGate, InformednessIsTheMeanOfEachModelsRecallSum) {
  // Model 0: 8 of 10 mitoses, 3 of 5 apoptoses → J = 0.8 + 0.6 − 1 = 0.4.
  // Model 1: 5 of 10, 5 of 5 → J = 0.5. Synthetic rows (truth 2) are ignored.
  Strata st;
  st.num_models = 2;
  std::vector<int> pred;
  auto add = [&](int m, int truth, int p, int count) {
    for (int i = 0; i < count; ++i) st.model.push_back(m), st.truth.push_back(truth), pred.push_back(p);
  };
  add(0, 0, 0, 8), add(0, 0, 1, 2), add(0, 1, 1, 3), add(0, 1, 2, 2);
  add(1, 0, 0, 5), add(1, 0, 2, 5), add(1, 1, 1, 5);
  add(0, 2, 2, 6), add(1, 2, 0, 6);
  st.finalize();
  const Skill sk = predictive_skill(st, pred, 200, 11, 0.95, 0.1);
  ASSERT_EQ(sk.per_model.size(), 2u);
  EXPECT_NEAR(sk.per_model[0], 0.4, 1e-12);
  EXPECT_NEAR(sk.per_model[1], 0.5, 1e-12);
  EXPECT_NEAR(sk.informedness.estimate, 0.45, 1e-12);
  EXPECT_NEAR(sk.balanced_accuracy, 0.725, 1e-12);
  EXPECT_EQ(sk.trajectories, 30);
  EXPECT_LE(sk.informedness.lo, 0.45);
  EXPECT_GE(sk.informedness.hi, 0.45);
}

TEST(SkillGate, PermutationPIsCalibratedUnderTheNull) {
  // Predictions drawn independently of the true class: P(p < 0.05) must be about 0.05.
  const auto st = strata_of(5, 30, 30);
  Rng rng(2024);
  int rejections = 0;
  const int trials = 300;
  for (int t = 0; t < trials; ++t) {
    std::vector<int> pred(st.truth.size());
    for (auto& p : pred) p = static_cast<int>(rng.integer(0, 2));
    rejections += predictive_skill(st, pred, 199, 100 + static_cast<std::uint64_t>(t), 0.95, 0.0).informedness.p < 0.05;
  }
  // Binomial(300, 0.05): mean 15, sd 3.8.
  EXPECT_GE(rejections, 4);
  EXPECT_LE(rejections, 28);
}

TEST(SkillGate, SignificantButSmallSkillFailsThePracticalThreshold) {
  // 2000 trajectories per class and model, recall 0.54 / 0.50: J = 0.04, clearly significant.
  const auto st = strata_of(2, 2000, 2000);
  std::vector<int> pred(st.truth.size());
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const std::size_t k = i % 4000;
    pred[i] = k < 2000 ? (k < 1080 ? 0 : 1) : (k < 3000 ? 1 : 0);
  }
  const Skill sk = predictive_skill(st, pred, 199, 5, 0.95, 0.1);
  EXPECT_NEAR(sk.informedness.estimate, 0.04, 1e-12);
  EXPECT_LT(sk.informedness.p, 0.05);
  EXPECT_FALSE(sk.passes);
  EXPECT_NE(sk.brief().find("below the practical threshold"), std::string::npos) << sk.brief();
}

TEST(SkillGate, FailingGateRemovesEverySignificantSlope) {
  std::vector<SlopeResult> slopes(3);
  for (auto& s : slopes) s.p_adjusted = 1e-6, s.significant = true;
  slopes[2].p_adjusted = 0.5, slopes[2].significant = false;
  Skill sk;
  sk.informedness.p = 0.01;
  sk.passes = true;
  apply_skill_gate(slopes, sk, 0.95);
  EXPECT_TRUE(slopes[0].significant);
  EXPECT_DOUBLE_EQ(slopes[0].p_adjusted, 0.01);  // serial gatekeeping: max(p_family, p_gate)
  EXPECT_FALSE(slopes[0].gated);
  EXPECT_FALSE(slopes[2].significant);
  sk.informedness.p = 0.3;
  sk.passes = false;
  apply_skill_gate(slopes, sk, 0.95);
  for (const auto& s : slopes) {
    EXPECT_FALSE(s.significant);
    EXPECT_TRUE(s.gated);
    EXPECT_GE(s.p_adjusted, 0.3);
  }
}

}  // namespace
}  // namespace taupe::perturb
