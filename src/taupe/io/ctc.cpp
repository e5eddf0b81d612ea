#include "taupe/io/ctc.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

bool parse_int(const std::string& s, std::int64_t* v) {
  if (s.empty() || s.size() > 18) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (std::size_t k = i; k < s.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
  *v = std::stoll(s);
  return true;
}

std::vector<std::string> fields_of(const std::string& line, bool allow_comma) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r' || (allow_comma && c == ',')) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// Files in `dir` named <prefix><digits>.tif(f) for one of the prefixes, ordered by frame;
/// frames must be 0..T-1 without gaps.
std::vector<fs::path> numbered(const fs::path& dir, const std::vector<std::string>& prefixes, const std::string& what) {
  std::map<long, fs::path> by_frame;
  for (const auto& f : list_files(dir, {".tif", ".tiff"})) {
    const std::string stem = f.stem().string();
    for (const auto& pre : prefixes) {
      if (stem.size() <= pre.size() || stem.compare(0, pre.size(), pre) != 0) continue;
      const std::string digits = stem.substr(pre.size());
      if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        continue;
      const long t = std::stol(digits);
      if (!by_frame.emplace(t, f).second)
        throw DataError(f.string() + ": frame " + std::to_string(t) + " appears twice (" + by_frame[t].string() + ")");
    }
  }
  if (by_frame.empty()) throw DataError(dir.string() + ": empty folder: no " + what + " files");
  std::vector<fs::path> out;
  long expect = 0;
  for (const auto& [t, f] : by_frame) {
    if (t != expect)
      throw DataError(dir.string() + ": " + what + " frame " + std::to_string(expect) + " is missing (found " +
                      f.filename().string() + " next)");
    out.push_back(f);
    ++expect;
  }
  return out;
}

}  // namespace

TrackSet parse_ctc_tracks(const std::string& text, const std::string& where) {
  TrackSet ts;
  ts.source = where;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const auto f = fields_of(line, false);
    if (f.empty()) continue;
    std::int64_t v[4];
    if (f.size() != 4 || !parse_int(f[0], &v[0]) || !parse_int(f[1], &v[1]) || !parse_int(f[2], &v[2]) ||
        !parse_int(f[3], &v[3]))
      throw DataError(where + ": line " + std::to_string(n) + ": expected 4 integers 'L B E P', found '" +
                      line.substr(0, 60) + "'");
    const std::string rec = where + ": line " + std::to_string(n) + ": track " + std::to_string(v[0]);
    if (v[0] <= 0) throw DataError(rec + ": label L must be > 0");
    if (v[1] < 0 || v[1] > 1000000 || v[2] > 1000000) throw DataError(rec + ": frames must be in [0, 1000000]");
    if (v[1] > v[2]) throw DataError(rec + ": begin B " + std::to_string(v[1]) + " is after end E " + std::to_string(v[2]));
    if (v[3] < 0) throw DataError(rec + ": parent P must be >= 0 (0 = no parent)");
    if (v[0] > 0xFFFFFFFFLL) throw DataError(rec + ": label L does not fit a mask value");
    Track t;
    t.id = v[0];
    t.start = static_cast<std::int32_t>(v[1]);
    t.end = static_cast<std::int32_t>(v[2]);
    t.parent = v[3];
    ts.tracks.push_back(t);
  }
  if (ts.tracks.empty()) throw DataError(where + ": no tracks (empty file)");
  return ts;
}

std::map<std::int64_t, Fate> parse_fate_table(const std::string& text, const std::string& where) {
  // `track_id,fate` (the header is optional: a first row whose id is an integer is data).
  const std::size_t p = text.find_first_not_of(" \t\r\n");
  if (p == std::string::npos) throw DataError(where + ": empty file (expected 'track_id,fate' rows)");
  const std::string first = text.substr(p, text.find_first_of(",\r\n", p) - p);
  std::int64_t probe = 0;
  const bool headerless = parse_int(first, &probe);
  const std::size_t skipped_lines = headerless ? std::size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(p), '\n')) : 0;
  const CsvTable t = parse_csv(headerless ? "track_id,fate\n" + text.substr(p) : text, where);
  if (t.columns() != 2) throw DataError(where + ": line 1: expected two columns 'track_id,fate', found " + std::to_string(t.columns()));
  std::map<std::int64_t, Fate> out;
  for (std::size_t r = 0; r < t.size(); ++r) {
    // Line in `text`: the added header shifts by one, skipped leading blank lines shift back.
    const std::size_t line = headerless ? t.line_of(r) - 1 + skipped_lines : t.line_of(r);
    const std::string rec = where + ": line " + std::to_string(line);
    std::int64_t id = 0;
    if (!parse_int(t.rows()[r][0], &id)) throw DataError(rec + ": track id '" + t.rows()[r][0] + "' is not an integer");
    const Fate fate = fate_from_label(t.rows()[r][1], {}, rec);
    if (!out.emplace(id, fate).second) throw DataError(rec + ": track " + std::to_string(id) + " listed twice");
  }
  return out;
}

IoSummary import_ctc(const CtcImportOptions& opts, const fs::path& out_dir) {
  const std::string where = opts.tracks.string();
  TrackSet ts = parse_ctc_tracks(read_text_file(opts.tracks), where);
  // Fates: divisions from the lineage, then the side table.
  std::map<std::int64_t, int> children;
  for (const Track& t : ts.tracks)
    if (t.parent) ++children[t.parent];
  for (Track& t : ts.tracks)
    if (children[t.id] >= 2) t.fate = Fate::kMitosis;
  if (!opts.fates.empty()) {
    const auto table = parse_fate_table(read_text_file(opts.fates), opts.fates.string());
    for (const auto& kv : table) {
      const std::int64_t id = kv.first;
      const Fate fate = kv.second;
      auto it = std::find_if(ts.tracks.begin(), ts.tracks.end(), [&](const Track& t) { return t.id == id; });
      if (it == ts.tracks.end())
        throw DataError(opts.fates.string() + ": track " + std::to_string(id) + ": not in " + where);
      if (it->fate == Fate::kMitosis && fate != Fate::kMitosis)
        throw DataError(opts.fates.string() + ": track " + std::to_string(id) + ": fate " + to_string(fate) +
                        " contradicts its division in " + where + " (it has " + std::to_string(children[id]) + " children)");
      it->fate = fate;
    }
  }
  for (const Track& t : ts.tracks)
    for (std::int32_t f = t.start; f <= t.end; ++f) {
      TrackPoint p;
      p.track_id = t.id;
      p.t = f;
      p.parent = t.parent;
      ts.points.push_back(p);
    }
  ts.validate(where);

  const fs::path mask_dir = opts.masks.empty() ? opts.tracks.parent_path() : opts.masks;
  auto labels = tiff_series_labels(numbered(mask_dir, {"man_track", "mask", "man_seg"}, "mask"), mask_dir);
  std::unique_ptr<FrameSource> frames;
  if (fs::is_directory(opts.raw)) frames = tiff_series_frames(numbered(opts.raw, {"t"}, "raw"), opts.raw);
  else frames = tiff_stack_frames(opts.raw);
  MovieImportOptions mo = opts.movie;
  if (mo.name.empty()) {
    mo.name = opts.raw.filename().string();
    if (mo.name.empty() || mo.name == ".") mo.name = "ctc";
    if (fs::path(mo.name).has_extension()) mo.name = fs::path(mo.name).stem().string();
  }
  return write_movie_dataset(*frames, labels.get(), std::move(ts), PointLabels::kTrackId, mo, out_dir, "import ctc");
}

}  // namespace taupe::io
