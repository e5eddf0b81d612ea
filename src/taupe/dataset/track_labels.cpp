#include "taupe/dataset/track_labels.h"

#include <cmath>

#include "taupe/core/errors.h"
#include "taupe/dataset/movie.h"

namespace taupe {

std::uint32_t label_near(const std::vector<std::uint32_t>& lab, int h, int w, double x, double y, double radius) {
  const int xi = int(std::lround(x)), yi = int(std::lround(y));
  if (xi >= 0 && yi >= 0 && xi < w && yi < h && lab[std::size_t(yi) * std::size_t(w) + std::size_t(xi)])
    return lab[std::size_t(yi) * std::size_t(w) + std::size_t(xi)];
  const int r = int(std::ceil(radius));
  double best = radius * radius + 1e-9;
  std::uint32_t out = 0;
  for (int yy = yi - r; yy <= yi + r; ++yy)
    for (int xx = xi - r; xx <= xi + r; ++xx) {
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const std::uint32_t l = lab[std::size_t(yy) * std::size_t(w) + std::size_t(xx)];
      const double d = (xx - x) * (xx - x) + (yy - y) * (yy - y);
      if (l && d < best) {
        best = d;
        out = l;
      }
    }
  return out;
}

void assign_track_types(TrackSet& tracks, const TypeVotes& votes) {
  for (Track& tr : tracks.tracks) {
    if (tr.type != CellType::kUnknown) continue;
    const auto it = votes.find(tr.id);
    if (it == votes.end()) continue;
    std::size_t best = 0;
    for (const auto& [type, n] : it->second)
      if (type != CellType::kUnknown && n > best) {
        best = n;
        tr.type = type;
      }
  }
}

JoinCounts join_tracks_with_movie(TrackSet& tracks, const MovieReader& movie, const std::string& where, double radius) {
  const MovieInfo& mi = movie.info();
  const std::string mw = movie.path().string();
  std::vector<std::vector<std::size_t>> at_frame(std::size_t(mi.frames));
  for (std::size_t i = 0; i < tracks.points.size(); ++i) {
    const TrackPoint& p = tracks.points[i];
    if (p.t < 0 || p.t >= mi.frames)
      throw DataError(where + ": track " + std::to_string(p.track_id) + " frame " + std::to_string(p.t) +
                      ": outside the movie " + mw + " (" + std::to_string(mi.frames) + " frames)");
    if (!(p.x >= -0.5 && p.y >= -0.5 && p.x <= mi.width - 0.5 && p.y <= mi.height - 0.5))
      throw DataError(where + ": track " + std::to_string(p.track_id) + " frame " + std::to_string(p.t) +
                      ": position (x " + std::to_string(p.x) + ", y " + std::to_string(p.y) + ") lies outside the " +
                      std::to_string(mi.width) + " x " + std::to_string(mi.height) + " movie " + mw +
                      " (x = column, y = row)");
    if (p.label == 0) at_frame[std::size_t(p.t)].push_back(i);
  }
  bool unknown_types = false;
  for (const Track& t : tracks.tracks) unknown_types = unknown_types || t.type == CellType::kUnknown;
  JoinCounts n;
  TypeVotes votes;
  for (int t = 0; t < mi.frames; ++t) {
    if (at_frame[std::size_t(t)].empty()) continue;
    const MovieFrame f = movie.read(t);
    for (std::size_t idx : at_frame[std::size_t(t)]) {
      TrackPoint& p = tracks.points[idx];
      p.label = label_near(f.labels, mi.height, mi.width, p.x, p.y, radius);
      if (!p.label) {
        ++n.unmatched;
        continue;
      }
      ++n.labelled;
      if (unknown_types) {
        const auto it = f.label_types.find(p.label);
        ++votes[p.track_id][it == f.label_types.end() ? CellType::kUnknown : it->second];
      }
    }
  }
  assign_track_types(tracks, votes);
  return n;
}

}  // namespace taupe
