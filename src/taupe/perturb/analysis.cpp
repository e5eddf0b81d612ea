// Statistics of the perturbation experiments (torch-free). See analysis.h.
#include "taupe/perturb/analysis.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "taupe/core/errors.h"
#include "taupe/core/rng.h"
#include "taupe/core/stats.h"

namespace taupe::perturb {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

void Strata::finalize() {
  if (model.size() != truth.size()) throw DataError("perturb strata: model/truth sizes differ");
  counts.assign(static_cast<std::size_t>(num_models) * 3, 0);
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (model[i] < 0 || model[i] >= num_models || truth[i] < 0 || truth[i] > 2)
      throw DataError("perturb strata: trajectory " + std::to_string(i) + " has model " + std::to_string(model[i]) +
                      ", class " + std::to_string(truth[i]));
    counts[static_cast<std::size_t>(model[i]) * 3 + truth[i]] += 1;
  }
}

std::int64_t Strata::count(int m, int c) const { return counts[static_cast<std::size_t>(m) * 3 + c]; }

int Strata::models_with(int c) const {
  int k = 0;
  for (int m = 0; m < num_models; ++m) k += count(m, c) > 0;
  return k;
}

Interval Interval::scaled(double k) const {
  Interval o = *this;
  o.estimate *= k;
  o.se *= std::fabs(k);
  o.lo = k >= 0 ? lo * k : hi * k;
  o.hi = k >= 0 ? hi * k : lo * k;
  o.eq_lo = k >= 0 ? eq_lo * k : eq_hi * k;
  o.eq_hi = k >= 0 ? eq_hi * k : eq_lo * k;
  return o;
}

namespace {
/// CI, equivalence interval, se, p and the zero-spread rule from sorted-able replicates `v`;
/// `tol` = rounding scale of the statistic.
void finish_interval(Interval& o, std::vector<double>& v, int reps, double level, double tol) {
  std::sort(v.begin(), v.end());
  o.lo = stats::quantile_sorted(v, (1 - level) / 2);
  o.hi = stats::quantile_sorted(v, 1 - (1 - level) / 2);
  o.eq_lo = stats::quantile_sorted(v, 1 - level);
  o.eq_hi = stats::quantile_sorted(v, level);
  o.se = v.size() >= 2 ? stats::sd(v) : 0.0;
  o.zero_spread = v.size() < 2 || v.back() - v.front() <= tol;
  if (o.zero_spread) {
    // Nothing varies across resamples: no information about the spread (see Interval).
    o.lo = o.hi = o.eq_lo = o.eq_hi = o.estimate;
    o.se = 0;
    o.p = std::fabs(o.estimate) <= tol ? 1.0 : std::min(1.0, 2.0 / (static_cast<double>(reps) + 1.0));
  } else {
    o.p = std::min(1.0, 2 * stats::normal_cdf(-std::fabs(o.estimate) / o.se));
  }
}
/// Interval of a statistic whose replicates resampled M models: the bootstrap se, scaled by
/// √(M / (M − 1)) (the bootstrap variance of a mean of M draws is (M − 1)/M of the unbiased one),
/// and Student-t quantiles with M − 1 degrees of freedom, as for a mean over M models. Percentile
/// intervals of 10 resampled models cover too little (docs/perturbation.md, calibration).
void small_sample_interval(Interval& o, int models, double level) {
  if (models < 2) {
    o.lo = o.hi = o.eq_lo = o.eq_hi = kNaN;
    o.p = 1.0;
    return;
  }
  const double df = models - 1;
  const double se = o.se * std::sqrt(static_cast<double>(models) / df);
  const double t1 = stats::t_quantile(1 - (1 - level) / 2, df), t2 = stats::t_quantile(level, df);
  o.se = se;
  o.lo = o.estimate - t1 * se;
  o.hi = o.estimate + t1 * se;
  o.eq_lo = o.estimate - t2 * se;
  o.eq_hi = o.estimate + t2 * se;
  o.p = student_t_p(o.estimate / se, df);
}
}  // namespace

namespace {
/// A resampling unit of bootstrap_ratio: a cluster within a model (kModelsThenClusters) or a
/// trajectory within a (model, class) stratum (kTrajectories), with per-class counts and sums of x.
struct RatioUnit {
  std::array<double, 3> count{};
  std::vector<double> sum;  // (3, K)
};

/// The units of bootstrap_ratio by group: per model (kModelsThenClusters) or per (model, class)
/// stratum (kTrajectories).
std::vector<std::vector<RatioUnit>> ratio_units(const Strata& strata, const std::vector<double>& x, std::size_t K) {
  const std::size_t n = strata.model.size();
  const int M = strata.num_models;
  std::vector<std::vector<RatioUnit>> units(static_cast<std::size_t>(M) *
                                            (strata.resampling == Resampling::kTrajectories ? 3 : 1));
  std::map<std::pair<std::size_t, std::int64_t>, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) {
    const int m = strata.model[i], c = strata.truth[i];
    if (m < 0 || m >= M || c < 0 || c > 2)
      throw DataError("bootstrap_ratio: trajectory " + std::to_string(i) + " out of range");
    std::size_t group;
    std::int64_t key;
    if (strata.resampling == Resampling::kTrajectories) {
      group = static_cast<std::size_t>(m) * 3 + static_cast<std::size_t>(c);
      key = static_cast<std::int64_t>(i);
    } else {
      group = static_cast<std::size_t>(m);
      key = strata.cluster.empty() ? static_cast<std::int64_t>(i) : strata.cluster[i];
    }
    auto [it, fresh] = index.try_emplace({group, key}, units[group].size());
    if (fresh) units[group].push_back(RatioUnit{{}, std::vector<double>(3 * K, 0.0)});
    RatioUnit& u = units[group][it->second];
    u.count[static_cast<std::size_t>(c)] += 1;
    for (std::size_t j = 0; j < K; ++j) u.sum[static_cast<std::size_t>(c) * K + j] += x[i * K + j];
  }
  return units;
}

/// The statistics of one bootstrap_ratio replicate: model instances are built from the units they
/// draw, and each statistic is Σ_c coef_c × (mean over instances of the instance's class mean).
class RatioAccumulator {
 public:
  RatioAccumulator(std::size_t K, const std::vector<std::array<double, 3>>& coef)
      : K_(K), coef_(coef), msum_(3 * K), csum_(3 * K) {}

  /// Starts a replicate.
  void reset() {
    std::fill(csum_.begin(), csum_.end(), 0.0);
    cinst_ = {};
  }
  /// Starts a model instance.
  void clear_model() {
    std::fill(msum_.begin(), msum_.end(), 0.0);
    mcount_ = {};
  }
  /// Adds a unit to the current model instance.
  void take(const RatioUnit& u) {
    for (std::size_t c = 0; c < 3; ++c) {
      if (u.count[c] <= 0) continue;
      mcount_[c] += u.count[c];
      for (std::size_t j = 0; j < K_; ++j) msum_[c * K_ + j] += u.sum[c * K_ + j];
    }
  }
  /// Closes the current model instance: its class means join the replicate.
  void add_instance() {
    for (std::size_t c = 0; c < 3; ++c) {
      if (mcount_[c] <= 0) continue;
      cinst_[c] += 1;
      for (std::size_t j = 0; j < K_; ++j) csum_[c * K_ + j] += msum_[c * K_ + j] / mcount_[c];
    }
  }
  /// The statistics of the replicate; false (NaN entries) when a class they need has no instance.
  bool stats(std::vector<double>& out) const {
    bool ok = true;
    for (std::size_t j = 0; j < K_; ++j) {
      double v = 0;
      for (std::size_t c = 0; c < 3; ++c) {
        if (coef_[j][c] == 0) continue;
        if (cinst_[c] <= 0) { ok = false; v = kNaN; break; }
        v += coef_[j][c] * csum_[c * K_ + j] / cinst_[c];
      }
      out[j] = v;
    }
    return ok;
  }

 private:
  std::size_t K_;
  const std::vector<std::array<double, 3>>& coef_;
  std::vector<double> msum_;       // one model instance's per-class sums
  std::array<double, 3> mcount_{};  // and counts
  std::vector<double> csum_;       // Σ over instances of the class means
  std::array<double, 3> cinst_{};   // and the number of instances per class
};

/// Adds every unit of a group once, drawn with replacement, to the current model instance.
void draw_units(const std::vector<RatioUnit>& g, Rng& rng, RatioAccumulator& acc) {
  const auto sz = static_cast<std::int64_t>(g.size());
  for (std::int64_t t = 0; t < sz; ++t) acc.take(g[static_cast<std::size_t>(rng.integer(0, sz - 1))]);
}

/// One bootstrap draw: trajectories resampled within each (model, class) stratum, or M models
/// drawn with replacement and their clusters resampled.
void draw_replicate(const std::vector<std::vector<RatioUnit>>& units, const Strata& strata, Rng& rng,
                    RatioAccumulator& acc) {
  const int M = strata.num_models;
  acc.reset();
  if (strata.resampling == Resampling::kTrajectories) {
    for (int m = 0; m < M; ++m) {
      acc.clear_model();
      for (std::size_t c = 0; c < 3; ++c) draw_units(units[static_cast<std::size_t>(m) * 3 + c], rng, acc);
      acc.add_instance();
    }
  } else {
    for (int d = 0; d < M; ++d) {
      const auto& g = units[static_cast<std::size_t>(rng.integer(0, M - 1))];
      acc.clear_model();
      draw_units(g, rng, acc);
      acc.add_instance();
    }
  }
}

/// The point estimate: every unit once, every model once.
std::vector<double> ratio_point(const std::vector<std::vector<RatioUnit>>& units, const Strata& strata,
                                RatioAccumulator& acc, std::size_t K) {
  std::vector<double> point(K);
  acc.reset();
  for (int m = 0; m < strata.num_models; ++m) {
    acc.clear_model();
    const std::size_t per = strata.resampling == Resampling::kTrajectories ? 3 : 1;
    for (std::size_t g = 0; g < per; ++g)
      for (const RatioUnit& u : units[static_cast<std::size_t>(m) * per + g]) acc.take(u);
    acc.add_instance();
  }
  acc.stats(point);
  return point;
}
}  // namespace

std::vector<Interval> bootstrap_ratio(const Strata& strata, const std::vector<double>& x, int k,
                                      const std::vector<std::array<double, 3>>& coef, int reps, std::uint64_t seed,
                                      double level) {
  const std::size_t n = strata.model.size();
  const int M = strata.num_models;
  if (x.size() != n * static_cast<std::size_t>(k) || coef.size() != static_cast<std::size_t>(k))
    throw DataError("bootstrap_ratio: x or coef has the wrong size");
  if (!strata.cluster.empty() && strata.cluster.size() != n) throw DataError("bootstrap_ratio: cluster has the wrong size");
  const std::size_t K = static_cast<std::size_t>(k);
  const auto units = ratio_units(strata, x, K);
  RatioAccumulator acc(K, coef);
  const std::vector<double> point = ratio_point(units, strata, acc, K);
  std::vector<Interval> out(K);
  for (std::size_t j = 0; j < K; ++j) out[j].estimate = point[j];
  Rng rng(seed);
  std::vector<std::vector<double>> rep_values(K);
  std::vector<double> cur(K);
  for (int r = 0; r < reps; ++r) {
    bool ok = false;
    for (int attempt = 0; attempt < 100 && !ok; ++attempt) {
      draw_replicate(units, strata, rng, acc);
      ok = acc.stats(cur);
    }
    if (!ok) continue;
    for (std::size_t j = 0; j < K; ++j) rep_values[j].push_back(cur[j]);
  }
  for (std::size_t j = 0; j < K; ++j) {
    double abs_sum = 0;
    for (std::size_t i = 0; i < n; ++i) abs_sum += std::fabs(x[i * K + j]);
    // Rounding scale: per-trajectory terms are O(1) and averaged, so 1e-9 of the mean |x|.
    const double tol = 1e-9 * (n > 0 ? abs_sum / static_cast<double>(n) : 0.0) + 1e-15;
    if (!std::isfinite(out[j].estimate)) {
      out[j] = Interval{kNaN, kNaN, kNaN, kNaN, 1.0};
      continue;
    }
    finish_interval(out[j], rep_values[j], reps, level, tol);
    if (strata.resampling == Resampling::kModelsThenClusters && !out[j].zero_spread)
      small_sample_interval(out[j], M, level);
  }
  return out;
}

std::vector<Interval> bootstrap_linear(const Strata& strata, const std::vector<double>& h, int k, int reps,
                                       std::uint64_t seed, double level) {
  const std::size_t n = strata.model.size();
  if (h.size() != n * static_cast<std::size_t>(k)) throw DataError("bootstrap_linear: h has the wrong size");
  std::vector<Interval> out(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) out[static_cast<std::size_t>(j)].estimate += h[i * k + j];
  // Members of each stratum.
  std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(strata.num_models) * 3);
  for (std::size_t i = 0; i < n; ++i) members[static_cast<std::size_t>(strata.model[i]) * 3 + strata.truth[i]].push_back(i);
  Rng rng(seed);
  std::vector<std::vector<double>> reps_k(static_cast<std::size_t>(k));
  for (auto& r : reps_k) r.reserve(static_cast<std::size_t>(reps));
  std::vector<double> w(n), acc(static_cast<std::size_t>(k));
  for (int r = 0; r < reps; ++r) {
    std::fill(w.begin(), w.end(), 0.0);
    for (const auto& mem : members) {
      if (mem.empty()) continue;
      const auto sz = static_cast<std::int64_t>(mem.size());
      for (std::int64_t t = 0; t < sz; ++t) w[mem[static_cast<std::size_t>(rng.integer(0, sz - 1))]] += 1.0;
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      if (w[i] == 0) continue;
      const double* hi = h.data() + i * k;
      for (int j = 0; j < k; ++j) acc[static_cast<std::size_t>(j)] += w[i] * hi[j];
    }
    for (int j = 0; j < k; ++j) reps_k[static_cast<std::size_t>(j)].push_back(acc[static_cast<std::size_t>(j)]);
  }
  for (int j = 0; j < k; ++j) {
    // Rounding scale: a replicate is a sum of ≤ n reweighted terms; differences below
    // 1e-9 Σ|h| are rounding residue, not resampling variation.
    double abs_sum = 0;
    for (std::size_t i = 0; i < n; ++i) abs_sum += std::fabs(h[i * k + j]);
    finish_interval(out[static_cast<std::size_t>(j)], reps_k[static_cast<std::size_t>(j)], reps, level, 1e-9 * abs_sum);
  }
  return out;
}

double student_t_p(double t, double df) { return stats::t_two_sided_p(t, df); }

ModelAgreement model_agreement(const std::vector<double>& per_model) {
  ModelAgreement a;
  std::vector<double> v;
  double abs_sum = 0;
  for (double x : per_model)
    if (std::isfinite(x)) v.push_back(x), abs_sum += std::fabs(x);
  a.models = static_cast<int>(v.size());
  if (v.empty()) {
    a.mean = a.sd = a.sign_agreement = kNaN;
    return a;
  }
  a.mean = stats::mean(v);
  a.sd = stats::sd(v);
  int agree = 0;
  for (double x : v) agree += x != 0 && (x > 0) == (a.mean > 0);
  a.sign_agreement = static_cast<double>(agree) / a.models;
  const double tol = 1e-9 * abs_sum;
  if (a.models < 2 || std::fabs(a.mean) <= tol) {
    a.p = 1.0;  // one model cannot show agreement; a zero mean is no effect
  } else if (a.sd <= tol) {
    a.p = kNaN;  // every model the same non-zero value: nothing to test against at this level
  } else {
    a.p = student_t_p(a.mean / (a.sd / std::sqrt(static_cast<double>(a.models))), a.models - 1);
  }
  return a;
}

ConfusionStats confusion_stats(int num_models, const std::vector<int>& model, const std::vector<int>& truth,
                               const std::vector<int>& pred) {
  ConfusionStats cs;
  cs.per_model.assign(static_cast<std::size_t>(num_models), Matrix3{});
  std::vector<std::array<double, 3>> rows(static_cast<std::size_t>(num_models), std::array<double, 3>{});
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (truth[i] < 0 || pred[i] < 0) continue;
    cs.per_model[static_cast<std::size_t>(model[i])][truth[i]][pred[i]] += 1;
    rows[static_cast<std::size_t>(model[i])][truth[i]] += 1;
  }
  for (int m = 0; m < num_models; ++m)
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < 3; ++j) {
        const double n = rows[static_cast<std::size_t>(m)][c];
        auto& v = cs.per_model[static_cast<std::size_t>(m)][c][j];
        v = n > 0 ? v / n : kNaN;
      }
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < 3; ++j) {
      std::vector<double> v;
      for (int m = 0; m < num_models; ++m) v.push_back(cs.per_model[static_cast<std::size_t>(m)][c][j]);
      const auto ms = mean_sd_ignore_nan(v);
      cs.mean[c][j] = std::isfinite(ms.first) ? ms.first : 0.0;
      cs.sd[c][j] = std::isfinite(ms.second) ? ms.second : 0.0;
    }
  return cs;
}

std::pair<double, double> mean_sd_ignore_nan(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  if (f.empty()) return {kNaN, kNaN};
  return {stats::mean(f), stats::sd(f)};
}

namespace {
/// A change of a fraction or a probability lies in [−1, 1]: the t interval of a few models can
/// reach beyond; the part outside holds no possible value.
Interval clamp_unit_change(Interval d) {
  for (double* v : {&d.lo, &d.hi, &d.eq_lo, &d.eq_hi})
    if (std::isfinite(*v)) *v = std::clamp(*v, -1.0, 1.0);
  return d;
}
}  // namespace

Interval delta_recall(const Strata& strata, const std::vector<int>& pred_a, const std::vector<int>& pred_b, int c,
                      int reps, std::uint64_t seed, double level) {
  const std::size_t n = strata.model.size();
  std::vector<double> x(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    if (strata.truth[i] == c) x[i] = (pred_b[i] == c ? 1.0 : 0.0) - (pred_a[i] == c ? 1.0 : 0.0);
  std::array<double, 3> coef{};
  coef[static_cast<std::size_t>(c)] = 1.0;
  return clamp_unit_change(bootstrap_ratio(strata, x, 1, {coef}, reps, seed, level)[0]);
}

Interval delta_probability(const Strata& strata, const std::vector<double>& p_a, const std::vector<double>& p_b,
                           int reps, std::uint64_t seed, double level) {
  const std::size_t n = strata.model.size();
  if (p_a.size() != n || p_b.size() != n) throw DataError("delta_probability: probabilities have the wrong size");
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = p_b[i] - p_a[i];
  return clamp_unit_change(bootstrap_ratio(strata, x, 1, {{0.5, 0.5, 0.0}}, reps, seed, level)[0]);
}

std::pair<int, int> realistic_range(const std::vector<double>& shifts, const std::vector<double>& synthetic_fraction,
                                    double threshold) {
  if (shifts.empty()) return {-1, -1};
  int z = 0;
  for (int i = 1; i < static_cast<int>(shifts.size()); ++i)
    if (std::fabs(shifts[static_cast<std::size_t>(i)]) < std::fabs(shifts[static_cast<std::size_t>(z)])) z = i;
  auto ok = [&](int i) { return is_realistic(synthetic_fraction[static_cast<std::size_t>(i)], threshold); };
  if (!ok(z)) return {-1, -1};
  int lo = z, hi = z;
  while (lo > 0 && ok(lo - 1)) --lo;
  while (hi + 1 < static_cast<int>(shifts.size()) && ok(hi + 1)) ++hi;
  return {lo, hi};
}

std::pair<int, int> intersect_ranges(std::pair<int, int> a, std::pair<int, int> b) {
  if (a.first < 0 || b.first < 0) return {-1, -1};
  const int lo = std::max(a.first, b.first), hi = std::min(a.second, b.second);
  if (lo > hi) return {-1, -1};
  return {lo, hi};
}

std::vector<double> ols_slope_weights(const std::vector<double>& x, std::pair<int, int> range) {
  std::vector<double> a(x.size(), 0.0);
  if (range.first < 0 || range.second - range.first < 1) return a;
  double mx = 0;
  const int n = range.second - range.first + 1;
  for (int i = range.first; i <= range.second; ++i) mx += x[static_cast<std::size_t>(i)];
  mx /= n;
  double sxx = 0;
  for (int i = range.first; i <= range.second; ++i) sxx += (x[static_cast<std::size_t>(i)] - mx) * (x[static_cast<std::size_t>(i)] - mx);
  if (sxx <= 0) return a;
  for (int i = range.first; i <= range.second; ++i) a[static_cast<std::size_t>(i)] = (x[static_cast<std::size_t>(i)] - mx) / sxx;
  return a;
}

double ols_slope(const std::vector<double>& a, const std::vector<double>& y, std::pair<int, int> range) {
  if (range.first < 0 || range.second <= range.first) return 0.0;
  const double y0 = y[static_cast<std::size_t>(range.first)];
  double s = 0;
  for (int i = range.first + 1; i <= range.second; ++i)
    s += a[static_cast<std::size_t>(i)] * (y[static_cast<std::size_t>(i)] - y0);
  return s;
}

std::vector<double> sweep_fractions(const Sweep& sw, const Strata& strata) {
  const int M = strata.num_models;
  std::vector<double> f(static_cast<std::size_t>(sw.num_p) * sw.num_s * M * 9, 0.0);
  for (int p = 0; p < sw.num_p; ++p)
    for (int s = 0; s < sw.num_s; ++s) {
      for (std::int64_t i = 0; i < sw.n; ++i) {
        const int m = strata.model[static_cast<std::size_t>(i)], c = strata.truth[static_cast<std::size_t>(i)];
        f[frac_index(p, s, m, c, sw.at(p, s, i), sw.num_s, M)] += 1;
      }
      for (int m = 0; m < M; ++m)
        for (int c = 0; c < 3; ++c) {
          const double n = static_cast<double>(strata.count(m, c));
          for (int j = 0; j < 3; ++j) {
            auto& v = f[frac_index(p, s, m, c, j, sw.num_s, M)];
            v = n > 0 ? v / n : kNaN;
          }
        }
    }
  return f;
}

namespace {
/// Mean over models of the class-c outcome-j fraction curves of PC p: entry c * 3 + j, per shift,
/// for the mitosis and apoptosis classes.
std::vector<std::vector<double>> class_mean_curves(const std::vector<double>& frac, int p, int S, int M) {
  std::vector<std::vector<double>> mean_curve(2 * 3, std::vector<double>(static_cast<std::size_t>(S)));
  for (int c = 0; c < 2; ++c)
    for (int s = 0; s < S; ++s)
      for (int j = 0; j < 3; ++j) {
        std::vector<double> v;
        for (int m = 0; m < M; ++m) v.push_back(frac[frac_index(p, s, m, c, j, S, M)]);
        mean_curve[static_cast<std::size_t>(c * 3 + j)][static_cast<std::size_t>(s)] = mean_sd_ignore_nan(v).first;
      }
  return mean_curve;
}

/// The realistic ranges of a PC (per class and their intersection) and the slopes of its mean
/// curves: per class within the class's range, class-balanced within the intersection. Returns the
/// OLS weights of the intersection when the class-balanced slope is defined.
std::optional<std::vector<double>> fit_mean_curves(SlopeResult& r, const std::vector<std::vector<double>>& mean_curve,
                     const std::vector<double>& shifts, double realistic_threshold, bool both_classes) {
  for (int c = 0; c < 2; ++c)
    r.range_by_class[static_cast<std::size_t>(c)] =
        realistic_range(shifts, mean_curve[static_cast<std::size_t>(c * 3 + 2)], realistic_threshold);
  r.range = intersect_ranges(r.range_by_class[0], r.range_by_class[1]);
  for (int c = 0; c < 2; ++c) {
    const auto rg = r.range_by_class[static_cast<std::size_t>(c)];
    const auto a = ols_slope_weights(shifts, rg);
    const bool valid = rg.first >= 0 && rg.second > rg.first;
    for (int j = 0; j < 2; ++j)
      r.slope[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] =
          valid ? ols_slope(a, mean_curve[static_cast<std::size_t>(c * 3 + j)], rg) : kNaN;
  }
  // Class-balanced curve y_j(s) = ½ Σ_c mean_m f[m][c][j], fitted within the intersection.
  const auto a = ols_slope_weights(shifts, r.range);
  const bool valid = r.range.first >= 0 && r.range.second > r.range.first && both_classes;
  const std::size_t S = shifts.size();
  std::vector<double> y(S);
  for (int j = 0; j < 2; ++j) {
    for (std::size_t s = 0; s < S; ++s)
      y[s] = 0.5 * (mean_curve[static_cast<std::size_t>(j)][s] + mean_curve[static_cast<std::size_t>(3 + j)][s]);
    r.slope[2][static_cast<std::size_t>(j)] = valid ? ols_slope(a, y, r.range) : kNaN;
  }
  if (!valid) return std::nullopt;
  return a;
}

/// Per-trajectory contributions of PC p to h (columns per p: apoptosis slope, mitosis slope):
/// slope_j = Σ_i (½ / (M_c n_{m,c})) Σ_s a_s [pred_i(s) == j] (ols_slope form: a trajectory whose
/// prediction does not change contributes exactly 0).
void trajectory_slopes(std::vector<double>& h, const Sweep& sw, const Strata& strata, int p,
                       const std::vector<double>& a, std::pair<int, int> range) {
  std::vector<double> ind_a(static_cast<std::size_t>(sw.num_s)), ind_m(static_cast<std::size_t>(sw.num_s));
  for (std::size_t i = 0; i < strata.model.size(); ++i) {
    const int c = strata.truth[i];
    if (c > 1) continue;
    for (int s = range.first; s <= range.second; ++s) {
      const int pr = sw.at(p, s, static_cast<std::int64_t>(i));
      ind_a[static_cast<std::size_t>(s)] = pr == 1 ? 1.0 : 0.0;
      ind_m[static_cast<std::size_t>(s)] = pr == 0 ? 1.0 : 0.0;
    }
    h[i * sw.num_p * 2 + static_cast<std::size_t>(p) * 2 + 0] = ols_slope(a, ind_a, range);
    h[i * sw.num_p * 2 + static_cast<std::size_t>(p) * 2 + 1] = ols_slope(a, ind_m, range);
  }
}

/// Each model's own class-balanced apoptosis slope of PC p: the model-level test and the sign
/// agreement with the mean-curve slope.
void model_level_slopes(SlopeResult& r, const std::vector<double>& frac, const Strata& strata, int p, int S,
                        const std::vector<double>& a) {
  const int M = strata.num_models;
  std::vector<double> per_model, y(static_cast<std::size_t>(S));
  for (int m = 0; m < M; ++m) {
    if (strata.count(m, 0) == 0 || strata.count(m, 1) == 0) continue;
    for (int s = 0; s < S; ++s)
      y[static_cast<std::size_t>(s)] = 0.5 * (frac[frac_index(p, s, m, 0, 1, S, M)] + frac[frac_index(p, s, m, 1, 1, S, M)]);
    per_model.push_back(ols_slope(a, y, r.range));
  }
  const ModelAgreement ag = model_agreement(per_model);
  r.models_tested = ag.models;
  r.p_models = ag.p;
  // Sign agreement relative to the mean-curve slope (equal to the mean of per_model when
  // every model has both classes).
  int agree = 0;
  for (double sl : per_model) agree += sl != 0 && (sl > 0) == (r.slope[2][1] > 0);
  r.sign_agreement = per_model.empty() ? kNaN : static_cast<double>(agree) / static_cast<double>(per_model.size());
}

/// The bootstrap intervals of the class-balanced slopes, the joint p per PC and its correction
/// over the PCs.
void test_slopes(std::vector<SlopeResult>& out, const std::vector<Interval>& ci, const Strata& strata, double level,
                 const std::string& correction) {
  // Resampling the models already carries the between-model variation; the separate model-level
  // test is kept (p_models) but decides only when the models are held fixed.
  const bool models_resampled = strata.resampling == Resampling::kModelsThenClusters;
  std::vector<double> pvals;
  for (std::size_t p = 0; p < out.size(); ++p) {
    SlopeResult& r = out[p];
    r.slope_apoptosis = ci[p * 2];
    r.slope_mitosis = ci[p * 2 + 1];
    if (!std::isfinite(r.slope[2][1])) {
      for (Interval* iv : {&r.slope_apoptosis, &r.slope_mitosis}) *iv = Interval{kNaN, kNaN, kNaN, kNaN, 1.0};
      r.p_models = 1.0;
      r.p_joint = 1.0;
    } else {
      // Intersection-union: both the trajectory bootstrap and the model level must reject.
      r.p_joint = models_resampled || std::isnan(r.p_models) ? r.slope_apoptosis.p
                                                             : std::max(r.slope_apoptosis.p, r.p_models);
    }
    pvals.push_back(r.p_joint);
  }
  const auto adj = correction == "bh" ? stats::benjamini_hochberg(pvals) : stats::holm(pvals);
  for (std::size_t p = 0; p < out.size(); ++p) {
    SlopeResult& r = out[p];
    r.p_adjusted = adj[p];
    r.significant = std::isfinite(r.slope[2][1]) && r.p_adjusted < 1 - level;
  }
}
}  // namespace

std::vector<SlopeResult> sweep_slopes(const Sweep& sw, const Strata& strata, const std::vector<double>& shifts,
                                      double realistic_threshold, int reps, std::uint64_t seed, double level,
                                      const std::string& correction) {
  if (static_cast<int>(shifts.size()) != sw.num_s) throw DataError("sweep_slopes: shift grid size mismatch");
  const int M = strata.num_models, S = sw.num_s;
  const auto frac = sweep_fractions(sw, strata);
  std::vector<SlopeResult> out(static_cast<std::size_t>(sw.num_p));
  const std::size_t n = static_cast<std::size_t>(sw.n);
  // h columns: per p, [apoptosis slope, mitosis slope]
  std::vector<double> h(n * static_cast<std::size_t>(sw.num_p) * 2, 0.0);
  const bool both_classes = strata.models_with(0) > 0 && strata.models_with(1) > 0;
  for (int p = 0; p < sw.num_p; ++p) {
    SlopeResult& r = out[static_cast<std::size_t>(p)];
    r.p = p;
    const auto a = fit_mean_curves(r, class_mean_curves(frac, p, S, M), shifts, realistic_threshold, both_classes);
    if (a) {
      trajectory_slopes(h, sw, strata, p, *a, r.range);
      model_level_slopes(r, frac, strata, p, S, *a);
    } else {
      r.sign_agreement = kNaN;
    }
  }
  // Class-balanced slopes: ½ (mean over models of the mitosis-class slope + the same for apoptosis).
  const std::vector<std::array<double, 3>> balanced(static_cast<std::size_t>(sw.num_p) * 2, {0.5, 0.5, 0.0});
  test_slopes(out, bootstrap_ratio(strata, h, sw.num_p * 2, balanced, reps, seed, level), strata, level, correction);
  return out;
}

namespace {
/// Permutation p of the informedness: the true classes are shuffled among each model's real
/// trajectories; `observed` = Σ h of the class-balanced hits (J + 1).
double permutation_p(const Strata& strata, const std::vector<int>& pred, double observed, int reps,
                     std::uint64_t seed) {
  const std::size_t n = strata.model.size();
  const int mc[2] = {strata.models_with(0), strata.models_with(1)};
  std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(strata.num_models));
  for (std::size_t i = 0; i < n; ++i)
    if (strata.truth[i] < 2) members[static_cast<std::size_t>(strata.model[i])].push_back(i);
  Rng rng(seed ^ 0x5ca1ab1eULL);
  const double tol = 1e-12 * std::max(1.0, observed);
  std::int64_t extreme = 0;
  std::vector<int> labels;
  for (int r = 0; r < reps; ++r) {
    double stat = 0;
    for (const auto& mem : members) {
      labels.clear();
      for (std::size_t i : mem) labels.push_back(strata.truth[i]);
      for (std::size_t k = labels.size(); k > 1; --k)  // Fisher–Yates
        std::swap(labels[k - 1], labels[static_cast<std::size_t>(rng.integer(0, static_cast<std::int64_t>(k) - 1))]);
      for (std::size_t k = 0; k < mem.size(); ++k)
        if (pred[mem[k]] == labels[k]) {
          const int c = labels[k];
          stat += 1.0 / (static_cast<double>(mc[c]) * static_cast<double>(strata.count(strata.model[mem[k]], c)));
        }
    }
    extreme += stat >= observed - tol;
  }
  return (1.0 + static_cast<double>(extreme)) / (1.0 + static_cast<double>(reps));
}
}  // namespace

Skill predictive_skill(const Strata& strata, const std::vector<int>& pred, int reps, std::uint64_t seed,
                       double level, double min_informedness) {
  const std::size_t n = strata.model.size();
  if (pred.size() != n) throw DataError("predictive_skill: predictions and strata differ in size");
  const int M = strata.num_models;
  Skill sk;
  sk.min_informedness = min_informedness;
  sk.alpha = 1 - level;
  sk.permutations = reps;
  const int mc[2] = {strata.models_with(0), strata.models_with(1)};
  for (std::size_t i = 0; i < n; ++i) sk.trajectories += strata.truth[i] < 2;
  // J = mean_m recall_{m,mitosis} + mean_m recall_{m,apoptosis} − 1 over per-trajectory hits.
  std::vector<double> h(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    if (strata.truth[i] < 2 && pred[i] == strata.truth[i]) h[i] = 1.0;
  if (mc[0] == 0 || mc[1] == 0) {
    sk.informedness = Interval{kNaN, kNaN, kNaN, kNaN, 1.0};
    sk.balanced_accuracy = kNaN;
    sk.per_model.assign(static_cast<std::size_t>(M), kNaN);
    for (int m = 0; m < M; ++m) {
      sk.counts.push_back({strata.count(m, 0), strata.count(m, 1)});
      sk.recall.push_back({kNaN, kNaN});
    }
    return sk;
  }
  sk.informedness = bootstrap_ratio(strata, h, 1, {{1.0, 1.0, 0.0}}, reps, seed, level)[0];
  for (double* v : {&sk.informedness.estimate, &sk.informedness.lo, &sk.informedness.hi, &sk.informedness.eq_lo,
                    &sk.informedness.eq_hi})
    *v -= 1;
  for (double* v : {&sk.informedness.lo, &sk.informedness.hi, &sk.informedness.eq_lo, &sk.informedness.eq_hi})
    if (std::isfinite(*v)) *v = std::clamp(*v, -1.0, 1.0);  // J lies in [−1, 1]
  sk.balanced_accuracy = (sk.informedness.estimate + 1) / 2;
  // Per-model recalls and J.
  std::vector<std::array<double, 2>> hits(static_cast<std::size_t>(M), {0.0, 0.0});
  for (std::size_t i = 0; i < n; ++i)
    if (strata.truth[i] < 2 && pred[i] == strata.truth[i]) hits[static_cast<std::size_t>(strata.model[i])][static_cast<std::size_t>(strata.truth[i])] += 1;
  for (int m = 0; m < M; ++m) {
    const std::array<std::int64_t, 2> nc{strata.count(m, 0), strata.count(m, 1)};
    std::array<double, 2> rc{};
    for (int c = 0; c < 2; ++c)
      rc[static_cast<std::size_t>(c)] = nc[static_cast<std::size_t>(c)] > 0
                                            ? hits[static_cast<std::size_t>(m)][static_cast<std::size_t>(c)] /
                                                  static_cast<double>(nc[static_cast<std::size_t>(c)])
                                            : kNaN;
    sk.counts.push_back(nc);
    sk.recall.push_back(rc);
    sk.per_model.push_back(nc[0] > 0 && nc[1] > 0 ? rc[0] + rc[1] - 1 : kNaN);
  }
  sk.informedness.p = permutation_p(strata, pred, sk.informedness.estimate + 1, reps, seed);
  sk.passes = sk.informedness.p < sk.alpha && sk.informedness.estimate >= min_informedness;
  return sk;
}

std::string Skill::numbers() const {
  std::ostringstream s;
  s << "informedness " << format_interval(informedness, 2) << ", balanced accuracy " << std::fixed
    << std::setprecision(2) << balanced_accuracy << ", permutation p " << std::setprecision(2) << std::scientific
    << informedness.p;
  return s.str();
}

std::string Skill::brief() const {
  std::ostringstream s;
  s << numbers() << " → " << (passes ? "the models predict fate" : "the models do not predict fate better than chance");
  if (!passes && std::isfinite(informedness.estimate) && informedness.p < alpha)
    s << " (J below the practical threshold " << std::fixed << std::setprecision(2) << min_informedness << ")";
  return s.str();
}

void apply_skill_gate(std::vector<SlopeResult>& slopes, const Skill& skill, double level) {
  for (auto& r : slopes) {
    r.p_adjusted = std::max(r.p_adjusted, skill.informedness.p);
    r.gated = !skill.passes;
    r.significant = r.significant && skill.passes && r.p_adjusted < 1 - level;
  }
}

std::string format_interval(const Interval& v, int digits) {
  std::ostringstream s;
  s << std::showpos << std::fixed << std::setprecision(digits) << v.estimate << std::noshowpos << " ["
    << std::showpos << v.lo << ", " << v.hi << "]";
  return s.str();
}

int top_slope_pc(const std::vector<SlopeResult>& slopes, int min_points) {
  int top = -1;
  double best = -1;
  for (const auto& s : slopes) {
    const int points = s.range.first < 0 ? 0 : s.range.second - s.range.first + 1;
    if (points < min_points || !std::isfinite(s.slope[2][1])) continue;
    if (std::fabs(s.slope[2][1]) > best) best = std::fabs(s.slope[2][1]), top = s.p;
  }
  return top;
}

}  // namespace taupe::perturb
