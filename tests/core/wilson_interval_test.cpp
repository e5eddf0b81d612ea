// stats::wilson_interval against its closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include "taupe/core/stats.h"

namespace taupe::stats {
namespace {

constexpr double kZ95 = 1.959963984540054;  // normal quantile 0.975

TEST(WilsonInterval, EmptySampleIsTheWholeUnitInterval) {
  const Interval ci = wilson_interval(0, 0);
  EXPECT_EQ(ci.lo, 0.0);
  EXPECT_EQ(ci.hi, 1.0);
}

TEST(WilsonInterval, NoSuccessesAndAllSuccessesHaveClosedForms) {
  // k = 0: [0, z²/(n + z²)]; k = n: [n/(n + z²), 1].
  const double z2 = kZ95 * kZ95;
  const Interval none = wilson_interval(0, 10);
  EXPECT_DOUBLE_EQ(none.lo, 0.0);
  EXPECT_NEAR(none.hi, z2 / (10 + z2), 1e-9);
  EXPECT_NEAR(none.hi, 0.277533, 1e-6);
  const Interval all = wilson_interval(10, 10);
  EXPECT_NEAR(all.lo, 10 / (10 + z2), 1e-9);
  EXPECT_DOUBLE_EQ(all.hi, 1.0);
}

TEST(WilsonInterval, HalfIsSymmetricAboutOneHalf) {
  // 5/10: centre 1/2, half width z sqrt(n/4 + z²/4) / (n + z²) -> [0.2366, 0.7634].
  const Interval ci = wilson_interval(5, 10);
  EXPECT_NEAR(ci.lo, 0.236593, 1e-6);
  EXPECT_NEAR(ci.hi, 0.763407, 1e-6);
  EXPECT_NEAR(ci.lo + ci.hi, 1.0, 1e-12);
}

TEST(WilsonInterval, BoundsSolveTheScoreEquationAtAnyLevel) {
  // The Wilson bounds are the two roots pi of (p - pi)^2 = z^2 pi (1 - pi) / n.
  for (double level : {0.8, 0.9, 0.95, 0.99}) {
    const double z = normal_quantile(0.5 + level / 2);
    const std::int64_t k = 3, n = 7;
    const double p = 3.0 / 7.0;
    const Interval ci = wilson_interval(k, n, level);
    for (double pi : {ci.lo, ci.hi}) EXPECT_NEAR((p - pi) * (p - pi), z * z * pi * (1 - pi) / n, 1e-9) << level;
    EXPECT_LT(ci.lo, p);
    EXPECT_GT(ci.hi, p);
  }
  EXPECT_LT(wilson_interval(3, 7, 0.99).lo, wilson_interval(3, 7, 0.8).lo);
}

}  // namespace
}  // namespace taupe::stats
