#include "taupe/io/csv_tracks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"
#include "taupe/io/ctc.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

bool to_number(const std::string& s, double* v) {
  if (s.empty() || s.size() > 64) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*v);
}

std::int64_t parse_id(const std::string& s, const std::string& where) {
  std::size_t i = 0;
  if (s.empty() || s.size() > 18) throw DataError(where + ": '" + s.substr(0, 20) + "' is not a track id");
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) throw DataError(where + ": '" + s.substr(0, 20) + "' is not a track id");
  return std::stoll(s);
}

/// Default header names of each role (case-insensitive), used when --columns does not name it.
const std::map<std::string, std::vector<std::string>>& synonyms() {
  static const std::map<std::string, std::vector<std::string>> s = {
      {"id", {"id", "track_id", "track"}}, {"t", {"t", "frame"}}, {"x", {"x"}}, {"y", {"y"}},
      {"parent", {"parent"}},             {"fate", {"fate"}}};
  return s;
}

/// Comma-separated if the first non-blank line has a comma, else space/tab-separated.
CsvFormat detect_format(const std::string& text, const std::string& where) {
  CsvFormat fmt;
  std::size_t p = 0;
  while (p < text.size() && (text[p] == '\n' || text[p] == '\r' || text[p] == ' ' || text[p] == '\t')) ++p;
  const std::string first = text.substr(p, text.find('\n', p) - p);
  if (first.empty()) throw DataError(where + ": empty file (expected a header with ID, t, x, y)");
  fmt.whitespace = first.find(',') == std::string::npos;
  return fmt;
}

/// Index of the column called `name`: exact match first, else case-insensitive; -1 if none.
int find_column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return int(i);
  for (std::size_t i = 0; i < header.size(); ++i)
    if (lower(header[i]) == lower(name)) return int(i);
  return -1;
}

/// Column index of each role (-1 = absent).
struct RoleColumns {
  int id = -1, t = -1, x = -1, y = -1, parent = -1, fate = -1;
};

/// The column of `role`: the one --columns names, else the one synonym the header has.
int role_column(const std::vector<std::string>& header, const std::string& role, const std::vector<std::string>& names,
                const CsvColumns& cols, const std::string& where) {
  int c = -1;
  if (auto m = cols.names.find(role); m != cols.names.end()) {
    c = find_column(header, m->second);
    if (c < 0) {
      std::string all;
      for (const auto& h : header) all += (all.empty() ? "" : ", ") + h;
      throw DataError(where + ": line 1: --columns " + role + "=" + m->second + ": no such column (the header has " +
                      all.substr(0, 300) + ")");
    }
    return c;
  }
  for (const auto& n : names) {
    const int k = find_column(header, n);
    if (k < 0) continue;
    if (c >= 0) throw DataError(where + ": line 1: columns '" + header[std::size_t(c)] + "' and '" +
                                header[std::size_t(k)] + "' both give '" + role + "'; pick one with --columns " + role + "=NAME");
    c = k;
  }
  return c;
}

/// The columns of every role; ID, t, x and y are required.
RoleColumns find_role_columns(const std::vector<std::string>& header, const CsvColumns& cols, const std::string& where) {
  std::map<std::string, int> col;
  for (const auto& [role, names] : synonyms()) col[role] = role_column(header, role, names, cols, where);
  for (const char* role : {"id", "t", "x", "y"})
    if (col[role] < 0)
      throw DataError(where + ": line 1: header lacks column '" + std::string(role == std::string("id") ? "ID" : role) +
                      "' (need ID, t, x, y; map other names with --columns " + role + "=NAME)");
  return {col["id"], col["t"], col["x"], col["y"], col["parent"], col["fate"]};
}

/// One data row as a track point (id, frame, position in pixels, parent; a parent equal to the
/// row's own id means none).
TrackPoint parse_point(const std::vector<std::string>& f, const std::vector<std::string>& header, const RoleColumns& c,
                       const std::string& rec, double units_per_pixel) {
  const std::int64_t id = parse_id(f[std::size_t(c.id)], rec + ": column '" + header[std::size_t(c.id)] + "'");
  double t = 0, x = 0, y = 0;
  for (auto [k, out] : {std::pair{c.t, &t}, {c.x, &x}, {c.y, &y}})
    if (!to_number(f[std::size_t(k)], out))
      throw DataError(rec + ": column '" + header[std::size_t(k)] + "': '" + f[std::size_t(k)].substr(0, 20) +
                      "' is not a finite number");
  if (t < 0 || t > 1e7 || std::floor(t) != t)
    throw DataError(rec + ": column '" + header[std::size_t(c.t)] + "': frame must be an integer >= 0");
  std::int64_t parent = 0;
  if (c.parent >= 0) {
    double pv = 0;
    if (!to_number(f[std::size_t(c.parent)], &pv) || pv < 0 || pv > 9e15 || std::floor(pv) != pv)
      throw DataError(rec + ": column '" + header[std::size_t(c.parent)] + "': '" + f[std::size_t(c.parent)].substr(0, 20) +
                      "' is not a track id");
    parent = std::int64_t(pv);
    if (parent == id) parent = 0;
  }
  TrackPoint p;
  p.track_id = id;
  p.t = std::int32_t(t);
  p.x = x / units_per_pixel;
  p.y = y / units_per_pixel;
  p.parent = parent;
  return p;
}

/// Tracks as the rows build them: one row per (track, frame); a track's rows agree on parent
/// and fate.
struct TrackRows {
  TrackSet ts;
  std::map<std::int64_t, std::size_t> index;          ///< track id -> index in ts.tracks
  std::map<std::int64_t, std::string> fate_text;      ///< track id -> its fate column's text
  std::set<std::pair<std::int64_t, std::int32_t>> seen;

  /// Adds point `p` of a row with fate text `fate` (nullptr: no fate column).
  void add(const TrackPoint& p, const std::string* fate, const std::string& rec) {
    const std::int64_t id = p.track_id;
    if (!seen.insert({id, p.t}).second)
      throw DataError(rec + ": track " + std::to_string(id) + " has a second row at frame " + std::to_string(p.t) +
                      " (a division inside one track id? a TrackMate spots table keeps both daughters under one "
                      "TRACK_ID: import the TrackMate XML, which has the edges)");
    auto [it, fresh] = index.emplace(id, ts.tracks.size());
    if (fresh) {
      Track tr;
      tr.id = id;
      tr.start = tr.end = p.t;
      tr.parent = p.parent;
      ts.tracks.push_back(tr);
      if (fate) fate_text[id] = *fate;
    } else {
      Track& tr = ts.tracks[it->second];
      if (tr.parent != p.parent)
        throw DataError(rec + ": track " + std::to_string(id) + ": parent " + std::to_string(p.parent) +
                        " differs from its earlier rows' parent " + std::to_string(tr.parent));
      if (fate && fate_text[id] != *fate)
        throw DataError(rec + ": track " + std::to_string(id) + ": fate '" + *fate +
                        "' differs from its earlier rows' fate '" + fate_text[id] + "'");
      tr.start = std::min(tr.start, p.t);
      tr.end = std::max(tr.end, p.t);
    }
    ts.points.push_back(p);
  }
};

/// Track id 0 (TrackMate counts from 0): every id moves up by one, unless parents refer to ids.
/// Then the fates the fate column gives.
void finish_tracks(TrackRows& rows, bool has_parent_column, const std::string& where, std::vector<std::string>* notes) {
  TrackSet& ts = rows.ts;
  const bool from_zero = rows.index.count(0) > 0;
  if (from_zero) {
    if (has_parent_column)
      throw DataError(where + ": track id 0 with a parent column: 0 means 'no parent' there; number tracks from 1");
    for (Track& tr : ts.tracks) ++tr.id;
    for (TrackPoint& p : ts.points) ++p.track_id;
    if (notes) notes->push_back("track ids start at 0: every id was increased by 1 (taupe ids start at 1)");
  }
  ts.sort_points();
  for (Track& tr : ts.tracks) {
    const std::string& ft = rows.fate_text[from_zero ? tr.id - 1 : tr.id];
    if (!ft.empty()) tr.fate = fate_from_label(ft, {}, where + ": track " + std::to_string(tr.id));
  }
}

}  // namespace

CsvColumns parse_csv_columns(const std::vector<std::string>& items, double units_per_pixel) {
  CsvColumns c;
  c.names = parse_key_values(items, "--columns");
  for (const auto& [k, v] : c.names) {
    if (!synonyms().count(k))
      throw ConfigError("--columns " + k + "=" + v + ": unknown role '" + k + "' (roles: id, t, x, y, parent, fate)");
    if (v.empty()) throw ConfigError("--columns " + k + "=: empty column name");
  }
  if (!(units_per_pixel > 0)) throw ConfigError("--units-per-pixel " + std::to_string(units_per_pixel) + ": must be > 0");
  c.units_per_pixel = units_per_pixel;
  return c;
}

TrackSet parse_tracks_csv(const std::string& text, const std::string& where, const CsvColumns& cols,
                          std::vector<std::string>* notes) {
  const CsvTable table = parse_csv(text, where, detect_format(text, where));
  const auto& header = table.header();
  const RoleColumns c = find_role_columns(header, cols, where);

  TrackRows rows;
  rows.ts.source = where;
  std::size_t extra_header_rows = 0, no_id_rows = 0;
  bool data_seen = false;
  double dummy = 0;
  for (std::size_t r = 0; r < table.size(); ++r) {
    const auto& f = table.rows()[r];
    const std::string rec = where + ": line " + std::to_string(table.line_of(r));
    const std::string& id_text = f[std::size_t(c.id)];
    // TrackMate 7 writes three more header rows (names, short names, units) under the first.
    if (!data_seen && !to_number(id_text, &dummy) && !to_number(f[std::size_t(c.t)], &dummy)) {
      ++extra_header_rows;
      continue;
    }
    data_seen = true;
    if (id_text.empty()) {   // a spot in no track
      ++no_id_rows;
      continue;
    }
    const TrackPoint p = parse_point(f, header, c, rec, cols.units_per_pixel);
    rows.add(p, c.fate >= 0 ? &f[std::size_t(c.fate)] : nullptr, rec);
  }
  if (rows.ts.tracks.empty()) throw DataError(where + ": no rows after the header");
  finish_tracks(rows, c.parent >= 0, where, notes);
  if (notes && extra_header_rows)
    notes->push_back(std::to_string(extra_header_rows) + " further header row(s) under the first skipped");
  if (notes && no_id_rows) notes->push_back(std::to_string(no_id_rows) + " row(s) without a track id (spots in no track) skipped");
  if (notes && cols.units_per_pixel != 1)
    notes->push_back("x, y divided by " + csv_number(cols.units_per_pixel) + " units per pixel");
  return std::move(rows.ts);
}

std::map<std::int64_t, std::int64_t> parse_graph_json(const std::string& text, const std::string& where) {
  std::map<std::int64_t, std::int64_t> out;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) throw DataError(where + ": expected an object {\"child\": [parent]}");
  for (const auto& [key, val] : doc.items()) {
    const std::int64_t child = parse_id(key, where + ": key");
    const nlohmann::json* p = &val;
    if (val.is_array()) {
      if (val.size() != 1) throw DataError(where + ": child " + key + ": expected exactly one parent, found " + std::to_string(val.size()));
      p = &val[0];
    }
    if (!p->is_number_integer() || p->get<std::int64_t>() < 0)
      throw DataError(where + ": child " + key + ": parent must be a non-negative integer");
    out[child] = p->get<std::int64_t>();
  }
  return out;
}

IoSummary import_csv(const CsvImportOptions& opts, const fs::path& out_dir) {
  const std::string where = opts.tracks.string();
  std::vector<std::string> notes;
  TrackSet ts = parse_tracks_csv(read_text_file(opts.tracks), where, opts.columns, &notes);
  if (!opts.graph.empty()) {
    const auto graph = parse_graph_json(read_text_file(opts.graph), opts.graph.string());
    for (const auto& kv : graph) {
      const std::int64_t child = kv.first, parent = kv.second;
      auto it = std::find_if(ts.tracks.begin(), ts.tracks.end(), [&](const Track& t) { return t.id == child; });
      if (it == ts.tracks.end()) throw DataError(opts.graph.string() + ": child " + std::to_string(child) + ": not in " + where);
      it->parent = parent == child ? 0 : parent;
    }
    for (TrackPoint& p : ts.points)
      if (auto g = graph.find(p.track_id); g != graph.end()) p.parent = g->second == p.track_id ? 0 : g->second;
  }
  std::map<std::int64_t, int> children;
  for (const Track& t : ts.tracks)
    if (t.parent) ++children[t.parent];
  std::map<std::int64_t, Fate> table;
  if (!opts.fates.empty()) table = parse_fate_table(read_text_file(opts.fates), opts.fates.string());
  std::set<std::int64_t> ids;
  for (const Track& t : ts.tracks) ids.insert(t.id);
  for (const auto& kv : table)
    if (!ids.count(kv.first)) throw DataError(opts.fates.string() + ": track " + std::to_string(kv.first) + ": not in " + where);
  for (Track& t : ts.tracks) {
    if (auto f = table.find(t.id); f != table.end()) t.fate = f->second;
    else if (t.fate == Fate::kCensored && children[t.id] >= 2) t.fate = Fate::kMitosis;
  }
  ts.validate(where);
  if (opts.movie.empty()) {
    if (!opts.segmentation.empty())
      throw ConfigError("--segmentation " + opts.segmentation.string() + ": needs --movie (tracks alone carry no images)");
    MovieImportOptions mo = opts.movie_opts;
    if (mo.name.empty()) mo.name = opts.tracks.stem().string();
    IoSummary sum = write_tracks_dataset(std::move(ts), mo, out_dir, "import csv");
    sum.notes.insert(sum.notes.begin(), notes.begin(), notes.end());
    return sum;
  }
  auto frames = tiff_stack_frames(opts.movie);
  std::unique_ptr<LabelSource> labels;
  if (!opts.segmentation.empty()) labels = tiff_stack_labels(opts.segmentation);
  MovieImportOptions mo = opts.movie_opts;
  if (mo.name.empty()) mo.name = opts.movie.stem().string();
  IoSummary sum = write_movie_dataset(*frames, labels.get(), std::move(ts), PointLabels::kFromPosition, mo, out_dir, "import csv");
  sum.notes.insert(sum.notes.begin(), notes.begin(), notes.end());
  return sum;
}

CsvTable napari_tracks_table(const TrackSet& ts) {
  std::map<std::int64_t, const Track*> by_id;
  for (const Track& t : ts.tracks) by_id[t.id] = &t;
  CsvTable csv({"ID", "t", "y", "x", "parent", "fate", "label"});
  for (const TrackPoint& p : ts.points) {
    const auto it = by_id.find(p.track_id);
    const Track* t = it != by_id.end() ? it->second : nullptr;
    csv.add_row({cell(static_cast<long long>(p.track_id)), cell(p.t), cell(p.y), cell(p.x),
                 cell(static_cast<long long>(t ? t->parent : p.parent)), t ? to_string(t->fate) : std::string("censored"),
                 cell(static_cast<unsigned long>(p.label))});
  }
  return csv;
}

nlohmann::json napari_graph(const TrackSet& ts) {
  nlohmann::json graph = nlohmann::json::object();
  for (const Track& t : ts.tracks)
    if (t.parent) graph[std::to_string(t.id)] = {t.parent};
  return graph;
}

IoSummary export_tracks_csv(const fs::path& tracks, const fs::path& out_dir, bool overwrite) {
  const TrackSet ts = read_tracks(tracks);
  check_output(out_dir / "tracks.csv", overwrite);
  const CsvTable csv = napari_tracks_table(ts);
  const nlohmann::json graph = napari_graph(ts);
  write_csv(out_dir / "tracks.csv", csv);
  write_text_atomic(out_dir / "graph.json", graph.dump(2) + "\n");
  IoSummary s;
  s.what = "export tracks";
  s.outputs = {out_dir / "tracks.csv", out_dir / "graph.json"};
  s.counts["tracks"] = ts.tracks.size();
  s.counts["points"] = ts.points.size();
  return s;
}

}  // namespace taupe::io
