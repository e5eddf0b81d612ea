#pragma once
// Image-space perturbations (pure numerics, torch-free): the per-channel normalisation that
// precedes neighbour switching (paper §3.1; reference §8 norm_channel), the channel switch of
// eq. 7 on neighbour or central-cell pixels, the central-nucleus rescale (shrink-nucleus) and the
// green/magenta rendering of glimpses for the example panels.
// Images are (C, S, S) row-major, C = 2 (channel 0 = GFP = wild type, channel 1 = RFP = scrib);
// masks are (S, S) mask codes (dataset/types.h: bits 0-1 cell type, bit 2 central cell).
#include <cstdint>
#include <vector>

#include "taupe/perturb/perturb_config.h"
#include "taupe/report/image.h"

namespace taupe::perturb {

/// Parameters of norm_channel.
struct NormParams {
  int median_radius = 2;            ///< disk radius (pixels with dx² + dy² ≤ r²)
  double outlier_threshold = 5.0;   ///< outlier if |x − local median| > threshold · channel sd
  double percentile_lo = 5.0;
  double percentile_hi = 99.0;
};
NormParams norm_params(const PerturbConfig& cfg);

/// Percentile of `v` with numpy's default linear interpolation (by selection, stats::quantiles).
double percentile(std::vector<double> v, double pct);

/// Median filter over a disk of radius r, borders by nearest-pixel replication (skimage
/// mode "nearest"). in/out: (h, w), in != out.
void median_filter_disk(const float* in, float* out, int h, int w, int radius);

/// One channel (h, w) -> normalised values in [0, 1]:
///   m = median_filter_disk(x, r);  x' = m where |x − m| > threshold · sd(x) (population sd), else x;
///   y = clip((x' − P_lo(x')) / (P_hi(x') − P_lo(x')), 0, 1);  y = 0 when P_hi = P_lo.
void normalize_channel(const float* in, float* out, int h, int w, const NormParams& p);
/// Every channel of a (C, S, S) image.
std::vector<float> normalize_image(const float* in, int channels, int size, const NormParams& p);
std::vector<float> normalize_image(const std::uint16_t* in, int channels, int size, const NormParams& p);

enum class SwitchTarget { kNeighbours, kCentre };

/// Eq. 7 on a (2, S, S) image, in place. On every pixel selected by `target` whose instance has a
/// cell type (mask bits 0-1 = 1 wild type, 2 scrib): with `own` = the channel of that type
/// (0 for wild type, 1 for scrib) and `other` = the opposite channel,
///   new[other] = max(old[0], old[1]);   new[own] = old[other].
/// kNeighbours selects cell pixels outside the central cell (bit 2 clear), kCentre the central
/// cell's pixels. Background (code 0) and unselected pixels are untouched.
/// Returns the number of pixels switched.
std::int64_t switch_channels(float* image, const std::uint8_t* mask, int size, SwitchTarget target);

/// Result of shrink_central.
struct ShrinkResult {
  std::vector<std::uint16_t> image;  ///< (C, S, S)
  std::vector<std::uint8_t> mask;    ///< (S, S)
  std::int64_t area_before = 0, area_after = 0;  ///< central-cell pixels
};
/// Rescales the central cell (mask bit 2) by `factor` about its centroid: a pixel x becomes
/// central when round(c + (x − c)/factor) is central in the input, and takes the bilinear sample of
/// the input at c + (x − c)/factor (all channels). Central pixels vacated by a shrink take the
/// local background: per channel the median of background pixels (code 0) within `ring` pixels of
/// the central cell's bounding box (the image's 5th percentile when there are none). factor 1 is
/// the identity; a frame without a central cell is returned unchanged.
ShrinkResult shrink_central(const std::uint16_t* image, const std::uint8_t* mask, int channels, int size,
                            double factor, int ring = 4);

/// Green/magenta rendering of a (2, S, S) float image: RGB = [ch1, ch0, ch1], each channel mapped
/// from [lo, hi] to [0, 255] (clipped). When lo >= hi, per-channel 1st..99.5th percentiles are used.
report::Image render_glimpse(const float* image, int size, float lo = 0.f, float hi = 1.f);
/// Mask codes -> RGB (the paper's colours: wild type grey, scrib dark, central cell outlined white).
report::Image render_mask(const std::uint8_t* mask, int size);
/// Tiles images (all the same size) into a grid, `gap` pixels of white between them.
report::Image tile_images(const std::vector<std::vector<report::Image>>& rows, int gap = 2);

}  // namespace taupe::perturb
