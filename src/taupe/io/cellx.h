#pragma once
// cellx-predict glimpse layout (lowe-lab-ucl/cellx-predict) in and out.
//
//   <root>/data/<label>/<name>.tif       (T, 2, 64, 64) glimpse stack, channels GFP, RFP
//   <root>/metadata/<label>/<name>.npz   field `cutoff` (int, index of the last frame to use)
//   <root>/masks/<label>/<name>.tif      optional (T, 64, 64): instance labels, or taupe mask
//                                        codes when the .npz says mask_encoding = "taupe"
//   <root>/taupe.json                    optional, written by export: dataset attributes
// `<root>` may also be a folder holding `training/glimpses/` (the cellx-predict repo layout).
// Label folders map to fates by name (fate_from_label). Export writes the same layout plus
// the optional fields `id`, `track_id`, `movie`, `frames`, `central_type`, `feature_<name>`,
// `mask_encoding` in each .npz, so that export -> import reproduces the container exactly.
#include <filesystem>
#include <map>
#include <string>

#include "taupe/dataset/types.h"
#include "taupe/io/common.h"
#include "taupe/io/segment.h"

namespace taupe::io {

struct CellxImportOptions {
  std::map<std::string, Fate> label_map;   ///< extra folder name (lower-case) -> fate
  /// Masks: "auto" (masks/ if present, else derive), "derive" (always derive), "none"
  /// (all-background masks; the switching experiment then has nothing to switch).
  std::string masks = "auto";
  SegmentOptions segment;
  double frame_interval_min = 4.0;
  bool overwrite = false;
};

/// Imports `<root>` into the glimpse container `out` (e.g. DIR/glimpses.h5). Everything is
/// validated before the container appears (it is written atomically); errors are DataError /
/// IoError naming the file, the record and the rule.
IoSummary import_cellx(const std::filesystem::path& root, const std::filesystem::path& out,
                       const CellxImportOptions& opts = {});

struct CellxExportOptions {
  bool masks = true;          ///< also write masks/<label>/<name>.tif (taupe mask codes)
  bool overwrite = false;
};

/// Writes the glimpse container `glimpses` as a cellx-predict layout under `out_root`.
IoSummary export_cellx(const std::filesystem::path& glimpses, const std::filesystem::path& out_root,
                       const CellxExportOptions& opts = {});

}  // namespace taupe::io
