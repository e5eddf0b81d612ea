#pragma once
// Generic exports for inspection in napari / Fiji and for other languages.
#include <filesystem>

#include "taupe/io/common.h"

namespace taupe::io {

/// Any glimpse container (e.g. perturbed glimpses) -> per trajectory
///   <out>/<id>_<fate>_images.tif  (T, 2, 64, 64) uint16 ImageJ hyperstack
///   <out>/<id>_<fate>_masks.tif   (T, 64, 64) uint8 mask codes (bits 0-1 type, bit 2 central)
/// plus <out>/index.csv (id,fate,central_type,cutoff,movie,track_id,frames,images,masks).
IoSummary export_glimpse_tiffs(const std::filesystem::path& glimpses, const std::filesystem::path& out_dir,
                               bool overwrite = false);

}  // namespace taupe::io
