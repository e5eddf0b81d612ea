// Typicality gate: closed-form scores, padding handling, calibration at a quantile, and the
// override of rejected predictions.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/core/rng.h"
#include "taupe/temporal/typicality.h"

namespace taupe {
namespace {

TEST(Typicality, ScoreIsTheMeanSquaredWhitenedDistanceOverRealFrames) {
  TypicalityGate g;
  g.inv_var = {1.0, 0.25};  // sd 1 and 2
  // 3 frames, the first is padding: (9, 9) must not count.
  const std::vector<float> seq = {9, 9, 1, 2, 3, -4};
  const std::vector<std::uint8_t> real = {0, 1, 1};
  // Frame 1: 1 + 4/4 = 2; frame 2: 9 + 16/4 = 13 → mean 7.5.
  EXPECT_DOUBLE_EQ(g.score(seq.data(), real.data(), 3), 7.5);
  const std::vector<std::uint8_t> none = {0, 0, 0};
  EXPECT_DOUBLE_EQ(g.score(seq.data(), none.data(), 3), 0.0);
  // Without a mask, rows equal to the padding row are padding.
  const std::vector<float> pad = {9, 9};
  EXPECT_DOUBLE_EQ(g.score_unmasked(seq.data(), pad.data(), 3), 7.5);
  const std::vector<float> near_pad = {9.00001f, 9, 1, 2, 3, -4};
  EXPECT_DOUBLE_EQ(g.score_unmasked(near_pad.data(), pad.data(), 3), 7.5);
  EXPECT_FALSE(g.enabled());  // no threshold yet
  EXPECT_FALSE(g.rejects(1e30));
}

TEST(Typicality, CalibrationWhitensAndRejectsTheRequestedFractionOfTrainingInputs) {
  // 2000 trajectories of 10 frames, D = 3 with sds 1, 3, 0.5; some trajectories padded.
  const int n = 2000, L = 10, D = 3;
  const double sd[D] = {1.0, 3.0, 0.5};
  Rng rng(17);
  std::vector<float> pcs(static_cast<std::size_t>(n) * L * D, 0.f);
  std::vector<std::uint8_t> real(static_cast<std::size_t>(n) * L, 0);
  for (int i = 0; i < n; ++i) {
    const int first = i % 4;  // 0..3 padding frames
    for (int t = first; t < L; ++t) {
      real[static_cast<std::size_t>(i) * L + t] = 1;
      for (int d = 0; d < D; ++d) pcs[(static_cast<std::size_t>(i) * L + t) * D + d] = static_cast<float>(rng.normal(0, sd[d]));
    }
  }
  const TypicalityGate g = calibrate_gate(pcs.data(), real.data(), n, L, D, 0.95);
  ASSERT_TRUE(g.enabled());
  for (int d = 0; d < D; ++d) EXPECT_NEAR(g.inv_var[d] * sd[d] * sd[d], 1.0, 0.05);
  // Scores average ≈ D (whitened chi-square / frames); 5 % of training inputs exceed the threshold.
  int above = 0;
  double mean = 0;
  for (int i = 0; i < n; ++i) {
    const double s = g.score(pcs.data() + static_cast<std::size_t>(i) * L * D, real.data() + static_cast<std::size_t>(i) * L, L);
    above += g.rejects(s);
    mean += s / n;
  }
  EXPECT_NEAR(mean, 3.0, 0.1);
  EXPECT_NEAR(above / static_cast<double>(n), 0.05, 0.002);
  // A trajectory displaced by 3 sd in every component is rejected; one at the centre is not.
  std::vector<float> far(static_cast<std::size_t>(L) * D), centre(static_cast<std::size_t>(L) * D, 0.f);
  for (int t = 0; t < L; ++t)
    for (int d = 0; d < D; ++d) far[static_cast<std::size_t>(t) * D + d] = static_cast<float>(3 * sd[d]);
  const std::vector<std::uint8_t> all(static_cast<std::size_t>(L), 1);
  EXPECT_TRUE(g.rejects(g.score(far.data(), all.data(), L)));
  EXPECT_FALSE(g.rejects(g.score(centre.data(), all.data(), L)));

  // Calibrated from uneven chunks (two passes over them), the gate is the same, bit for bit.
  const std::vector<std::int64_t> cuts = {0, 1, 700, 701, 1999, n};
  int visits = 0;
  const TypicalityGate c = calibrate_gate_chunked(
      [&](const GateChunkVisitor& visit) {
        for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
          ++visits;
          visit(pcs.data() + static_cast<std::size_t>(cuts[k]) * L * D, real.data() + static_cast<std::size_t>(cuts[k]) * L,
                cuts[k + 1] - cuts[k]);
        }
      },
      L, D, 0.95);
  EXPECT_EQ(visits, 2 * 5);
  EXPECT_EQ(c.inv_var, g.inv_var);
  EXPECT_EQ(c.threshold, g.threshold);
}

TEST(Typicality, QuantileAndOverride) {
  EXPECT_DOUBLE_EQ(score_quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(score_quantile({4, 1, 3, 2}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(score_quantile({4, 1, 3, 2}, 0.0), 1.0);
  EXPECT_THROW(score_quantile({}, 0.5), DataError);
  EXPECT_THROW(score_quantile({1}, 1.5), ConfigError);
  TypicalityGate g;
  g.inv_var = {1.0};
  g.threshold = 2.0;
  std::vector<float> probs = {0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f};
  EXPECT_EQ(apply_gate(g, {1.5, 2.5}, probs.data()), 1);
  EXPECT_EQ(probs, (std::vector<float>{0.7f, 0.2f, 0.1f, 0.f, 0.f, 1.f}));
  EXPECT_FALSE(g.rejects(2.0));  // at the threshold is still typical
}

}  // namespace
}  // namespace taupe
