#pragma once
// btrack HDF5 files (quantumjot/btrack, versions 0.4.x and 0.6.x) in:
//   /objects/<type>/coords (I, 5) float32 [t, x, y, z, object_type]   (0.4.x: column 1 holds y)
//   /objects/<type>/map    ignored: btrack writes it wrongly; objects are grouped by their t column
//   /objects/<type>/properties/<name> (I,) float32, used only by an `f_expr` filter
//   /tracks/<type> attrs   version (string), f_expr (optional filter applied before tracking)
//   /tracks/<type>/tracks  (N,) int32 refs: >= 0 object row (after f_expr), < 0 dummy row -ref-1
//   /tracks/<type>/map     (K, 2) [start, end) slices of `tracks`
//   /tracks/<type>/LBEPR   (K, 6) int32 [id, first, last, parent, root, generation];
//                          a root has parent == own id (or 0)
//   /tracks/<type>/fates   (K,) int32 btrack Fates: DIVIDE 4 -> mitosis, APOPTOSIS 5 -> apoptosis,
//                          TERMINATE_BORDER 20 -> left_field, any other known code -> censored
//   /tracks/<type>/dummies (M, 5) float32 gap-filling observations [t, x, y, z, type] in every
//                          version: btrack writes them from the tracker's own objects (checked
//                          on btrack-examples' 0.4.3 tracks.h5, whose coords hold y in column 1)
//   /segmentation/images   (T, Y, X) labels, optional
// x/y order of objects: 0.6.x (and later) store x in column 1; files whose `version` is below
// 0.5 store y there. `swap_xy` swaps the objects once more (for files whose version attribute is
// missing or wrong). Every dummy must lie within `dummy_step_px` per frame of separation from
// the real observation before or after it in its track, else the file is refused naming track
// and frame.
#include <filesystem>
#include <string>

#include "taupe/io/movie_import.h"

namespace taupe::io {

struct BtrackReadOptions {
  std::string object_type;   ///< "obj_type_1" ...; empty = the only one present
  bool swap_xy = false;
  /// Largest distance (px) per frame of separation between a dummy and the closer of the real
  /// observations before and after it in its track. btrack-examples' 0.4.3 file (97 dummies):
  /// median 1.6, at most 7.3 px per frame; read with the objects' x/y order, hundreds of px.
  double dummy_step_px = 15.0;
};

struct BtrackData {
  TrackSet tracks;           ///< points at object (and dummy) positions; parents 0 for roots
  std::string version;       ///< the file's `version` attribute ("" if missing)
  bool column1_is_y = false; ///< after applying version + swap_xy
  bool has_segmentation = false;
  std::size_t dummies = 0;
  double max_dummy_offset_px = 0;   ///< largest dummy offset per frame found (see dummy_step_px)
};

/// Reads and checks a btrack HDF5 file (no pixels). DataError "<file>: <dataset/record>: <rule>".
BtrackData read_btrack(const std::filesystem::path& file, const BtrackReadOptions& opts = {});
/// Same from an in-memory file image (fuzzing); `max_elements` caps every dataset read.
BtrackData read_btrack_image(const void* data, std::size_t size, const std::string& where,
                             const BtrackReadOptions& opts = {}, std::size_t max_elements = std::size_t{1} << 28);

struct BtrackImportOptions {
  std::filesystem::path file;           ///< btrack .h5
  std::filesystem::path movie;          ///< (T, C, Y, X) TIFF; empty: tracks only (write_tracks_dataset)
  std::filesystem::path segmentation;   ///< (T, Y, X) TIFF; default: /segmentation/images, else derived
  BtrackReadOptions read;
  MovieImportOptions movie_opts;
};

IoSummary import_btrack(const BtrackImportOptions& opts, const std::filesystem::path& out_dir);

}  // namespace taupe::io
