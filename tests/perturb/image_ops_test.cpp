// Normalisation, eq. 7 switching and the central-nucleus rescale on hand-made images with
// closed-form expected output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "taupe/dataset/types.h"
#include "taupe/perturb/image_ops.h"

namespace taupe::perturb {
namespace {

TEST(PerturbPercentile, MatchesNumpyLinearInterpolation) {
  std::vector<double> v;
  for (int i = 0; i < 64; ++i) v.push_back(63 - i);
  EXPECT_NEAR(percentile(v, 5.0), 3.15, 1e-12);
  EXPECT_NEAR(percentile(v, 99.0), 62.37, 1e-12);
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(percentile(v, 100.0), 63.0);
}

/// The definition: for every pixel, the median of its disk with coordinates clamped to the image.
std::vector<float> median_by_sorting(const std::vector<float>& in, int h, int w, int r) {
  std::vector<float> out(in.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::vector<float> disk;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx)
          if (dx * dx + dy * dy <= r * r) disk.push_back(in[std::clamp(y + dy, 0, h - 1) * w + std::clamp(x + dx, 0, w - 1)]);
      std::sort(disk.begin(), disk.end());
      out[y * w + x] = disk[disk.size() / 2];
    }
  return out;
}

TEST(PerturbMedian, EqualsTheSortedDiskMedianAtEveryRadiusAndShape) {
  // Radii 0-3 take the selection network, 5 (81 pixels) the nth_element path; widths that are
  // and are not multiples of the 8 pixels filtered together; values with many ties.
  for (int r : {0, 1, 2, 3, 4, 5})
    for (auto [h, w] : {std::pair{64, 64}, std::pair{7, 13}, std::pair{3, 2}, std::pair{1, 9}}) {
      std::vector<float> in(static_cast<std::size_t>(h * w)), out(in.size(), -1.f);
      for (int i = 0; i < h * w; ++i) in[i] = static_cast<float>((i * 2654435761u >> 7) % 23) * 0.25f;
      median_filter_disk(in.data(), out.data(), h, w, r);
      EXPECT_EQ(out, median_by_sorting(in, h, w, r)) << "radius " << r << ", " << h << " x " << w;
    }
}

TEST(PerturbNormalize, RampWithoutOutliersIsThePercentileRescale) {
  std::vector<float> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = static_cast<float>(i);  // value = 8 y + x
  NormParams p;
  p.outlier_threshold = 1e9;  // nothing is an outlier
  normalize_channel(in.data(), out.data(), 8, 8, p);
  for (int i = 0; i < 64; ++i) {
    const double expect = std::clamp((i - 3.15) / (62.37 - 3.15), 0.0, 1.0);
    EXPECT_NEAR(out[i], expect, 1e-6) << i;
  }
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[63], 1.0f);
}

TEST(PerturbNormalize, OutlierIsReplacedByTheDiskMedian) {
  std::vector<float> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = static_cast<float>(i);
  in[4 * 8 + 4] = 5000.f;  // spike at (4, 4); ramp value there was 36
  NormParams p;            // radius 2, threshold 5 sd
  normalize_channel(in.data(), out.data(), 8, 8, p);
  // Disk offsets 8dy + dx sorted: -16 -9 -8 -7 -2 -1 [0] 1 2 7 8 9 16; with the centre replaced by
  // the spike the 7th of 13 is +1, so the local median is 37.
  EXPECT_NEAR(out[36], (37 - 3.15) / (62.37 - 3.15), 1e-6);
  EXPECT_NEAR(out[35], (35 - 3.15) / (62.37 - 3.15), 1e-6);  // neighbours keep their value
  EXPECT_NEAR(out[37], (37 - 3.15) / (62.37 - 3.15), 1e-6);
}

TEST(PerturbNormalize, RadiusZeroMedianNeverReplaces) {
  std::vector<float> in(64, 10.f), out(64);
  in[5] = 20.f;
  NormParams p;
  p.median_radius = 0;
  normalize_channel(in.data(), out.data(), 8, 8, p);
  // p5 = 10, p99 = 10 + 0.37*... : one high value -> p99 interpolates between 10 and 20
  const double hi = 10 + (0.99 * 63 - 62) * 10;
  EXPECT_NEAR(out[5], 1.0, 1e-6);
  EXPECT_NEAR(out[0], 0.0, 1e-6);
  EXPECT_GT(hi, 10.0);
}

TEST(PerturbNormalize, ConstantChannelMapsToZero) {
  std::vector<float> in(64, 7.f), out(64, -1.f);
  normalize_channel(in.data(), out.data(), 8, 8, NormParams{});
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

// 8x8 two-channel image: row 0 background, rows 1-2 WT neighbours, rows 3-4 scrib neighbours,
// rows 5-6 the central (scrib) cell, row 7 a WT neighbour again.
struct Fixture8 {
  std::vector<float> img = std::vector<float>(128);
  std::vector<std::uint8_t> mask = std::vector<std::uint8_t>(64);
  Fixture8() {
    for (int i = 0; i < 64; ++i) {
      img[i] = 0.01f * static_cast<float>(i);             // ch0
      img[64 + i] = 0.5f - 0.006f * static_cast<float>(i);  // ch1
      const int row = i / 8;
      if (row == 0) mask[i] = kMaskBackground;
      else if (row <= 2 || row == 7) mask[i] = mask_code(CellType::kWildType, false);
      else if (row <= 4) mask[i] = mask_code(CellType::kScrib, false);
      else mask[i] = mask_code(CellType::kScrib, true);
    }
  }
};

TEST(PerturbSwitch, NeighboursFollowEq7AndSpareCentreAndBackground) {
  Fixture8 f;
  std::vector<float> out = f.img;
  const auto n = switch_channels(out.data(), f.mask.data(), 8, SwitchTarget::kNeighbours);
  EXPECT_EQ(n, 8 * 5);
  for (int i = 0; i < 64; ++i) {
    const float a = f.img[i], b = f.img[64 + i];
    const int row = i / 8;
    if (row == 0 || row == 5 || row == 6) {  // background and central cell untouched
      EXPECT_EQ(out[i], a);
      EXPECT_EQ(out[64 + i], b);
    } else if (row <= 2 || row == 7) {  // WT: own channel 0, opposite channel 1
      EXPECT_EQ(out[64 + i], std::max(a, b)) << i;
      EXPECT_EQ(out[i], b) << i;
    } else {  // scrib: own channel 1, opposite channel 0
      EXPECT_EQ(out[i], std::max(a, b)) << i;
      EXPECT_EQ(out[64 + i], a) << i;
    }
  }
}

TEST(PerturbSwitch, CentreSwitchesOnlyTheCentralCell) {
  Fixture8 f;
  std::vector<float> out = f.img;
  EXPECT_EQ(switch_channels(out.data(), f.mask.data(), 8, SwitchTarget::kCentre), 16);
  for (int i = 0; i < 64; ++i) {
    const float a = f.img[i], b = f.img[64 + i];
    if (i / 8 == 5 || i / 8 == 6) {
      EXPECT_EQ(out[i], std::max(a, b));  // scrib centre: GFP gets the max
      EXPECT_EQ(out[64 + i], a);          // RFP gets the old GFP content
    } else {
      EXPECT_EQ(out[i], a);
      EXPECT_EQ(out[64 + i], b);
    }
  }
}

TEST(PerturbSwitch, SwitchingTwiceOnAPureSignalRestoresIt) {
  // A pixel with signal only in its own channel: switch moves it to the other channel; a WT pixel
  // (0.8, 0) becomes (0, 0.8).
  std::vector<float> img = {0.8f, 0.0f};
  std::vector<std::uint8_t> mask = {mask_code(CellType::kWildType, false)};
  switch_channels(img.data(), mask.data(), 1, SwitchTarget::kNeighbours);
  EXPECT_EQ(img[0], 0.0f);
  EXPECT_EQ(img[1], 0.8f);
}

struct Disk {
  std::vector<std::uint16_t> img;
  std::vector<std::uint8_t> mask;
  Disk(int r = 12) : img(2 * 64 * 64), mask(64 * 64) {
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const int i = y * 64 + x;
        img[i] = 100;
        img[4096 + i] = 100;
        const double d2 = (y - 32.0) * (y - 32.0) + (x - 31.0) * (x - 31.0);
        if (d2 <= r * r) {
          mask[i] = mask_code(CellType::kScrib, true);
          img[4096 + i] = static_cast<std::uint16_t>(800 + 3 * x);
        } else if (x < 8) {
          mask[i] = mask_code(CellType::kWildType, false);
          img[i] = 900;
        }
      }
  }
};

TEST(PerturbShrink, FactorOneIsTheIdentity) {
  Disk d;
  const auto r = shrink_central(d.img.data(), d.mask.data(), 2, 64, 1.0);
  EXPECT_EQ(r.image, d.img);
  EXPECT_EQ(r.mask, d.mask);
  EXPECT_EQ(r.area_before, r.area_after);
}

TEST(PerturbShrink, ShrinkScalesTheAreaByFactorSquaredAndFillsBackground) {
  Disk d;
  for (double f : {0.6, 0.8, 1.2}) {
    const auto r = shrink_central(d.img.data(), d.mask.data(), 2, 64, f);
    const double ratio = static_cast<double>(r.area_after) / static_cast<double>(r.area_before);
    EXPECT_NEAR(ratio, f * f, 0.06 * f * f) << f;
    std::int64_t central = 0;
    for (auto m : r.mask) central += mask_is_central(m);
    EXPECT_EQ(central, r.area_after);
  }
  const auto r = shrink_central(d.img.data(), d.mask.data(), 2, 64, 0.6);
  // A vacated pixel (inside the old disk, outside the new one) holds the local background.
  const int i = 32 * 64 + 31 + 10;
  EXPECT_FALSE(mask_is_central(r.mask[i]));
  EXPECT_EQ(r.mask[i], kMaskBackground);
  EXPECT_EQ(r.image[4096 + i], 100);
  EXPECT_EQ(r.image[i], 100);
  // The centre keeps its intensity; WT neighbours are untouched.
  EXPECT_NEAR(r.image[4096 + 32 * 64 + 31], d.img[4096 + 32 * 64 + 31], 1);
  EXPECT_EQ(r.image[10 * 64 + 2], 900);
}

TEST(PerturbRender, GreenMagentaChannelOrder) {
  std::vector<float> img = {1.0f, 0.0f};  // 1x1: ch0 = 1, ch1 = 0
  const auto im = render_glimpse(img.data(), 1);
  EXPECT_EQ(im.pixels[0], 0);    // R = ch1
  EXPECT_EQ(im.pixels[1], 255);  // G = ch0
  EXPECT_EQ(im.pixels[2], 0);    // B = ch1
}

}  // namespace
}  // namespace taupe::perturb
