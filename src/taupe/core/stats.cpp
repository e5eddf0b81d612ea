#include "taupe/core/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>

#include "taupe/core/errors.h"
#include "taupe/core/rng.h"

namespace taupe::stats {

double mean(const std::vector<double>& x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double sd(const std::vector<double>& x) {
  if (x.size() < 2) return 0;
  const double m = mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

double t_quantile(double p, double df) {
  if (!(df > 0) || df > 1e7 || p <= 0 || p >= 1) return normal_quantile(p);
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  // P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2)
  return std::clamp(incomplete_beta(df / 2, 0.5, df / (df + t * t)), 0.0, 1.0);
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return boost::math::ibeta(a, b, x);
}

double quantile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  const double f = pos - static_cast<double>(i);
  return i + 1 < sorted.size() ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

double quantile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return quantile_sorted(v, p);
}

std::vector<double> quantiles(std::vector<double> v, const std::vector<double>& ps) {
  std::vector<double> out;
  if (v.empty()) {
    out.assign(ps.size(), std::numeric_limits<double>::quiet_NaN());
    return out;
  }
  // quantile_sorted reads the order statistics floor(pos) and floor(pos) + 1 only: put each of
  // them in its sorted place (ascending, each selection within the part above the previous).
  const std::size_t n = v.size();
  std::vector<std::size_t> need;
  for (double p : ps) {
    const auto i = static_cast<std::size_t>(std::floor(std::clamp(p, 0.0, 1.0) * static_cast<double>(n - 1)));
    need.push_back(i);
    if (i + 1 < n) need.push_back(i + 1);
  }
  std::sort(need.begin(), need.end());
  need.erase(std::unique(need.begin(), need.end()), need.end());
  auto from = v.begin();
  for (std::size_t r : need) {
    const auto at = v.begin() + static_cast<std::ptrdiff_t>(r);
    std::nth_element(from, at, v.end());
    from = at + 1;
  }
  for (double p : ps) out.push_back(quantile_sorted(v, p));
  return out;
}

std::vector<double> ranks(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> r(n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw DataError("stats::pearson: x and y differ in length");
  const double mx = mean(x), my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) { return pearson(ranks(x), ranks(y)); }

double auc(const std::vector<double>& score, const std::vector<bool>& positive) {
  if (score.size() != positive.size()) throw DataError("stats::auc: score and label differ in length");
  const std::vector<double> r = ranks(score);
  double sum_pos = 0;
  std::size_t np = 0;
  for (std::size_t i = 0; i < r.size(); ++i)
    if (positive[i]) { sum_pos += r[i]; ++np; }
  const std::size_t nn = r.size() - np;
  if (np == 0 || nn == 0) return std::numeric_limits<double>::quiet_NaN();
  const double u = sum_pos - static_cast<double>(np) * static_cast<double>(np + 1) / 2.0;
  return u / (static_cast<double>(np) * static_cast<double>(nn));
}

std::vector<double> solve(std::vector<double> a, std::vector<double> b, int n) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[piv * n + c])) piv = r;
    if (std::abs(a[piv * n + c]) < 1e-300) throw DataError("stats::solve: singular matrix");
    if (piv != c) {
      for (int k = 0; k < n; ++k) std::swap(a[c * n + k], a[piv * n + k]);
      std::swap(b[c], b[piv]);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      if (f == 0) continue;
      for (int k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= a[r * n + k] * x[k];
    x[r] = s / a[r * n + r];
  }
  return x;
}

std::vector<double> invert(std::vector<double> a, int n) {
  std::vector<double> inv(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) inv[i * n + i] = 1;
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[piv * n + c])) piv = r;
    if (std::abs(a[piv * n + c]) < 1e-300) throw DataError("stats::invert: singular matrix");
    if (piv != c)
      for (int k = 0; k < n; ++k) { std::swap(a[c * n + k], a[piv * n + k]); std::swap(inv[c * n + k], inv[piv * n + k]); }
    const double d = a[c * n + c];
    for (int k = 0; k < n; ++k) { a[c * n + k] /= d; inv[c * n + k] /= d; }
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      if (f == 0) continue;
      for (int k = 0; k < n; ++k) { a[r * n + k] -= f * a[c * n + k]; inv[r * n + k] -= f * inv[c * n + k]; }
    }
  }
  return inv;
}

std::string LogisticFit::brief() const {
  std::ostringstream s;
  for (std::size_t j = 0; j < coef.size(); ++j)
    s << (j ? "  " : "") << "b" << j << "=" << coef[j] << " [" << ci_lo[j] << ", " << ci_hi[j] << "]";
  return s.str();
}

LogisticFit logistic_regression(const std::vector<std::vector<double>>& columns, const std::vector<bool>& y,
                                double level, int max_iter) {
  const std::size_t n = y.size();
  const int k = static_cast<int>(columns.size()) + 1;
  for (const auto& c : columns)
    if (c.size() != n) throw DataError("stats::logistic_regression: a covariate column differs in length from y");
  auto xv = [&](std::size_t i, int j) { return j == 0 ? 1.0 : columns[static_cast<std::size_t>(j - 1)][i]; };
  LogisticFit fit;
  std::vector<double> beta(static_cast<std::size_t>(k), 0.0), h(static_cast<std::size_t>(k) * k);
  for (int it = 0; it < max_iter; ++it) {
    std::vector<double> g(static_cast<std::size_t>(k), 0.0);
    std::fill(h.begin(), h.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0;
      for (int j = 0; j < k; ++j) eta += beta[j] * xv(i, j);
      const double p = 1.0 / (1.0 + std::exp(-eta));
      const double w = std::max(p * (1 - p), 1e-12);
      const double r = (y[i] ? 1.0 : 0.0) - p;
      for (int a = 0; a < k; ++a) {
        g[a] += r * xv(i, a);
        for (int b = 0; b <= a; ++b) h[a * k + b] += w * xv(i, a) * xv(i, b);
      }
    }
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b) h[a * k + b] = h[b * k + a];
    const std::vector<double> step = solve(h, g, k);
    double mx = 0;
    for (int j = 0; j < k; ++j) { beta[j] += step[j]; mx = std::max(mx, std::abs(step[j])); }
    fit.iterations = it + 1;
    if (mx < 1e-10) { fit.converged = true; break; }
    if (mx > 1e6 || !std::isfinite(mx)) { fit.separated = true; break; }
  }
  for (double b : beta) if (std::abs(b) > 30) fit.separated = true;
  const std::vector<double> cov = invert(h, k);
  const double zq = normal_quantile(0.5 + level / 2);
  fit.coef = beta;
  for (int j = 0; j < k; ++j) {
    const double se = std::sqrt(std::max(cov[j * k + j], 0.0));
    fit.se.push_back(se);
    fit.ci_lo.push_back(beta[j] - zq * se);
    fit.ci_hi.push_back(beta[j] + zq * se);
    const double z = se > 0 ? beta[j] / se : 0;
    fit.z.push_back(z);
    fit.p.push_back(2 * normal_cdf(-std::abs(z)));
  }
  return fit;
}

OlsFit ols(const std::vector<double>& x, const std::vector<double>& y, double level) {
  if (x.size() != y.size()) throw DataError("stats::ols: x and y differ in length");
  OlsFit f;
  f.n = x.size();
  if (f.n < 3) throw DataError("stats::ols: need at least 3 points");
  const double mx = mean(x), my = mean(y);
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < f.n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0) throw DataError("stats::ols: x is constant");
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double sse = 0;
  for (std::size_t i = 0; i < f.n; ++i) {
    const double r = y[i] - f.intercept - f.slope * x[i];
    sse += r * r;
  }
  const double df = static_cast<double>(f.n) - 2;
  f.slope_se = std::sqrt(sse / df / sxx);
  f.r2 = syy > 0 ? 1 - sse / syy : 1.0;
  const double q = t_quantile(0.5 + level / 2, df);
  f.ci_lo = f.slope - q * f.slope_se;
  f.ci_hi = f.slope + q * f.slope_se;
  return f;
}

BootstrapCi bootstrap_ci(std::size_t n, const std::function<double(const std::vector<std::size_t>&)>& stat,
                         int reps, std::uint64_t seed, double level) {
  BootstrapCi ci;
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  ci.estimate = stat(idx);
  if (n == 0 || reps < 2) { ci.lo = ci.hi = ci.estimate; return ci; }
  Rng rng(seed);
  std::vector<double> vals;
  vals.reserve(static_cast<std::size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    for (auto& i : idx) i = static_cast<std::size_t>(rng.integer(0, static_cast<std::int64_t>(n) - 1));
    const double v = stat(idx);
    if (std::isfinite(v)) vals.push_back(v);
  }
  if (vals.empty()) { ci.lo = ci.hi = ci.estimate; return ci; }
  std::sort(vals.begin(), vals.end());
  ci.lo = quantile_sorted(vals, (1 - level) / 2);
  ci.hi = quantile_sorted(vals, 1 - (1 - level) / 2);
  return ci;
}

Interval wilson_interval(std::int64_t k, std::int64_t n, double level) {
  if (n <= 0) return {};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(std::clamp<std::int64_t>(k, 0, n)) / nn;
  const double z = normal_quantile(0.5 + level / 2);
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  // k = 0 and k = n reach the ends exactly: lo = 0, hi = 1.
  return {k <= 0 ? 0.0 : std::max(0.0, centre - half), k >= n ? 1.0 : std::min(1.0, centre + half)};
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> idx(m);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> q(m);
  double run = 1.0;
  for (std::size_t r = m; r-- > 0;) {
    const double v = std::min(1.0, p[idx[r]] * static_cast<double>(m) / static_cast<double>(r + 1));
    run = std::min(run, v);
    q[idx[r]] = run;
  }
  return q;
}

std::vector<double> holm(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> idx(m);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> q(m);
  double run = 0.0;
  for (std::size_t r = 0; r < m; ++r) {
    const double v = std::min(1.0, p[idx[r]] * static_cast<double>(m - r));
    run = std::max(run, v);
    q[idx[r]] = run;
  }
  return q;
}

}  // namespace taupe::stats
