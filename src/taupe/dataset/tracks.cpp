#include "taupe/dataset/tracks.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "taupe/core/errors.h"
#include "taupe/dataset/detail.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {

const h5::FormatTag kTag{"taupe.tracks", 1};

std::string track_str(const Track& t) {
  return "track " + std::to_string(t.id) + " [" + std::to_string(t.start) + ", " + std::to_string(t.end) +
         "] parent " + std::to_string(t.parent);
}

std::string point_str(const TrackPoint& p, std::size_t row) {
  return "point row " + std::to_string(row) + " (track " + std::to_string(p.track_id) + ", t " +
         std::to_string(p.t) + ")";
}

}  // namespace

std::ptrdiff_t TrackSet::find(std::int64_t id) const {
  for (std::size_t i = 0; i < tracks.size(); ++i)
    if (tracks[i].id == id) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

void TrackSet::sort_points() {
  std::stable_sort(points.begin(), points.end(), [](const TrackPoint& a, const TrackPoint& b) {
    return a.track_id != b.track_id ? a.track_id < b.track_id : a.t < b.t;
  });
}

namespace {

using TrackIndex = std::unordered_map<std::int64_t, std::size_t>;

/// Per-record rules (ids positive and unique, frames, fate and type codes, event onset);
/// returns the index of every track id.
TrackIndex check_track_records(const std::vector<Track>& tracks, const std::string& where) {
  TrackIndex index;
  index.reserve(tracks.size());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const Track& t = tracks[i];
    if (t.id <= 0) throw DataError(where + ": " + track_str(t) + ": track ids must be > 0");
    if (!index.emplace(t.id, i).second)
      throw DataError(where + ": " + track_str(t) + ": duplicate track id (ids must be unique)");
    if (t.start > t.end) throw DataError(where + ": " + track_str(t) + ": start must be <= end");
    if (t.start < 0) throw DataError(where + ": " + track_str(t) + ": start must be >= 0");
    detail::fate_from_code(static_cast<std::int8_t>(t.fate), where + ": " + track_str(t));
    detail::cell_type_from_code(static_cast<std::int8_t>(t.type), where + ": " + track_str(t));
    if (t.event_onset != -1 && (t.event_onset < t.start || t.event_onset > t.end))
      throw DataError(where + ": " + track_str(t) + ": event_onset " + std::to_string(t.event_onset) +
                      " must be -1 (unknown) or within [start, end]");
  }
  return index;
}

/// Every parent exists and no track is its own parent.
void check_parents_exist(const std::vector<Track>& tracks, const TrackIndex& index, const std::string& where) {
  for (const Track& t : tracks) {
    if (t.parent == 0) continue;
    if (t.parent == t.id)
      throw DataError(where + ": " + track_str(t) + ": lineage cycle (track is its own parent; roots have parent 0)");
    if (!index.count(t.parent))
      throw DataError(where + ": " + track_str(t) + ": parent " + std::to_string(t.parent) +
                      " does not exist (0 = root)");
  }
}

/// No cycles: follow parents; a chain longer than the number of tracks loops.
void check_no_cycles(const std::vector<Track>& tracks, const TrackIndex& index, const std::string& where) {
  std::vector<int> state(tracks.size(), 0);  // 0 unvisited, 1 on current path, 2 done
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    std::vector<std::size_t> path;
    std::size_t k = i;
    while (true) {
      if (state[k] == 2) break;
      if (state[k] == 1) {
        std::string chain;
        for (std::size_t j = 0; j < path.size(); ++j) chain += std::to_string(tracks[path[j]].id) + " -> ";
        chain += std::to_string(tracks[k].id);
        throw DataError(where + ": track " + std::to_string(tracks[k].id) + ": lineage cycle (" + chain +
                        "): parent links must form a forest");
      }
      state[k] = 1;
      path.push_back(k);
      if (tracks[k].parent == 0) break;
      k = index.at(tracks[k].parent);
    }
    for (std::size_t j : path) state[j] = 2;
  }
}

/// Children start after their parent ends.
void check_children_follow_parents(const std::vector<Track>& tracks, const TrackIndex& index, const std::string& where) {
  for (const Track& t : tracks) {
    if (t.parent == 0) continue;
    const Track& p = tracks[index.at(t.parent)];
    if (t.start <= p.end)
      throw DataError(where + ": " + track_str(t) + ": starts at frame " + std::to_string(t.start) +
                      ", not after its parent " + std::to_string(p.id) + " ends (frame " + std::to_string(p.end) + ")");
  }
}

/// Points: of an existing track, within its frames, with its parent, finite, sorted by
/// (track_id, t) and one per track and frame.
void check_points(const std::vector<TrackPoint>& points, const std::vector<Track>& tracks, const TrackIndex& index,
                  const std::string& where) {
  for (std::size_t r = 0; r < points.size(); ++r) {
    const TrackPoint& pt = points[r];
    const auto it = index.find(pt.track_id);
    if (it == index.end())
      throw DataError(where + ": " + point_str(pt, r) + ": track " + std::to_string(pt.track_id) + " does not exist");
    const Track& t = tracks[it->second];
    if (pt.t < t.start || pt.t > t.end)
      throw DataError(where + ": " + point_str(pt, r) + ": t outside the track's [start, end] = [" +
                      std::to_string(t.start) + ", " + std::to_string(t.end) + "]");
    if (pt.parent != t.parent)
      throw DataError(where + ": " + point_str(pt, r) + ": parent " + std::to_string(pt.parent) +
                      " differs from the track's parent " + std::to_string(t.parent));
    if (!std::isfinite(pt.x) || !std::isfinite(pt.y))
      throw DataError(where + ": " + point_str(pt, r) + ": coordinates must be finite");
    if (r > 0) {
      const TrackPoint& q = points[r - 1];
      if (q.track_id > pt.track_id || (q.track_id == pt.track_id && q.t > pt.t))
        throw DataError(where + ": " + point_str(pt, r) + ": points must be sorted by (track_id, t) (TrackSet::sort_points)");
      if (q.track_id == pt.track_id && q.t == pt.t)
        throw DataError(where + ": " + point_str(pt, r) + ": duplicate point (one point per track and frame)");
    }
  }
}

}  // namespace

void TrackSet::validate(const std::string& where) const {
  const TrackIndex index = check_track_records(tracks, where);
  check_parents_exist(tracks, index, where);
  check_no_cycles(tracks, index, where);
  check_children_follow_parents(tracks, index, where);
  check_points(points, tracks, index, where);
}

void write_tracks(const fs::path& path, const TrackSet& ts) {
  ts.validate(path.string());
  const hsize_t n = ts.tracks.size(), p = ts.points.size();
  std::vector<std::int64_t> id(n), parent(n);
  std::vector<std::int32_t> start(n), end(n), onset(n);
  std::vector<std::int8_t> fate(n), type(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Track& t = ts.tracks[i];
    id[i] = t.id;
    parent[i] = t.parent;
    start[i] = t.start;
    end[i] = t.end;
    onset[i] = t.event_onset;
    fate[i] = static_cast<std::int8_t>(t.fate);
    type[i] = static_cast<std::int8_t>(t.type);
  }
  std::vector<std::int64_t> ptrack(p), pparent(p);
  std::vector<std::int32_t> pt(p);
  std::vector<double> px(p), py(p);
  std::vector<std::uint32_t> plabel(p);
  for (std::size_t i = 0; i < p; ++i) {
    const TrackPoint& q = ts.points[i];
    ptrack[i] = q.track_id;
    pparent[i] = q.parent;
    pt[i] = q.t;
    px[i] = q.x;
    py[i] = q.y;
    plabel[i] = q.label;
  }
  h5::AtomicFile af(path, kTag);
  H5::H5File& f = af.file();
  const int z = detail::kGzipLevel;
  h5::write_attr(f, "source", ts.source);
  H5::Group g = h5::group(f, "tracks");
  h5::write(g, "id", id, {n}, 0, z);
  h5::write(g, "start", start, {n}, 0, z);
  h5::write(g, "end", end, {n}, 0, z);
  h5::write(g, "parent", parent, {n}, 0, z);
  h5::write(g, "fate", fate, {n}, 0, z);
  h5::write(g, "type", type, {n}, 0, z);
  h5::write(g, "event_onset", onset, {n}, 0, z);
  H5::Group q = h5::group(f, "points");
  h5::write(q, "track_id", ptrack, {p}, 0, z);
  h5::write(q, "t", pt, {p}, 0, z);
  h5::write(q, "x", px, {p}, 0, z);
  h5::write(q, "y", py, {p}, 0, z);
  h5::write(q, "parent", pparent, {p}, 0, z);
  h5::write(q, "label", plabel, {p}, 0, z);
  af.commit();
}

TrackSet read_tracks(const fs::path& path) {
  const std::string file = path.string();
  H5::H5File f = h5::open(path, kTag);
  TrackSet ts;
  ts.source = h5::read_attr_string(f, "source");
  const H5::Group g = h5::open_group(f, "tracks");
  const auto id = h5::read<std::int64_t>(g, "id", nullptr, {-1});
  const long long n = static_cast<long long>(id.size());
  const auto start = h5::read<std::int32_t>(g, "start", nullptr, {n});
  const auto end = h5::read<std::int32_t>(g, "end", nullptr, {n});
  const auto parent = h5::read<std::int64_t>(g, "parent", nullptr, {n});
  const auto fate = h5::read<std::int8_t>(g, "fate", nullptr, {n});
  const auto type = h5::read<std::int8_t>(g, "type", nullptr, {n});
  const auto onset = h5::read<std::int32_t>(g, "event_onset", nullptr, {n});
  const H5::Group q = h5::open_group(f, "points");
  const auto ptrack = h5::read<std::int64_t>(q, "track_id", nullptr, {-1});
  const long long p = static_cast<long long>(ptrack.size());
  const auto pt = h5::read<std::int32_t>(q, "t", nullptr, {p});
  const auto px = h5::read<double>(q, "x", nullptr, {p});
  const auto py = h5::read<double>(q, "y", nullptr, {p});
  const auto pparent = h5::read<std::int64_t>(q, "parent", nullptr, {p});
  const auto plabel = h5::read<std::uint32_t>(q, "label", nullptr, {p});
  ts.tracks.resize(id.size());
  for (std::size_t i = 0; i < id.size(); ++i) {
    Track& t = ts.tracks[i];
    const std::string where = file + ": dataset '/tracks' row " + std::to_string(i);
    t.id = id[i];
    t.start = start[i];
    t.end = end[i];
    t.parent = parent[i];
    t.fate = detail::fate_from_code(fate[i], where);
    t.type = detail::cell_type_from_code(type[i], where);
    t.event_onset = onset[i];
  }
  ts.points.resize(ptrack.size());
  for (std::size_t i = 0; i < ptrack.size(); ++i) {
    TrackPoint& r = ts.points[i];
    r.track_id = ptrack[i];
    r.t = pt[i];
    r.x = px[i];
    r.y = py[i];
    r.parent = pparent[i];
    r.label = plabel[i];
  }
  ts.validate(file);
  return ts;
}

}  // namespace taupe
