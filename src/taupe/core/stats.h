#pragma once
// Statistics used by the simulator's acceptance tests, the models and the perturbation engine:
// distributions (Boost.Math), quantiles and argmax, rank statistics, regressions with
// Wald/standard-error CIs, bootstrap and multiple-testing corrections. Each helper exists once,
// here. All deterministic (bootstrap takes a seed).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace taupe::stats {

double mean(const std::vector<double>& x);
/// Sample standard deviation (n - 1); 0 for n < 2.
double sd(const std::vector<double>& x);
/// Standard normal CDF and quantile (Boost.Math); normal_quantile(0) = -inf, (1) = +inf.
double normal_cdf(double z);
double normal_quantile(double p);
/// Student-t quantile (Boost.Math), e.g. t_quantile(0.975, df) for a two-sided 95 % interval;
/// the normal quantile when df is not > 0 or above 1e7.
double t_quantile(double p, double df);
/// Two-sided p-value P(|T| >= |t|) of T ~ Student-t(df); NaN for NaN t or df <= 0, 0 for |t| = inf.
double t_two_sided_p(double t, double df);
/// Regularised incomplete beta function I_x(a, b) (Boost.Math ibeta); 0 for x <= 0, 1 for x >= 1.
double incomplete_beta(double a, double b, double x);

/// Quantile of sorted values by linear interpolation between order statistics (numpy's
/// default, Hyndman-Fan type 7); p is clamped to [0, 1]; NaN when empty.
double quantile_sorted(const std::vector<double>& sorted, double p);
/// The same of unsorted values.
double quantile(std::vector<double> v, double p);
/// quantile(v, p) for every p of `ps`, with the same values, by selecting the order statistics
/// they read (std::nth_element) instead of sorting: O(n) per quantile.
std::vector<double> quantiles(std::vector<double> v, const std::vector<double>& ps);

/// Index of the largest of v[0..n) (the first one on ties); -1 when n <= 0.
template <class T>
int argmax(const T* v, int n) {
  int best = n > 0 ? 0 : -1;
  for (int i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

/// Mid-ranks (1-based; ties get their average rank).
std::vector<double> ranks(const std::vector<double>& x);
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);

/// Area under the ROC curve of `score` for positives (label true) vs negatives: the
/// Mann-Whitney probability P(score_pos > score_neg) + 0.5 P(tie). NaN if a class is empty.
double auc(const std::vector<double>& score, const std::vector<bool>& positive);

/// Logistic regression y ~ 1 + X by Newton-Raphson (IRLS). X is row-major (n, k) given as
/// columns: `columns[j][i]`. Coefficient 0 is the intercept; Wald 95 % CIs (level adjustable).
struct LogisticFit {
  std::vector<double> coef, se, ci_lo, ci_hi, z, p;
  int iterations = 0;
  bool converged = false;
  bool separated = false;  ///< coefficients diverged (perfect separation)
  std::string brief() const;
};
LogisticFit logistic_regression(const std::vector<std::vector<double>>& columns, const std::vector<bool>& y,
                                double level = 0.95, int max_iter = 50);

/// Ordinary least squares y = a + b x with the slope's standard error and Student-t
/// confidence interval (df = n - 2).
struct OlsFit {
  double intercept = 0, slope = 0, slope_se = 0, ci_lo = 0, ci_hi = 0, r2 = 0;
  std::size_t n = 0;
};
OlsFit ols(const std::vector<double>& x, const std::vector<double>& y, double level = 0.95);

/// Percentile bootstrap CI of a statistic of `n` resampled indices: `stat(indices)`.
struct BootstrapCi {
  double estimate = 0, lo = 0, hi = 0;
};
BootstrapCi bootstrap_ci(std::size_t n, const std::function<double(const std::vector<std::size_t>&)>& stat,
                         int reps, std::uint64_t seed, double level = 0.95);

/// Wilson score interval of a binomial proportion k / n at `level` (two-sided):
/// (p + z²/2n ± z sqrt(p(1 − p)/n + z²/4n²)) / (1 + z²/n), z the normal quantile; [0, 1] for n = 0.
struct Interval {
  double lo = 0, hi = 1;
};
Interval wilson_interval(std::int64_t k, std::int64_t n, double level = 0.95);

/// Multiple-testing adjusted p-values (same order as input).
std::vector<double> benjamini_hochberg(const std::vector<double>& p);
std::vector<double> holm(const std::vector<double>& p);

/// Solves A x = b (n x n row-major, partial pivoting); throws DataError if singular.
std::vector<double> solve(std::vector<double> a, std::vector<double> b, int n);
/// Inverse of a symmetric positive-definite n x n matrix (row-major) via Gauss-Jordan.
std::vector<double> invert(std::vector<double> a, int n);

}  // namespace taupe::stats
