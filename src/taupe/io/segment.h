#pragma once
// Segmentation helpers used by the importers when a dataset brings no usable masks, and the
// one documented cell-type rule (docs/import-export.md, "Deriving masks and cell types"):
//
//  1. Foreground: from each channel of the frame its median (the background level) is
//     subtracted; the per-pixel maximum over channels ("max-projection of both channels") is
//     scaled to [0, 1] by its frame maximum, and Otsu's threshold (256-bin histogram) splits
//     foreground (> threshold) from background. A frame without any signal has no foreground.
//  2. Instances: a chamfer (3-4) distance transform of the foreground; a watershed by
//     descending distance where two basins are kept apart only if both peaks rise at least
//     `h` pixels above the saddle between them (h-maxima), otherwise they merge. Instances
//     smaller than `min_area` pixels become background. Labels are 1..n in raster order of
//     each instance's first pixel.
//  3. Cell type (channel ratio): for each instance, g = mean GFP - GFP background and
//     r = mean RFP - RFP background (background = median of the frame's label-0 pixels,
//     0 when there are none; negatives clamp to 0). WT if g > ratio * r, scrib if
//     r > ratio * g, otherwise unknown.
//  4. Central cell of a glimpse: the label covering most of the four centre pixels; if none,
//     the label of the nearest labelled pixel to the centre (31.5, 31.5).
#include <cstdint>
#include <map>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe::io {

struct SegmentOptions {
  double h = 2.0;           ///< minimal peak height (pixels of distance) above a saddle to split
  int min_area = 12;        ///< instances with fewer pixels become background
  double type_ratio = 1.0;  ///< channel-ratio rule: WT if gfp > ratio * rfp, scrib if rfp > ratio * gfp
};

/// Otsu threshold of `values` in [0, 1] (256 bins); returns the threshold value.
double otsu_threshold(const std::vector<float>& values);

/// Instance labels (H, W) of one frame given its channels (C, H, W) (all channels are used
/// for the foreground). Returns the labels; `count` receives the number of instances.
std::vector<std::uint32_t> segment_frame(const std::uint16_t* images, int channels, int height, int width,
                                         const SegmentOptions& opts, std::uint32_t* count = nullptr);

/// Cell type of every label present in `labels` (H, W) by the channel-ratio rule, reading
/// GFP from channel `gfp` and RFP from channel `rfp` of `images` (C, H, W).
std::map<std::uint32_t, CellType> classify_labels(const std::uint16_t* images, int height, int width,
                                                  int gfp, int rfp, const std::vector<std::uint32_t>& labels,
                                                  double type_ratio);

/// The central label of a 64 x 64 label image (rule 4); 0 if the image has no labels.
std::uint32_t central_label(const std::vector<std::uint32_t>& labels, int height, int width);

/// Glimpse mask codes (types.h) of one 64 x 64 frame: type bits from `types`, central bit on
/// the pixels of `central`.
std::vector<std::uint8_t> mask_codes(const std::vector<std::uint32_t>& labels,
                                     const std::map<std::uint32_t, CellType>& types, std::uint32_t central);

}  // namespace taupe::io
