// Trim / pad / jitter / crop rules, synthetic random walks, training batches.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "taupe/temporal/sequence.h"
#include "temporal/temporal_fixture.h"

namespace taupe {
namespace {

// (T, D) with mean[t][d] = 10 t + d, log-var 0.5.
struct Hand {
  int T, D;
  std::vector<float> mean, log_var;
  Hand(int T_, int D_) : T(T_), D(D_), mean(T_ * D_), log_var(T_ * D_, 0.5f) {
    for (int t = 0; t < T; ++t)
      for (int d = 0; d < D; ++d) mean[t * D + d] = static_cast<float>(10 * t + d);
  }
};

TEST(Trim, KeepsFramesUpToCutoffInclusiveAndTheLastMaxLen) {
  Hand h(10, 2);
  auto s = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, /*cutoff=*/6, /*max_len=*/5);
  ASSERT_EQ(s.mean.size(), 10u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(s.mean[i * 2], 10.0f * (2 + i)) << i;  // frames 2..6
    EXPECT_EQ(s.mean[i * 2 + 1], 10.0f * (2 + i) + 1);
    EXPECT_EQ(s.log_var[i * 2], 0.5f);
    EXPECT_EQ(s.real[i], 1);
  }
}

TEST(Trim, PrePadsWithMeanZeroLogVarOne) {
  Hand h(10, 2);
  auto s = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 6, 12);
  // 7 real frames (0..6) at positions 5..11, padding at 0..4.
  for (int i = 0; i < 12; ++i) {
    if (i < 5) {
      EXPECT_EQ(s.real[i], 0);
      EXPECT_EQ(s.mean[i * 2], 0.0f);
      EXPECT_EQ(s.log_var[i * 2 + 1], 1.0f);
    } else {
      EXPECT_EQ(s.real[i], 1);
      EXPECT_EQ(s.mean[i * 2], 10.0f * (i - 5));
    }
  }
  // The most recent kept frame is the last index; a cutoff past the end is clamped.
  auto c = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 99, 4);
  EXPECT_EQ(c.mean[3 * 2], 90.0f);
  auto z = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 0, 3);
  EXPECT_EQ(z.real[2], 1);
  EXPECT_EQ(z.real[1], 0);
  EXPECT_EQ(z.mean[2 * 2], 0.0f);
}

TEST(Jitter, DropsZeroToFourFramesNeverBelowZero) {
  Rng rng(1);
  std::set<int> seen;
  for (int i = 0; i < 2000; ++i) {
    const int c = jitter_cutoff(50, 4, rng);
    EXPECT_GE(c, 46);
    EXPECT_LE(c, 50);
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 5u);
  for (int i = 0; i < 100; ++i) EXPECT_GE(jitter_cutoff(2, 4, rng), 0);
}

TEST(Crop, FramesBeforeRBecomePadding) {
  Hand h(40, 3);
  auto s = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 39, 32);
  crop_sequence(s, 5);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(s.real[i], i >= 5 ? 1 : 0);
    if (i < 5) {
      EXPECT_EQ(s.mean[i * 3 + 2], 0.0f);
      EXPECT_EQ(s.log_var[i * 3], 1.0f);
    }
  }
  Rng rng(2);
  int cropped = 0;
  for (int i = 0; i < 4000; ++i) {
    Sequence t = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 39, 32);
    const int r = random_crop(t, 0.5, 117, rng);
    if (r > 0) {
      ++cropped;
      EXPECT_GE(r, 1);
      EXPECT_LE(r, 117);
    }
  }
  EXPECT_NEAR(cropped / 4000.0, 0.5, 0.04);
  Sequence u = trim_sequence(h.mean.data(), h.log_var.data(), h.T, h.D, 39, 32);
  EXPECT_EQ(random_crop(u, 0.0, 117, rng), 0);
}

TEST(Synthetic, RandomWalkStdGrowsAsNoiseSqrtN) {
  Rng rng(3);
  const float m0 = 1.5f, lv0 = 0.7f;
  const int L = 129, reps = 4000;
  std::vector<double> s16(reps), s128(reps);
  for (int r = 0; r < reps; ++r) {
    auto w = random_walk(&m0, &lv0, 1, L, 0.2, rng);
    ASSERT_EQ(w.mean[0], m0);
    ASSERT_EQ(w.log_var[0], lv0);
    ASSERT_EQ(w.log_var[5], 1.0f);
    s16[r] = w.mean[16] - m0;
    s128[r] = w.mean[128] - m0;
  }
  auto sd = [](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= v.size();
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (v.size() - 1));
  };
  EXPECT_NEAR(sd(s16), 0.2 * 4.0, 0.2 * 4.0 * 0.05);
  EXPECT_NEAR(sd(s128), 0.2 * std::sqrt(128.0), 0.2 * std::sqrt(128.0) * 0.05);
}

TEST(Synthetic, SequenceDropsFrameZeroAndHasLogVarOne) {
  auto set = testing::make_encodings(3, 3, 0, 1, 4, 5);
  TemporalConfig cfg;
  cfg.max_len = 32;
  std::vector<std::vector<int>> by{{0, 1, 2}, {3, 4, 5}};
  Rng rng(4);
  for (int i = 0; i < 20; ++i) {
    auto s = synthetic_sequence(set, by, cfg, rng);
    for (int t = 0; t < 32; ++t) EXPECT_EQ(s.real[t], 1);
    for (float lv : s.log_var) EXPECT_EQ(lv, 1.0f);  // frame 0 (real log-var 0.3) was dropped
  }
}

TEST(Synthetic, RealLengthModeMatchesTheTrimmedLengthsOfRealTrajectories) {
  auto set = testing::make_encodings(4, 4, 0, 1, 3, 6);
  TemporalConfig cfg;  // max_len 128 > every fixture trajectory (20..60 frames)
  cfg.synthetic_length = "real";
  std::vector<std::vector<int>> by{{0, 1, 2, 3}, {4, 5, 6, 7}};
  std::multiset<int> real_lengths;
  for (const auto& t : set.trajectories) real_lengths.insert(t.cutoff + 1);
  Rng rng(5);
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    auto s = synthetic_sequence(set, by, cfg, rng);
    int n = 0;
    for (int t = 0; t < cfg.max_len; ++t) n += s.real[t];
    ASSERT_TRUE(real_lengths.count(n)) << n << " walk frames: no real trajectory has that trimmed length";
    for (int t = 0; t < cfg.max_len - n; ++t) ASSERT_EQ(s.real[t], 0);  // pre-padding, then walk
    for (int d = 0; d < 3; ++d) {
      EXPECT_EQ(s.mean[(cfg.max_len - n - 1) * 3 + d], kPadMean);
      // the walk's last step from the previous frame is a random step, not a jump from padding
      EXPECT_LT(std::abs(s.mean[(cfg.max_len - 1) * 3 + d] - s.mean[(cfg.max_len - 2) * 3 + d]), 2.0f);
    }
    seen.insert(n);
  }
  EXPECT_GE(seen.size(), 4u);  // the lengths vary with the source trajectory
  cfg.synthetic_length = "reference";
  auto s = synthetic_sequence(set, by, cfg, rng);
  for (int t = 0; t < cfg.max_len; ++t) EXPECT_EQ(s.real[t], 1);
  cfg.synthetic_length = "full";
  EXPECT_THROW(cfg.validate(), ConfigError);
}

// Step sd of a synthetic input's walk, from its consecutive real frames.
static double walk_step_sd(const Sequence& s) {
  double ss = 0;
  int n = 0;
  for (int t = 1; t < s.max_len; ++t) {
    if (!s.real[t] || !s.real[t - 1]) continue;
    for (int d = 0; d < s.dims; ++d) {
      const double x = s.mean[t * s.dims + d] - s.mean[(t - 1) * s.dims + d];
      ss += x * x;
      ++n;
    }
  }
  return std::sqrt(ss / n);
}

TEST(Synthetic, NoiseMinDrawsTrainingStepSdLogUniformlyAndKeepsTestWalksAtTheReference) {
  auto set = testing::make_encodings(4, 4, 0, 1, 8, 7);
  TemporalConfig cfg;  // 128 frames x 8 dims per walk: its step sd is estimated to ~1 %
  cfg.synthetic_noise_min = 0.02;
  std::vector<std::vector<int>> by{{0, 1, 2, 3}, {4, 5, 6, 7}};
  Rng rng(8);
  const int n = 400;
  int below_geometric_mean = 0;
  double lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const double sd = walk_step_sd(synthetic_sequence(set, by, cfg, rng));
    ASSERT_GT(sd, 0.02 * 0.95);
    ASSERT_LT(sd, 0.2 * 1.05);
    lo = std::min(lo, sd);
    hi = std::max(hi, sd);
    below_geometric_mean += sd < std::sqrt(0.02 * 0.2);
  }
  EXPECT_LT(lo, 0.025);
  EXPECT_GT(hi, 0.17);
  EXPECT_NEAR(below_geometric_mean / static_cast<double>(n), 0.5, 0.08);  // log-uniform: median = geometric mean
  std::vector<int> all{0, 1, 2, 3, 4, 5, 6, 7};
  auto test_walks = build_synthetic(set, all, 20, cfg, 9);
  for (int i = 0; i < test_walks.n; ++i) {
    Sequence s;
    s.max_len = test_walks.max_len;
    s.dims = test_walks.dims;
    const std::size_t len = static_cast<std::size_t>(s.max_len) * s.dims;
    s.mean.assign(test_walks.x.begin() + i * len, test_walks.x.begin() + (i + 1) * len);
    s.real.assign(test_walks.real.begin() + i * s.max_len, test_walks.real.begin() + (i + 1) * s.max_len);
    EXPECT_NEAR(walk_step_sd(s), 0.2, 0.2 * 0.06);
  }
  cfg.synthetic_noise_min = 0.3;  // above synthetic_noise
  EXPECT_THROW(cfg.validate(), ConfigError);
}

TEST(Synthetic, TrajectoryBaseIsARealTrajectoryPlusAWalkFromZero) {
  auto set = testing::make_encodings(1, 1, 0, 1, 4, 11);
  TemporalConfig cfg;
  cfg.synthetic_base = "trajectory";
  const auto& src = set.trajectories[0];
  const Sequence ref = trim_sequence(src, 4, src.cutoff, cfg.max_len);
  std::vector<std::vector<int>> by{{0}, {}};  // always walks from trajectory 0
  Rng rng(12);
  double ss = 0;
  int n = 0;
  for (int rep = 0; rep < 100; ++rep) {
    const Sequence s = synthetic_sequence(set, by, cfg, rng);
    ASSERT_EQ(s.real, ref.real);  // its length and padding are the real trajectory's
    int first = 0;
    while (!ref.real[first]) ++first;
    for (int d = 0; d < 4; ++d) EXPECT_EQ(s.mean[first * 4 + d], ref.mean[first * 4 + d]);  // the walk starts at 0
    for (int t = first + 1; t < cfg.max_len; ++t)
      for (int d = 0; d < 4; ++d) {
        const double step = (s.mean[t * 4 + d] - ref.mean[t * 4 + d]) - (s.mean[(t - 1) * 4 + d] - ref.mean[(t - 1) * 4 + d]);
        ss += step * step;
        ++n;
        EXPECT_EQ(s.log_var[t * 4 + d], kPadLogVar);
      }
  }
  EXPECT_NEAR(std::sqrt(ss / n), cfg.synthetic_noise, cfg.synthetic_noise * 0.03);
  cfg.synthetic_base = "walk";
  EXPECT_THROW(cfg.validate(), ConfigError);
}

TEST(Batches, LabelsUniformAndDeterministicPerStep) {
  auto set = testing::make_encodings(10, 4, 3, 2, 4, 6);
  std::vector<int> all(set.trajectories.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  TemporalConfig cfg = testing::tiny_temporal();
  cfg.batch_size = 300;
  BatchSampler sampler(set, all, cfg, 77);
  EXPECT_EQ(sampler.by_class()[0].size(), 20u);  // censored left out
  EXPECT_EQ(sampler.by_class()[1].size(), 8u);
  int counts[3] = {0, 0, 0};
  for (int step = 0; step < 10; ++step) {
    auto b = sampler.batch(step);
    ASSERT_EQ(b.n, 300);
    ASSERT_EQ(b.x.size(), 300u * 32 * 4);
    for (int i = 0; i < b.n; ++i) {
      counts[b.labels[i]]++;
      if (b.labels[i] < 2) {
        EXPECT_EQ(fate_class(set.trajectories[b.source[i]].fate), b.labels[i]);
      } else {
        EXPECT_EQ(b.source[i], -1);
      }
    }
  }
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(counts[c] / 3000.0, 1.0 / 3, 0.03) << c;
  EXPECT_EQ(sampler.batch(5).x, sampler.batch(5).x);
  EXPECT_NE(sampler.batch(5).x, sampler.batch(6).x);
}

TEST(Inputs, ExactCutoffMaskAndLabels) {
  auto set = testing::make_encodings(2, 2, 1, 1, 4, 7);
  auto b = build_inputs(set, {0, 2, 4}, 128);
  ASSERT_EQ(b.n, 3);
  EXPECT_EQ(b.labels, (std::vector<int>{0, 1, -1}));
  for (int i = 0; i < 3; ++i) {
    const auto& t = set.trajectories[b.source[i]];
    int real = 0;
    for (int f = 0; f < 128; ++f) real += b.real[i * 128 + f];
    EXPECT_EQ(real, t.cutoff + 1);  // all frames up to the cutoff fit into 128
    // Last input frame = the cutoff frame's z_mean.
    EXPECT_EQ(b.x[(static_cast<std::size_t>(i) * 128 + 127) * 4 + 1], t.z_mean[t.cutoff * 4 + 1]);
  }
  auto s1 = build_synthetic(set, {0, 1, 2, 3}, 5, TemporalConfig{}, 9);
  auto s2 = build_synthetic(set, {0, 1, 2, 3}, 5, TemporalConfig{}, 9);
  EXPECT_EQ(s1.x, s2.x);
  EXPECT_EQ(s1.labels, (std::vector<int>(5, 2)));
}

}  // namespace
}  // namespace taupe
