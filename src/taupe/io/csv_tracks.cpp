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
#include "taupe/io/ctc.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

std::vector<std::string> split_fields(const std::string& line, bool comma) {
  std::vector<std::string> out;
  if (comma) {
    std::string cur;
    for (char c : line) {
      if (c == ',') { out.push_back(cur); cur.clear(); }
      else if (c != '\r') cur += c;
    }
    out.push_back(cur);
    for (auto& f : out) {   // trim spaces and optional quotes
      while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.erase(f.begin());
      while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.pop_back();
      if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    }
  } else {
    std::istringstream in(line);
    std::string f;
    while (in >> f) out.push_back(f);
  }
  return out;
}

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

}  // namespace

TrackSet parse_tracks_csv(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::vector<std::string> header;
  bool comma = true;
  while (header.empty() && std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    comma = line.find(',') != std::string::npos;
    header = split_fields(line, comma);
  }
  if (header.empty()) throw DataError(where + ": empty file (expected a header with ID, t, x, y)");
  int c_id = -1, c_t = -1, c_x = -1, c_y = -1, c_parent = -1, c_fate = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = lower(header[i]);
    int* slot = (h == "id" || h == "track_id" || h == "track") ? &c_id
                : (h == "t" || h == "frame") ? &c_t
                : h == "x" ? &c_x : h == "y" ? &c_y : h == "parent" ? &c_parent : h == "fate" ? &c_fate : nullptr;
    if (!slot) continue;
    if (*slot >= 0) throw DataError(where + ": line " + std::to_string(n) + ": column '" + header[i] + "' appears twice");
    *slot = int(i);
  }
  for (auto [col, name] : {std::pair{c_id, "ID"}, {c_t, "t"}, {c_x, "x"}, {c_y, "y"}})
    if (col < 0) throw DataError(where + ": line " + std::to_string(n) + ": header lacks column '" + name + "' (need ID, t, x, y)");

  TrackSet ts;
  ts.source = where;
  std::map<std::int64_t, std::size_t> index;
  std::map<std::int64_t, std::string> fate_text;
  std::set<std::pair<std::int64_t, std::int32_t>> seen;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto f = split_fields(line, comma);
    const std::string rec = where + ": line " + std::to_string(n);
    if (f.size() != header.size())
      throw DataError(rec + ": expected " + std::to_string(header.size()) + " fields like the header, found " +
                      std::to_string(f.size()));
    const std::int64_t id = parse_id(f[std::size_t(c_id)], rec + ": column 'ID'");
    if (id <= 0) throw DataError(rec + ": track id must be > 0");
    double t = 0, x = 0, y = 0;
    for (auto [col, name, out] : {std::tuple{c_t, "t", &t}, {c_x, "x", &x}, {c_y, "y", &y}})
      if (!to_number(f[std::size_t(col)], out))
        throw DataError(rec + ": column '" + name + "': '" + f[std::size_t(col)].substr(0, 20) +
                        "' is not a finite number");
    if (t < 0 || t > 1e7 || std::floor(t) != t) throw DataError(rec + ": column 't': frame must be an integer >= 0");
    std::int64_t parent = 0;
    if (c_parent >= 0) {
      double pv = 0;
      if (!to_number(f[std::size_t(c_parent)], &pv) || pv < 0 || pv > 9e15 || std::floor(pv) != pv)
        throw DataError(rec + ": column 'parent': '" + f[std::size_t(c_parent)].substr(0, 20) + "' is not a track id");
      parent = std::int64_t(pv);
      if (parent == id) parent = 0;
    }
    TrackPoint p;
    p.track_id = id;
    p.t = std::int32_t(t);
    p.x = x;
    p.y = y;
    p.parent = parent;
    if (!seen.insert({id, p.t}).second)
      throw DataError(rec + ": track " + std::to_string(id) + " has a second row at frame " + std::to_string(p.t));
    auto [it, fresh] = index.emplace(id, ts.tracks.size());
    if (fresh) {
      Track tr;
      tr.id = id;
      tr.start = tr.end = p.t;
      tr.parent = parent;
      ts.tracks.push_back(tr);
      if (c_fate >= 0) fate_text[id] = f[std::size_t(c_fate)];
    } else {
      Track& tr = ts.tracks[it->second];
      if (tr.parent != parent)
        throw DataError(rec + ": track " + std::to_string(id) + ": parent " + std::to_string(parent) +
                        " differs from its earlier rows' parent " + std::to_string(tr.parent));
      if (c_fate >= 0 && fate_text[id] != f[std::size_t(c_fate)])
        throw DataError(rec + ": track " + std::to_string(id) + ": fate '" + f[std::size_t(c_fate)] +
                        "' differs from its earlier rows' fate '" + fate_text[id] + "'");
      tr.start = std::min(tr.start, p.t);
      tr.end = std::max(tr.end, p.t);
    }
    ts.points.push_back(p);
  }
  if (ts.tracks.empty()) throw DataError(where + ": no rows after the header");
  ts.sort_points();
  for (Track& tr : ts.tracks) {
    const std::string& ft = fate_text[tr.id];
    if (!ft.empty()) tr.fate = fate_from_label(ft, {}, where + ": track " + std::to_string(tr.id));
  }
  return ts;
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
  TrackSet ts = parse_tracks_csv(read_text_file(opts.tracks), where);
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
    return write_tracks_dataset(std::move(ts), mo, out_dir, "import csv");
  }
  auto frames = tiff_stack_frames(opts.movie);
  std::unique_ptr<LabelSource> labels;
  if (!opts.segmentation.empty()) labels = tiff_stack_labels(opts.segmentation);
  MovieImportOptions mo = opts.movie_opts;
  if (mo.name.empty()) mo.name = opts.movie.stem().string();
  return write_movie_dataset(*frames, labels.get(), std::move(ts), PointLabels::kFromPosition, mo, out_dir, "import csv");
}

IoSummary export_tracks_csv(const fs::path& tracks, const fs::path& out_dir, bool overwrite) {
  const TrackSet ts = read_tracks(tracks);
  check_output(out_dir / "tracks.csv", overwrite);
  std::map<std::int64_t, const Track*> by_id;
  for (const Track& t : ts.tracks) by_id[t.id] = &t;
  std::ostringstream csv;
  csv.precision(10);
  csv << "ID,t,y,x,parent,fate,label\n";
  for (const TrackPoint& p : ts.points) {
    const Track* t = by_id.count(p.track_id) ? by_id[p.track_id] : nullptr;
    csv << p.track_id << ',' << p.t << ',' << p.y << ',' << p.x << ',' << (t ? t->parent : p.parent) << ','
        << (t ? to_string(t->fate) : std::string("censored")) << ',' << p.label << '\n';
  }
  nlohmann::json graph = nlohmann::json::object();
  for (const Track& t : ts.tracks)
    if (t.parent) graph[std::to_string(t.id)] = {t.parent};
  write_text_atomic(out_dir / "tracks.csv", csv.str());
  write_text_atomic(out_dir / "graph.json", graph.dump(2) + "\n");
  IoSummary s;
  s.what = "export tracks";
  s.outputs = {out_dir / "tracks.csv", out_dir / "graph.json"};
  s.counts["tracks"] = ts.tracks.size();
  s.counts["points"] = ts.points.size();
  return s;
}

}  // namespace taupe::io
