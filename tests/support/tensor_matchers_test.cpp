// The tensor matchers accept what they should and explain what they reject.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "support/tensor_matchers.h"

using ::testing::HasSubstr;
using ::testing::Not;
using taupe::test::IsCloseTensor;
using taupe::test::IsOrthonormal;

namespace {

template <class M>
std::string explain(const M& matcher, const at::Tensor& t) {
  ::testing::StringMatchResultListener listener;
  ::testing::ExplainMatchResult(matcher, t, &listener);
  return listener.str();
}

TEST(TensorMatchers, IsCloseTensorUsesRelativeAndAbsoluteTolerance) {
  const at::Tensor e = at::tensor({1.0, 100.0, -2.0}, at::kDouble);
  EXPECT_THAT(e.clone(), IsCloseTensor(e, 0, 0));
  EXPECT_THAT(e + at::tensor({0.0, 0.5, 0.0}, at::kDouble), IsCloseTensor(e, 1e-2, 0));  // 0.5 <= 1e-2*100
  EXPECT_THAT(e + at::tensor({0.0, 0.5, 0.0}, at::kDouble), Not(IsCloseTensor(e, 1e-3, 0)));
  EXPECT_THAT(e + 1e-9, IsCloseTensor(e, 0, 1e-8));
  EXPECT_THAT(e.to(at::kFloat), IsCloseTensor(e, 1e-6, 0));  // dtypes may differ
}

TEST(TensorMatchers, IsCloseTensorExplainsShapeAndWorstElement) {
  const at::Tensor e = at::zeros({2, 3});
  EXPECT_THAT(explain(IsCloseTensor(e), at::zeros({3, 2})), HasSubstr("shape [3, 2] differs from expected [2, 3]"));
  at::Tensor a = e.clone();
  a[1][2] = 5.0;
  a[0][1] = 0.1;
  const std::string why = explain(IsCloseTensor(e, 0, 1e-3), a);
  EXPECT_THAT(why, HasSubstr("2 of 6 elements differ"));
  EXPECT_THAT(why, HasSubstr("flat index 5"));
  EXPECT_THAT(why, HasSubstr("actual 5"));
}

TEST(TensorMatchers, NaNsMatchOnlyNaNs) {
  const at::Tensor e = at::tensor({1.0, NAN}, at::kDouble);
  EXPECT_THAT(e.clone(), IsCloseTensor(e));
  EXPECT_THAT(at::tensor({1.0, 2.0}, at::kDouble), Not(IsCloseTensor(e)));
  EXPECT_THAT(at::tensor({NAN, NAN}, at::kDouble), Not(IsCloseTensor(e)));
}

TEST(TensorMatchers, IsOrthonormalChecksColumns) {
  const at::Tensor q = std::get<0>(at::linalg_qr(at::randn({6, 3}, at::kDouble)));
  EXPECT_THAT(q, IsOrthonormal(1e-10));
  EXPECT_THAT(at::eye(4), IsOrthonormal());
  EXPECT_THAT(q * 2.0, Not(IsOrthonormal(1e-6)));
  EXPECT_THAT(explain(IsOrthonormal(1e-6), q * 2.0), HasSubstr("differs from I by 3"));
  EXPECT_THAT(at::zeros({3}), Not(IsOrthonormal()));
}

}  // namespace
