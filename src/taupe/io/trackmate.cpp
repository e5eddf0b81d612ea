#include "taupe/io/trackmate.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_map>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/io/ctc.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

/// Line number of a byte offset (1-based).
std::size_t line_of(const std::string& text, std::ptrdiff_t offset) {
  const auto end = text.begin() + std::clamp<std::ptrdiff_t>(offset, 0, std::ptrdiff_t(text.size()));
  return std::size_t(std::count(text.begin(), end, '\n')) + 1;
}

double number_attr(const pugi::xml_node& n, const char* name, const std::string& w, bool required = true,
                   double fallback = 0) {
  const pugi::xml_attribute a = n.attribute(name);
  if (!a) {
    if (required) throw DataError(w + ": attribute " + name + " missing");
    return fallback;
  }
  const char* s = a.value();
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || !std::isfinite(v))
    throw DataError(w + ": attribute " + name + " = '" + std::string(s).substr(0, 30) + "' is not a finite number");
  return v;
}

std::int64_t id_attr(const pugi::xml_node& n, const char* name, const std::string& w) {
  const double v = number_attr(n, name, w);
  if (std::floor(v) != v || std::fabs(v) > 9.0e15)
    throw DataError(w + ": attribute " + name + " = '" + n.attribute(name).value() + "' is not an integer id");
  return std::int64_t(v);
}

struct Spot {
  std::int32_t frame = 0;
  double x = 0, y = 0;
};
using SpotMap = std::unordered_map<std::int64_t, Spot>;

/// A run of spots between divisions: one taupe track.
struct Chain {
  std::int64_t tm_track = 0, first_spot = 0;
  std::vector<std::int64_t> spots;
  std::int64_t parent_chain = -1;   // index into chains
  int children = 0;
};

/// Successors and predecessors of every spot a track's edges touch (edges point forward in time).
struct TrackGraph {
  std::map<std::int64_t, std::vector<std::int64_t>> succ, pred;
};

/// Image size, frame interval and pixel calibration: --pixel-size, else ImageData.
void read_calibration(const pugi::xml_node& root, const std::string& where, const TrackMateReadOptions& opts,
                      TrackMateData& out) {
  const pugi::xml_node image = root.child("Settings").child("ImageData");
  const std::string iw = where + ": TrackMate/Settings/ImageData";
  if (image) {
    auto count = [&](const char* name) {   // an image size: integer in [0, 1e7]
      const double v = number_attr(image, name, iw, false, 0);
      if (v < 0 || v > 1e7 || std::floor(v) != v)
        throw DataError(iw + ": attribute " + name + " = '" + std::string(image.attribute(name).value()).substr(0, 30) +
                        "' is not an image size (integer in [0, 1e7])");
      return int(v);
    };
    out.width = count("width");
    out.height = count("height");
    out.frames = count("nframes");
    out.frame_interval = number_attr(image, "timeinterval", iw, false, 0);
  }
  if (opts.pixel_size > 0) {
    out.pixel_width = out.pixel_height = opts.pixel_size;
  } else if (image && image.attribute("pixelwidth")) {
    out.pixel_width = number_attr(image, "pixelwidth", iw);
    out.pixel_height = number_attr(image, "pixelheight", iw, false, out.pixel_width);
    if (!(out.pixel_width > 0) || !(out.pixel_height > 0))
      throw DataError(iw + ": pixelwidth/pixelheight must be > 0 (give --xml-pixel-size)");
  } else if (out.spatial_units != "pixel" && out.spatial_units != "pixels") {
    throw DataError(iw + ": no pixelwidth to turn " + (out.spatial_units.empty() ? "positions" : out.spatial_units) +
                    " into pixels; give --xml-pixel-size");
  }
}

/// Every spot of AllSpots by ID, its position in pixels.
SpotMap read_spots(const pugi::xml_node& model, const std::string& text, const std::string& where,
                   const TrackMateData& out) {
  const pugi::xml_node all_spots = model.child("AllSpots");
  if (!all_spots) throw DataError(where + ": TrackMate/Model/AllSpots: element missing");
  SpotMap spots;
  for (const pugi::xml_node frame : all_spots.children("SpotsInFrame"))
    for (const pugi::xml_node s : frame.children("Spot")) {
      const std::string sw = where + ": Spot " + (s.attribute("ID") ? std::string(s.attribute("ID").value()) : "?") +
                             " (line " + std::to_string(line_of(text, s.offset_debug())) + ")";
      const std::int64_t id = id_attr(s, "ID", sw);
      Spot sp;
      const double f = number_attr(s, "FRAME", sw);
      if (f < 0 || f > 1e7 || std::floor(f) != f) throw DataError(sw + ": FRAME must be an integer >= 0");
      sp.frame = std::int32_t(f);
      sp.x = number_attr(s, "POSITION_X", sw) / out.pixel_width;
      sp.y = number_attr(s, "POSITION_Y", sw) / out.pixel_height;
      if (!spots.emplace(id, sp).second) throw DataError(sw + ": spot ID appears twice");
    }
  return spots;
}

/// The Track elements of AllTracks by TRACK_ID (each ID once).
std::map<std::int64_t, pugi::xml_node> tracks_by_id(const pugi::xml_node& model, const std::string& text,
                                                    const std::string& where) {
  std::map<std::int64_t, pugi::xml_node> out;
  for (const pugi::xml_node t : model.child("AllTracks").children("Track")) {
    const std::string tw = where + ": Track '" + t.attribute("name").value() + "' (line " +
                           std::to_string(line_of(text, t.offset_debug())) + ")";
    const std::int64_t tid = id_attr(t, "TRACK_ID", tw);
    if (!out.emplace(tid, t).second) throw DataError(tw + ": TRACK_ID " + std::to_string(tid) + " appears twice");
  }
  return out;
}

/// A track's edges as a forward graph; refuses unknown spots, edges within a frame and merges.
TrackGraph read_edges(const pugi::xml_node& t, const std::string& text, const std::string& tw, const SpotMap& spots) {
  TrackGraph g;
  for (const pugi::xml_node e : t.children("Edge")) {
    const std::string ew = tw + ": Edge (line " + std::to_string(line_of(text, e.offset_debug())) + ")";
    std::int64_t a = id_attr(e, "SPOT_SOURCE_ID", ew), b = id_attr(e, "SPOT_TARGET_ID", ew);
    const auto ia = spots.find(a), ib = spots.find(b);
    if (ia == spots.end() || ib == spots.end())
      throw DataError(ew + ": spot " + std::to_string(ia == spots.end() ? a : b) + " is not in AllSpots");
    if (ia->second.frame == ib->second.frame)
      throw DataError(ew + ": spots " + std::to_string(a) + " and " + std::to_string(b) + " are both in frame " +
                      std::to_string(ia->second.frame) + " (an edge must join different frames)");
    if (ia->second.frame > ib->second.frame) std::swap(a, b);
    g.succ[a].push_back(b);
    g.pred[b].push_back(a);
    g.succ.try_emplace(b);
    g.pred.try_emplace(a);
  }
  for (const auto& [s, p] : g.pred)
    if (p.size() > 1)
      throw DataError(tw + ": spot " + std::to_string(s) + " at frame " + std::to_string(spots.at(s).frame) + " has " +
                      std::to_string(p.size()) + " predecessors (a merge); taupe needs lineage trees");
  return g;
}

/// Cuts a track's graph into chains at divisions: from each root (no predecessor) in spot-id
/// order, breadth-first; daughters start new chains in spot-id order.
void walk_chains(std::int64_t tid, TrackGraph& g, const std::string& tw, std::set<std::int64_t>& used_spots,
                 std::vector<Chain>& chains, TrackMateData& out) {
  std::vector<std::pair<std::int64_t, std::int64_t>> chain_starts;   // (start spot, parent chain index)
  for (const auto& [s, p] : g.pred)
    if (p.empty()) chain_starts.emplace_back(s, -1);
  if (chain_starts.empty()) throw DataError(tw + ": edges form a cycle");
  for (std::size_t k = 0; k < chain_starts.size(); ++k) {
    Chain c;
    c.tm_track = tid;
    c.first_spot = chain_starts[k].first;
    c.parent_chain = chain_starts[k].second;
    std::int64_t s = chain_starts[k].first;
    for (;;) {
      if (!used_spots.insert(s).second) throw DataError(tw + ": spot " + std::to_string(s) + " is reached twice");
      c.spots.push_back(s);
      const auto& next = g.succ[s];
      if (next.size() == 1) {
        s = next[0];
        continue;
      }
      if (next.size() >= 2) {
        ++out.divisions;
        c.children = int(next.size());
        std::vector<std::int64_t> kids = next;
        std::sort(kids.begin(), kids.end());
        for (std::int64_t kid : kids) chain_starts.emplace_back(kid, std::int64_t(chains.size()));
      }
      break;
    }
    chains.push_back(std::move(c));
  }
}

/// Each (filtered) TrackMate track -> chains of spots cut at divisions.
std::vector<Chain> read_chains(const pugi::xml_node& model, const std::string& text, const std::string& where,
                               const SpotMap& spots, TrackMateData& out) {
  // Which tracks: FilteredTracks if present.
  std::set<std::int64_t> filtered;
  const pugi::xml_node filt = model.child("FilteredTracks");
  for (const pugi::xml_node t : filt.children("TrackID"))
    filtered.insert(id_attr(t, "TRACK_ID", where + ": FilteredTracks/TrackID"));
  std::vector<Chain> chains;
  std::set<std::int64_t> used_spots;
  for (const auto& [tid, t] : tracks_by_id(model, text, where)) {
    if (filt && !filtered.count(tid)) continue;
    const std::string tw = where + ": Track '" + t.attribute("name").value() + "' (TRACK_ID " + std::to_string(tid) + ")";
    TrackGraph g = read_edges(t, text, tw, spots);
    if (g.succ.empty()) continue;
    ++out.trackmate_tracks;
    walk_chains(tid, g, tw, used_spots, chains, out);
  }
  if (chains.empty()) throw DataError(where + ": TrackMate/Model/AllTracks: no track with an edge");
  out.spots_outside_tracks = spots.size() - used_spots.size();
  return chains;
}

/// Chains -> taupe tracks. Ids: order by (TRACK_ID, start frame, first spot id); parents refer to ids.
void fill_track_set(const std::vector<Chain>& chains, const SpotMap& spots, const std::string& where, TrackSet& ts) {
  std::vector<std::size_t> order(chains.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Chain &ca = chains[a], &cb = chains[b];
    const auto fa = spots.at(ca.first_spot).frame, fb = spots.at(cb.first_spot).frame;
    return std::tie(ca.tm_track, fa, ca.first_spot) < std::tie(cb.tm_track, fb, cb.first_spot);
  });
  std::vector<std::int64_t> id_of(chains.size());
  for (std::size_t k = 0; k < order.size(); ++k) id_of[order[k]] = std::int64_t(k) + 1;
  ts.source = where;
  for (std::size_t k : order) {
    const Chain& c = chains[k];
    Track tr;
    tr.id = id_of[k];
    tr.parent = c.parent_chain >= 0 ? id_of[std::size_t(c.parent_chain)] : 0;
    tr.fate = c.children >= 2 ? Fate::kMitosis : Fate::kCensored;
    tr.start = spots.at(c.spots.front()).frame;
    tr.end = spots.at(c.spots.back()).frame;
    for (std::int64_t s : c.spots) {
      const Spot& sp = spots.at(s);
      TrackPoint p;
      p.track_id = tr.id;
      p.t = sp.frame;
      p.x = sp.x;
      p.y = sp.y;
      p.parent = tr.parent;
      ts.points.push_back(p);
    }
    ts.tracks.push_back(tr);
  }
  ts.sort_points();
  ts.validate(where);
}

}  // namespace

TrackMateData parse_trackmate_xml(const std::string& text, const std::string& where, const TrackMateReadOptions& opts) {
  pugi::xml_document doc;
  const pugi::xml_parse_result res = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto);
  if (!res)
    throw DataError(where + ": line " + std::to_string(line_of(text, res.offset)) + ": not well-formed XML: " +
                    res.description());
  const pugi::xml_node root = doc.child("TrackMate");
  if (!root) throw DataError(where + ": no <TrackMate> root element (not a TrackMate XML file)");
  TrackMateData out;
  out.version = root.attribute("version").value();
  const pugi::xml_node model = root.child("Model");
  if (!model) throw DataError(where + ": TrackMate/Model: element missing");
  out.spatial_units = model.attribute("spatialunits").value();
  out.time_units = model.attribute("timeunits").value();
  read_calibration(root, where, opts, out);
  const SpotMap spots = read_spots(model, text, where, out);
  const std::vector<Chain> chains = read_chains(model, text, where, spots, out);
  fill_track_set(chains, spots, where, out.tracks);
  return out;
}

IoSummary import_trackmate(const TrackMateImportOptions& opts, const fs::path& out_dir) {
  const std::string where = opts.xml.string();
  TrackMateData d = parse_trackmate_xml(read_text_file(opts.xml), where, opts.read);
  if (!opts.fates.empty()) {
    const auto table = parse_fate_table(read_text_file(opts.fates), opts.fates.string());
    for (const auto& [id, fate] : table) {
      const std::ptrdiff_t k = d.tracks.find(id);
      if (k < 0) throw DataError(opts.fates.string() + ": track " + std::to_string(id) + ": not in " + where);
      Track& t = d.tracks.tracks[std::size_t(k)];
      if (t.fate == Fate::kMitosis && fate != Fate::kMitosis)
        throw DataError(opts.fates.string() + ": track " + std::to_string(id) + ": fate " + to_string(fate) +
                        " contradicts its division in " + where);
      t.fate = fate;
    }
  }
  MovieImportOptions mo = opts.movie_opts;
  if (mo.name.empty()) mo.name = opts.xml.stem().string();
  if (mo.frame_interval_min <= 0 && d.frame_interval > 0) {
    if (d.time_units == "sec" || d.time_units == "s") mo.frame_interval_min = d.frame_interval / 60.0;
    else if (d.time_units == "min") mo.frame_interval_min = d.frame_interval;
  }
  IoSummary s;
  if (opts.movie.empty()) {
    if (!opts.segmentation.empty())
      throw ConfigError("--segmentation " + opts.segmentation.string() + ": needs --movie (tracks alone carry no images)");
    s = write_tracks_dataset(std::move(d.tracks), mo, out_dir, "import trackmate");
  } else {
    auto frames = tiff_stack_frames(opts.movie);
    std::unique_ptr<LabelSource> labels;
    if (!opts.segmentation.empty()) labels = tiff_stack_labels(opts.segmentation);
    s = write_movie_dataset(*frames, labels.get(), std::move(d.tracks), PointLabels::kFromPosition, mo, out_dir,
                            "import trackmate");
  }
  s.counts["TrackMate tracks"] = d.trackmate_tracks;
  s.counts["divisions"] = d.divisions;
  s.notes.insert(s.notes.begin(), "TrackMate " + d.version + ": positions in " + d.spatial_units + " divided by " +
                                      std::to_string(d.pixel_width) + " per pixel");
  if (d.spots_outside_tracks)
    s.notes.push_back(std::to_string(d.spots_outside_tracks) + " spot(s) belong to no (filtered) track: not imported");
  return s;
}

}  // namespace taupe::io
