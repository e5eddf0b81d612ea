#pragma once
// Tracks container ("taupe.tracks" v1): one row per cell per frame plus a per-track table.
// Coordinates in pixels of the movie (x = column, y = row). See docs/formats.md.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe {

struct TrackPoint {
  std::int64_t track_id = 0;
  std::int32_t t = 0;
  double x = 0, y = 0;
  std::int64_t parent = 0;     ///< parent track id, 0 = none (root)
  std::uint32_t label = 0;     ///< instance label in the movie's mask at frame t (0 = none)
};

struct Track {
  std::int64_t id = 0;         ///< > 0, unique
  std::int32_t start = 0, end = 0;  ///< first and last frame (inclusive)
  std::int64_t parent = 0;     ///< 0 = root
  Fate fate = Fate::kCensored;
  CellType type = CellType::kUnknown;
  /// Frame at which the fate's morphology first becomes visible (mitotic condensation or
  /// pyknosis); -1 if unknown (real data: extraction then uses end - lead_frames).
  std::int32_t event_onset = -1;
};

struct TrackSet {
  std::vector<Track> tracks;
  std::vector<TrackPoint> points;   ///< sorted by (track_id, t)
  std::string source;               ///< provenance, e.g. "simulate fov 3" or "btrack:file.h5"

  /// Checks ids unique and > 0, parents exist (0 = root), start <= end, no lineage cycles,
  /// children start after their parent ends, every point's track exists with t in
  /// [start, end] and the track's parent, points sorted by (track_id, t) with one point per
  /// track and frame, coordinates finite. Throws DataError naming `where`, the record and
  /// the rule.
  void validate(const std::string& where) const;
  /// Sorts `points` by (track_id, t) (stable), as validate() requires.
  void sort_points();
  /// Index of the track with this id in `tracks`, or -1.
  std::ptrdiff_t find(std::int64_t id) const;
};

void write_tracks(const std::filesystem::path& path, const TrackSet& tracks);
TrackSet read_tracks(const std::filesystem::path& path);

}  // namespace taupe
