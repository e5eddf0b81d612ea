#pragma once
// Deterministic random numbers. Same seed -> same result, on every platform we build on:
// taupe never uses std::*_distribution for anything that reaches an output file (their
// algorithms are implementation-defined); it uses the helpers below on top of
// std::mt19937_64, whose sequence is fixed by the standard.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace taupe {

/// SplitMix64 step: derives independent stream seeds (e.g. per field of view, per fold).
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
/// Seed for sub-stream `stream` of master seed `seed`.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  return splitmix64(splitmix64(seed) ^ splitmix64(stream + 0x632BE59BD9B4E019ull));
}

/// Seed for the sub-stream named `name` of master seed `seed` (FNV-1a of the name as the
/// stream), e.g. a stage's seed derived from the run's: derive_seed(run_seed, "encoder").
inline std::uint64_t derive_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return derive_seed(seed, h);
}

/// Portable RNG: uniform, normal (Box-Muller), integers, Bernoulli, Poisson (small mean).
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : eng_(seed) {}
  std::mt19937_64& engine() { return eng_; }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(eng_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi] (inclusive).
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    if (span == 0) return lo + static_cast<std::int64_t>(eng_());
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t r;
    do r = eng_(); while (r >= limit);
    return lo + static_cast<std::int64_t>(r % span);
  }
  bool bernoulli(double p) { return uniform() < p; }
  /// Standard normal via Box-Muller (caches the second value).
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  /// Poisson by inversion (fine for the small means used for photon counts < ~30; large
  /// means use a normal approximation with continuity rounding).
  std::int64_t poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) { const double v = std::round(normal(mean, std::sqrt(mean))); return v < 0 ? 0 : static_cast<std::int64_t>(v); }
    const double l = std::exp(-mean);
    std::int64_t k = 0;
    double p = uniform();
    while (p > l) { ++k; p *= uniform(); }
    return k;
  }

 private:
  std::mt19937_64 eng_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace taupe
