// core/stats against closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include "taupe/core/stats.h"

using namespace taupe::stats;

TEST(Stats, NormalQuantileInvertsCdf) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963985, 1e-8);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  for (double p : {1e-6, 0.01, 0.3, 0.9, 0.999}) EXPECT_NEAR(normal_cdf(normal_quantile(p)), p, 1e-10);
}

TEST(Stats, TQuantile) {
  EXPECT_NEAR(t_quantile(0.975, 10), 2.228139, 2e-3);
  EXPECT_NEAR(t_quantile(0.975, 30), 2.042272, 1e-4);
}

TEST(Stats, RanksAndSpearman) {
  EXPECT_EQ(ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {2, 4, 8, 16, 32}), 1.0, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0, 1e-12);
  // Closed form without ties: 1 - 6 sum d^2 / (n (n^2 - 1)); d = (0,1,-1,0) -> 1 - 12/60 = 0.8
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
}

TEST(Stats, AucIsMannWhitney) {
  EXPECT_DOUBLE_EQ(auc({1, 2, 3, 4}, {false, false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(auc({1, 2, 3, 4}, {true, true, false, false}), 0.0);
  // pos {2, 3}, neg {1, 3}: pairs (2>1)=1 (2<3)=0 (3>1)=1 (3=3)=0.5 -> 2.5/4
  EXPECT_DOUBLE_EQ(auc({1, 2, 3, 3}, {false, true, true, false}), 0.625);
  EXPECT_TRUE(std::isnan(auc({1, 2}, {true, true})));
}

TEST(Stats, LogisticRegressionClosedForm) {
  // One binary covariate: the MLE is the log odds ratio of the 2x2 table, with Wald SE
  // sqrt(1/a + 1/b + 1/c + 1/d). Table: x=0: 30 y=1, 70 y=0; x=1: 60 y=1, 40 y=0.
  std::vector<double> x;
  std::vector<bool> y;
  auto add = [&](double xv, bool yv, int n) { for (int i = 0; i < n; ++i) { x.push_back(xv); y.push_back(yv); } };
  add(0, true, 30); add(0, false, 70); add(1, true, 60); add(1, false, 40);
  const LogisticFit f = logistic_regression({x}, y);
  ASSERT_TRUE(f.converged);
  EXPECT_NEAR(f.coef[0], std::log(30.0 / 70.0), 1e-8);
  EXPECT_NEAR(f.coef[1], std::log((60.0 / 40.0) / (30.0 / 70.0)), 1e-8);
  EXPECT_NEAR(f.se[1], std::sqrt(1 / 30.0 + 1 / 70.0 + 1 / 60.0 + 1 / 40.0), 1e-6);
  EXPECT_NEAR(f.ci_lo[1], f.coef[1] - 1.959964 * f.se[1], 1e-5);
  EXPECT_LT(f.p[1], 1e-3);
}

TEST(Stats, OlsClosedForm) {
  const std::vector<double> x{0, 1, 2, 3, 4}, y{1, 3, 5, 7, 9.5};
  const OlsFit f = ols(x, y);
  // slope = Sxy/Sxx: mean x 2, mean y 5.1; Sxy = (-2)(-4.1)+(-1)(-2.1)+0+(1)(1.9)+(2)(4.4)=21; Sxx=10
  EXPECT_NEAR(f.slope, 2.1, 1e-12);
  EXPECT_NEAR(f.intercept, 5.1 - 2.1 * 2, 1e-12);
  // residuals: 1-0.9=0.1, 3-3=0, 5-5.1=-0.1, 7-7.2=-0.2, 9.5-9.3=0.2 -> SSE 0.1; se = sqrt(0.1/3/10)
  EXPECT_NEAR(f.slope_se, std::sqrt(0.1 / 3 / 10), 1e-12);
  EXPECT_LT(f.ci_lo, 2.1);
  EXPECT_GT(f.ci_hi, 2.1);
}

TEST(Stats, MultipleTesting) {
  const std::vector<double> p{0.01, 0.04, 0.03, 0.20};
  const auto bh = benjamini_hochberg(p);
  // sorted 0.01,0.03,0.04,0.20 -> 0.04, 0.053.., 0.053.., 0.20 (monotone from the top)
  EXPECT_NEAR(bh[0], 0.04, 1e-12);
  EXPECT_NEAR(bh[2], 0.04 * 4 / 3, 1e-12);
  EXPECT_NEAR(bh[1], 0.04 * 4 / 3, 1e-12);
  EXPECT_NEAR(bh[3], 0.20, 1e-12);
  const auto hm = holm(p);
  EXPECT_NEAR(hm[0], 0.04, 1e-12);
  EXPECT_NEAR(hm[2], 0.09, 1e-12);
  EXPECT_NEAR(hm[1], 0.09, 1e-12);  // max(0.03*3, 0.04*2)
  EXPECT_NEAR(hm[3], 0.20, 1e-12);
}

TEST(Stats, BootstrapCoversMean) {
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(i % 10);
  auto stat = [&](const std::vector<std::size_t>& idx) {
    double s = 0;
    for (auto i : idx) s += v[i];
    return s / idx.size();
  };
  const BootstrapCi ci = bootstrap_ci(v.size(), stat, 500, 7);
  EXPECT_NEAR(ci.estimate, 4.5, 1e-12);
  EXPECT_LT(ci.lo, 4.5);
  EXPECT_GT(ci.hi, 4.5);
  EXPECT_NEAR(ci.hi - ci.lo, 2 * 1.96 * std::sqrt(8.25 / 200), 0.15);
  const BootstrapCi again = bootstrap_ci(v.size(), stat, 500, 7);
  EXPECT_EQ(ci.lo, again.lo);
}
