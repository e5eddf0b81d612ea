#pragma once
// GoogleMock matchers for LibTorch tensors (header-only; include only in torch tests):
//   EXPECT_THAT(actual, IsCloseTensor(expected, /*rtol=*/1e-5, /*atol=*/1e-8));
//   EXPECT_THAT(components, IsOrthonormal(1e-5));   // columns of a (n, k) matrix
// Mismatches explain themselves: shape/dtype difference, or the worst element and its index.
#include <gmock/gmock.h>
#include <torch/types.h>

#include <sstream>
#include <string>

namespace taupe::test {

namespace detail {
inline std::string shape_text(const at::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
}  // namespace detail

/// |actual - expected| <= atol + rtol * |expected| elementwise (as torch::allclose), same shape;
/// NaNs compare equal to NaNs at the same positions. Compared in float64.
class IsCloseTensorMatcher {
 public:
  using is_gtest_matcher = void;
  IsCloseTensorMatcher(at::Tensor expected, double rtol, double atol)
      : expected_(std::move(expected)), rtol_(rtol), atol_(atol) {}

  bool MatchAndExplain(const at::Tensor& actual, std::ostream* os) const {
    if (!actual.defined() || !expected_.defined()) {
      if (os) *os << "a tensor is undefined";
      return actual.defined() == expected_.defined();
    }
    if (actual.sizes() != expected_.sizes()) {
      if (os) *os << "shape " << detail::shape_text(actual) << " differs from expected " << detail::shape_text(expected_);
      return false;
    }
    if (actual.numel() == 0) return true;
    const at::Tensor a = actual.detach().to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor e = expected_.detach().to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor both_nan = a.isnan().logical_and(e.isnan());
    const at::Tensor diff = (a - e).abs();
    const at::Tensor tol = e.abs().mul(rtol_).add(atol_);
    const at::Tensor bad = diff.gt(tol).logical_or(diff.isnan()).logical_and(both_nan.logical_not());
    const int64_t n_bad = bad.sum().item<int64_t>();
    if (n_bad == 0) return true;
    if (os) {
      const at::Tensor excess = (diff - tol).masked_fill(bad.logical_not(), -1.0).nan_to_num(1e300);
      const int64_t flat = excess.flatten().argmax().item<int64_t>();
      *os << n_bad << " of " << a.numel() << " elements differ; worst at flat index " << flat << ": actual "
          << a.flatten()[flat].item<double>() << " vs expected " << e.flatten()[flat].item<double>()
          << " (rtol " << rtol_ << ", atol " << atol_ << ")";
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "is close to the expected tensor of shape " << detail::shape_text(expected_) << " (rtol " << rtol_
        << ", atol " << atol_ << ")";
  }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not close to the expected tensor"; }

 private:
  at::Tensor expected_;
  double rtol_, atol_;
};

inline ::testing::Matcher<const at::Tensor&> IsCloseTensor(at::Tensor expected, double rtol = 1e-5,
                                                            double atol = 1e-8) {
  return ::testing::Matcher<const at::Tensor&>(IsCloseTensorMatcher(std::move(expected), rtol, atol));
}

/// Columns of a 2-D (n, k) tensor are orthonormal: |Q^T Q - I| <= tol elementwise.
class IsOrthonormalMatcher {
 public:
  using is_gtest_matcher = void;
  explicit IsOrthonormalMatcher(double tol) : tol_(tol) {}

  bool MatchAndExplain(const at::Tensor& q, std::ostream* os) const {
    if (!q.defined() || q.dim() != 2) {
      if (os) *os << "expected a defined 2-D tensor";
      return false;
    }
    const at::Tensor d = q.detach().to(at::kCPU, at::kDouble);
    const at::Tensor gram = d.t().matmul(d);
    const at::Tensor err = (gram - at::eye(d.size(1), d.options())).abs();
    const double worst = err.numel() ? err.max().item<double>() : 0.0;
    if (worst <= tol_) return true;
    if (os) {
      const int64_t flat = err.flatten().argmax().item<int64_t>();
      *os << "Q^T Q differs from I by " << worst << " at (" << flat / d.size(1) << ", " << flat % d.size(1) << ")";
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "has orthonormal columns (tol " << tol_ << ")"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "does not have orthonormal columns"; }

 private:
  double tol_;
};

inline ::testing::Matcher<const at::Tensor&> IsOrthonormal(double tol = 1e-6) {
  return ::testing::Matcher<const at::Tensor&>(IsOrthonormalMatcher(tol));
}

}  // namespace taupe::test
