#pragma once
// Track points find their cell in a movie's segmentation: the label under the point, else the
// nearest labelled pixel within a snap radius. Used by the movie importers while they write a
// movie, and by `taupe extract` to join a tracks file imported without a movie (points with
// label 0, tracks of unknown cell type) with a movie later.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "taupe/dataset/tracks.h"

namespace taupe {

class MovieReader;

/// A point on background takes the nearest label within this many pixels.
inline constexpr double kLabelSnapRadiusPx = 4.0;

/// Label of the (h, w) label image at (x = column, y = row), or of the nearest labelled pixel
/// within `radius` (ties: first in row-major order); 0 if none.
std::uint32_t label_near(const std::vector<std::uint32_t>& labels, int h, int w, double x, double y, double radius);

/// Per-track votes of the cell types of its points' labels.
using TypeVotes = std::map<std::int64_t, std::map<CellType, std::size_t>>;
/// Every track of unknown type takes its majority vote (unknown types never win).
void assign_track_types(TrackSet& tracks, const TypeVotes& votes);

struct JoinCounts {
  std::size_t labelled = 0;    ///< points that found a label
  std::size_t unmatched = 0;   ///< points on background (label 0 kept)
};

/// Gives every point with label 0 the label under it in `movie` (label_near) and every track
/// of unknown type the majority type of its labels. DataError naming `where`, track and frame
/// when a track lies outside the movie's frames or field. Points that already have a label are
/// left alone; frames without unlabelled points are not read.
JoinCounts join_tracks_with_movie(TrackSet& tracks, const MovieReader& movie, const std::string& where,
                                  double radius = kLabelSnapRadiusPx);

}  // namespace taupe
