#pragma once
// Small, dependency-free statistics used by the simulator's acceptance tests and by the
// perturbation engine: rank statistics, regressions with Wald/standard-error CIs, bootstrap
// and multiple-testing corrections. All deterministic (bootstrap takes a seed).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace taupe::stats {

double mean(const std::vector<double>& x);
/// Sample standard deviation (n - 1); 0 for n < 2.
double sd(const std::vector<double>& x);
/// Standard normal CDF and quantile (Acklam's rational approximation refined by one Newton step).
double normal_cdf(double z);
double normal_quantile(double p);

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

/// Student-t quantile (two-sided use: t_quantile(0.975, df)); Cornish-Fisher expansion.
double t_quantile(double p, double df);

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
