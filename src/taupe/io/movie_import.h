#pragma once
// The common back half of every movie-based importer (btrack, CTC, CSV): a frame source
// (raw images), a label source (segmentation), and a TrackSet built by the format reader are
// checked against each other and written as one taupe movie + tracks pair:
//
//   <out>/<name>/movie.h5    taupe.movie (2 channels GFP, RFP; labels; cell type per label)
//   <out>/<name>/tracks.h5   taupe.tracks
//
// Rules applied here (docs/import-export.md): the movie has axes (T, C, Y, X); exactly two
// channels unless --channels picks GFP and RFP out of more; frames/labels/tracks agree on T,
// Y, X; every track point lies inside the movie (frame and position); each label's cell type
// by the channel-ratio rule (segment.h); each track's type = majority of its points' label
// types. Nothing is written unless every check passes (both files are written atomically and
// the movie is removed again if the tracks cannot be written).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "taupe/dataset/track_labels.h"
#include "taupe/dataset/tracks.h"
#include "taupe/io/common.h"
#include "taupe/io/segment.h"

namespace taupe::io {

/// Raw frames: (C, H, W) values per frame.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  int frames = 0, channels = 0, height = 0, width = 0;
  bool needs_rescale_pass = false;   ///< non-uint8/uint16 data: scan min/max first
  double pixel_size_um = 0, frame_interval_min = 0;   ///< 0 = unknown
  std::string where;                 ///< file (or folder) named in messages
  virtual std::vector<double> read(int t) = 0;
};
/// One multi-page TIFF with axes (T, C, Y, X).
std::unique_ptr<FrameSource> tiff_stack_frames(const std::filesystem::path& path);
/// One TIFF per frame (each (Y, X) or (C, Y, X)), in the given order.
std::unique_ptr<FrameSource> tiff_series_frames(const std::vector<std::filesystem::path>& files,
                                                const std::filesystem::path& folder);

/// Segmentation: (H, W) labels per frame.
class LabelSource {
 public:
  virtual ~LabelSource() = default;
  int frames = 0, height = 0, width = 0;
  std::string where;
  virtual std::vector<std::uint32_t> read(int t) = 0;
  virtual std::string frame_where(int t) const { return where + ": frame " + std::to_string(t); }
};
/// One TIFF with axes (T, Y, X).
std::unique_ptr<LabelSource> tiff_stack_labels(const std::filesystem::path& path);
/// One TIFF per frame (CTC masks), each (Y, X).
std::unique_ptr<LabelSource> tiff_series_labels(const std::vector<std::filesystem::path>& files,
                                                const std::filesystem::path& folder);
/// An HDF5 dataset (T, Y, X) (btrack `segmentation/images`).
std::unique_ptr<LabelSource> hdf5_labels(const std::filesystem::path& file, const std::string& dataset);

/// Pixel size assumed when neither the options nor the TIFF metadata give one (µm).
inline constexpr double kFallbackPixelSizeUm = 0.5;

struct MovieImportOptions {
  std::vector<std::string> channels;   ///< --channels gfp=I,rfp=J (empty: the 2 channels in order)
  double pixel_size_um = 0;            ///< 0: from TIFF metadata, else kFallbackPixelSizeUm
  double frame_interval_min = 0;       ///< 0: from TIFF metadata, else 4
  double type_ratio = 1.0;             ///< channel-ratio rule (segment.h)
  double snap_radius_px = kLabelSnapRadiusPx;   ///< a point on background takes the nearest label within this
  SegmentOptions segment;              ///< used when no segmentation is given
  std::string name;                    ///< output sub-folder (default: derived from the input)
  bool overwrite = false;
  std::string outside_hint;            ///< hint when a track point lies outside the movie (format-specific)
};

/// How track points find their label.
enum class PointLabels {
  kFromPosition,   ///< label under (x, y) (or nearest within snap radius); 0 if none
  kTrackId,        ///< CTC: label value == track id; must be present at every point's frame
};

/// Checks and writes one movie + tracks pair. `labels` may be null: the segmentation is then
/// derived from the frames (segment.h). Track points with label 0 get theirs by `mode`.
IoSummary write_movie_dataset(FrameSource& frames, LabelSource* labels, TrackSet tracks, PointLabels mode,
                              const MovieImportOptions& opts, const std::filesystem::path& out_dir,
                              const std::string& what);

/// Tracks without a movie: checks the lineage and writes `<out>/<name>/tracks.h5` with no
/// label ids (0) and the cell types the format gives (else unknown). `taupe extract` joins it
/// with a movie later (dataset/track_labels.h).
IoSummary write_tracks_dataset(TrackSet tracks, const MovieImportOptions& opts, const std::filesystem::path& out_dir,
                               const std::string& what);

}  // namespace taupe::io
