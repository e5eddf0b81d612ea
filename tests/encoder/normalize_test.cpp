// Standardisation (tf.image.per_image_standardization + clip), augmentation kernels and the
// orientation decision (ambiguity 8: no axis swap).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "taupe/encoder/normalize.h"

namespace taupe {
namespace {

TEST(Normalize, StandardisesEachChannelWithPopulationStd) {
  const int n = 64 * 64;
  std::vector<std::uint16_t> img(2 * n);
  for (int i = 0; i < n; ++i) {
    img[i] = static_cast<std::uint16_t>(i % 16);           // channel 0: 0..15 repeated
    img[n + i] = static_cast<std::uint16_t>(1000 + 3 * (i % 2));  // channel 1: 1000 / 1003
  }
  std::vector<float> out(2 * n);
  normalize_images(img.data(), out.data(), 1, 2, n, 4.0);
  const double sd0 = std::sqrt((16.0 * 16.0 - 1.0) / 12.0);   // population sd of 0..15
  EXPECT_NEAR(out[0], (0 - 7.5) / sd0, 1e-5);
  EXPECT_NEAR(out[15], (15 - 7.5) / sd0, 1e-5);
  EXPECT_NEAR(out[n], -1.0, 1e-6);   // two values, population sd 1.5
  EXPECT_NEAR(out[n + 1], 1.0, 1e-6);
  double m = 0, v = 0;
  for (int i = 0; i < n; ++i) m += out[i];
  m /= n;
  for (int i = 0; i < n; ++i) v += (out[i] - m) * (out[i] - m);
  EXPECT_NEAR(m, 0.0, 1e-6);
  EXPECT_NEAR(v / n, 1.0, 1e-5);
}

TEST(Normalize, ConstantImageUsesStdFloorAndOutliersAreClipped) {
  const int n = 64 * 64;
  std::vector<float> img(n, 7.0f);
  normalize_images(img.data(), 1, 1, n, 4.0);
  for (float v : img) EXPECT_EQ(v, 0.0f);
  // One bright pixel: z = (x - mean)/sd would be ~64 -> clipped to 4; tiny std floor 1/64.
  std::vector<float> spike(n, 0.0f);
  spike[5] = 1000.0f;
  normalize_images(spike.data(), 1, 1, n, 4.0);
  EXPECT_EQ(spike[5], 4.0f);
  EXPECT_NEAR(spike[0], -1000.0 / n / (1000.0 * std::sqrt((n - 1.0)) / n), 1e-4);
  std::vector<float> tiny(n, 0.0f);
  tiny[0] = 1e-4f;   // std ~1.6e-6 < 1/64 -> divided by 1/64, not by std
  normalize_images(tiny.data(), 1, 1, n, 4.0);
  EXPECT_NEAR(tiny[0], (1e-4 - 1e-4 / n) * 64.0, 1e-7);
}

TEST(Normalize, FloatAndUint16PathsAgree) {
  std::vector<std::uint16_t> u(3 * 2 * 4096);
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<std::uint16_t>((i * 2654435761u) % 5000);
  std::vector<float> f(u.begin(), u.end()), out(u.size());
  normalize_images(u.data(), out.data(), 3, 2, 4096);
  normalize_images(f.data(), 3, 2, 4096);
  for (std::size_t i = 0; i < u.size(); ++i) ASSERT_FLOAT_EQ(out[i], f[i]);
}

TEST(Normalize, FlipsAndRot90MatchNumpy) {
  // 3x3 single channel: 0 1 2 / 3 4 5 / 6 7 8
  std::vector<float> a(9), o(9);
  std::iota(a.begin(), a.end(), 0.0f);
  flip_left_right(a.data(), o.data(), 1, 3);
  EXPECT_EQ(o, (std::vector<float>{2, 1, 0, 5, 4, 3, 8, 7, 6}));
  flip_up_down(a.data(), o.data(), 1, 3);
  EXPECT_EQ(o, (std::vector<float>{6, 7, 8, 3, 4, 5, 0, 1, 2}));
  rot90(a.data(), o.data(), 1, 3, 1);   // np.rot90: counter-clockwise
  EXPECT_EQ(o, (std::vector<float>{2, 5, 8, 1, 4, 7, 0, 3, 6}));
  rot90(a.data(), o.data(), 1, 3, 2);
  EXPECT_EQ(o, (std::vector<float>{8, 7, 6, 5, 4, 3, 2, 1, 0}));
  rot90(a.data(), o.data(), 1, 3, 3);
  EXPECT_EQ(o, (std::vector<float>{6, 3, 0, 7, 4, 1, 8, 5, 2}));
  rot90(a.data(), o.data(), 1, 3, 4);
  EXPECT_EQ(o, a);
}

// Ambiguity 8: taupe applies no axis swap anywhere: pixel (r, c) of a stored image is pixel
// (r, c) of the encoder input (standardisation is pointwise per channel).
TEST(Normalize, NoAxisSwapBetweenStoredImagesAndEncoderInput) {
  const int s = 64;
  std::vector<std::uint16_t> img(2 * s * s, 10);
  img[3 * s + 40] = 9000;            // channel 0, row 3, column 40
  img[s * s + 50 * s + 7] = 9000;    // channel 1, row 50, column 7
  std::vector<float> out(img.size());
  normalize_images(img.data(), out.data(), 1, 2, s * s);
  EXPECT_EQ(out[3 * s + 40], 4.0f);
  EXPECT_LT(out[40 * s + 3], 0.0f);
  EXPECT_EQ(out[s * s + 50 * s + 7], 4.0f);
  EXPECT_LT(out[s * s + 7 * s + 50], 0.0f);
}

}  // namespace
}  // namespace taupe
