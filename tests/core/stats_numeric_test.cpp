// The one implementation of each numeric helper (core/stats.h): normal and Student-t
// quantiles, the regularised incomplete beta, the two-sided t p-value, the linear-interpolation
// quantile and argmax, against tabulated values and closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "taupe/core/stats.h"

namespace taupe::stats {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(StatsNumeric, NormalQuantileMatchesTables) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normal_quantile(0.995), 2.575829303548901, 1e-9);
  EXPECT_NEAR(normal_quantile(0.9), 1.281551565544601, 1e-9);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963984540054, 1e-9);
  EXPECT_NEAR(normal_quantile(1e-6), -4.753424308822899, 1e-8);
  EXPECT_EQ(normal_quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1.0), std::numeric_limits<double>::infinity());
}

TEST(StatsNumeric, StudentTQuantileMatchesTablesAndClosedForms) {
  // Tabulated two-sided 95 % / 90 % / 99 % critical values.
  EXPECT_NEAR(t_quantile(0.975, 5), 2.570581835636314, 1e-6);
  EXPECT_NEAR(t_quantile(0.975, 10), 2.228138851986274, 1e-6);
  EXPECT_NEAR(t_quantile(0.975, 30), 2.042272456301238, 1e-6);
  EXPECT_NEAR(t_quantile(0.995, 3), 5.840909309733350, 1e-6);
  // df 1 (Cauchy): tan(π (p − ½)); df 2: (2p − 1) / √(2 p (1 − p)) — where a 4-term
  // Cornish-Fisher expansion is 11 % and 0.75 % off.
  for (double p : {0.6, 0.9, 0.95, 0.975, 0.995}) {
    EXPECT_NEAR(t_quantile(p, 1), std::tan(kPi * (p - 0.5)), 1e-6 * std::tan(kPi * (p - 0.5))) << p;
    EXPECT_NEAR(t_quantile(p, 2), (2 * p - 1) / std::sqrt(2 * p * (1 - p)), 1e-6) << p;
  }
  EXPECT_NEAR(t_quantile(0.025, 10), -2.228138851986274, 1e-6);  // symmetric
  EXPECT_NEAR(t_quantile(0.975, 1e9), normal_quantile(0.975), 1e-9);
}

TEST(StatsNumeric, IncompleteBetaMatchesClosedForms) {
  EXPECT_NEAR(incomplete_beta(2, 3, 0.5), 11.0 / 16.0, 1e-12);  // binomial tail: (6 + 4 + 1) / 16
  EXPECT_NEAR(incomplete_beta(1, 1, 0.37), 0.37, 1e-12);        // uniform
  EXPECT_NEAR(incomplete_beta(2.5, 1, 0.3), std::pow(0.3, 2.5), 1e-12);      // I_x(a, 1) = x^a
  EXPECT_NEAR(incomplete_beta(1, 3, 0.2), 1 - std::pow(0.8, 3), 1e-12);      // I_x(1, b) = 1 − (1 − x)^b
  EXPECT_NEAR(incomplete_beta(0.5, 0.5, 0.4), 2 / kPi * std::asin(std::sqrt(0.4)), 1e-12);  // arcsine
  EXPECT_EQ(incomplete_beta(2, 3, 0.0), 0.0);
  EXPECT_EQ(incomplete_beta(2, 3, 1.0), 1.0);
}

TEST(StatsNumeric, TwoSidedTPValue) {
  EXPECT_NEAR(t_two_sided_p(1.0, 1.0), 0.5, 1e-12);                  // Cauchy: 1 − 2 atan(1)/π
  EXPECT_NEAR(t_two_sided_p(2.0, 2.0), 1 - 2 / std::sqrt(6.0), 1e-12);  // df 2: 1 − t/√(2 + t²)
  EXPECT_NEAR(t_two_sided_p(t_quantile(0.975, 9), 9), 0.05, 1e-9);
  EXPECT_NEAR(t_two_sided_p(-3.0, 1e6), 2 * normal_cdf(-3.0), 1e-6);
  EXPECT_EQ(t_two_sided_p(std::numeric_limits<double>::infinity(), 3), 0.0);
  EXPECT_TRUE(std::isnan(t_two_sided_p(1.0, 0.0)));
  EXPECT_TRUE(std::isnan(t_two_sided_p(std::nan(""), 3.0)));
}

TEST(StatsNumeric, QuantileInterpolatesLinearlyBetweenOrderStatistics) {
  const std::vector<double> v = {4, 1, 3, 2};  // numpy.quantile, default method
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile(v, 0.1), 1.3);
  EXPECT_DOUBLE_EQ(quantile(v, 0.99), 3.97);
  EXPECT_DOUBLE_EQ(quantile(v, 1.5), 4.0);  // clamped
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile({7}, 0.3), 7.0);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
}

TEST(StatsNumeric, QuantilesBySelectionEqualTheSortedOnes) {
  // Ties, odd and even sizes, one element, the ends of [0, 1] and p outside it: the same doubles.
  const std::vector<double> ps = {0.0, 0.05, 0.5, 0.99, 1.0, -0.2, 1.3, 0.999999};
  for (std::size_t n : {1u, 2u, 7u, 64u, 4096u}) {
    std::vector<double> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(static_cast<double>((i * 7919 + 13) % 97) * 0.5);
    const auto q = quantiles(v, ps);
    ASSERT_EQ(q.size(), ps.size());
    for (std::size_t k = 0; k < ps.size(); ++k) EXPECT_EQ(q[k], quantile(v, ps[k])) << "n " << n << " p " << ps[k];
  }
  EXPECT_TRUE(std::isnan(quantiles({}, {0.5})[0]));
}

TEST(StatsNumeric, ArgmaxTakesTheFirstOfTies) {
  const float a[] = {0.2f, 0.5f, 0.3f};
  EXPECT_EQ(argmax(a, 3), 1);
  const double tie[] = {0.4, 0.4, 0.2};
  EXPECT_EQ(argmax(tie, 3), 0);
  const int last[] = {1, 2, 3};
  EXPECT_EQ(argmax(last, 3), 2);
  EXPECT_EQ(argmax(last, 0), -1);
}

}  // namespace
}  // namespace taupe::stats
