#include "taupe/pipeline/napari_export.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/tracks.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/tiff_io.h"
#include "taupe/perturb/artifacts.h"
#include "taupe/pipeline/napari_script.h"
#include "taupe/report/run_layout.h"
#include "taupe/temporal/model_set.h"
#include "taupe/temporal/predictions.h"

namespace taupe {
namespace fs = std::filesystem;

fs::path napari_out_dir(const NapariExportOptions& o) {
  return o.out_dir.empty() ? o.run_dir / "napari" : o.out_dir;
}

const std::string& napari_loader_script() {
  static const std::string s(detail::kNapariScript);
  return s;
}

namespace {

using TrackKey = std::pair<std::string, std::int64_t>;  // (movie, track_id)

/// Per-track result columns, in the order they are appended to tracks.csv.
const std::vector<std::string> kResultColumns = {"p_mitosis",   "p_apoptosis", "p_synthetic",
                                                 "held_out_by", "delta_p_apoptosis_switch",
                                                 "nuclear_pc_response"};

struct TrackResults {
  double p[3] = {NAN, NAN, NAN};
  double held_out_by = NAN;
  double delta_switch = NAN;
  double nuclear = NAN;
};

/// Mean of a per-trajectory column over the unrotated rows of each (movie, track_id); absent
/// file: nothing (the experiment was not run).
std::map<TrackKey, double> per_track_mean(const fs::path& file, const std::string& column) {
  std::map<TrackKey, double> out;
  if (!fs::exists(file)) return out;
  const CsvTable t = read_csv(file);
  std::map<TrackKey, std::pair<double, int>> acc;
  for (std::size_t r = 0; r < t.size(); ++r) {
    if (t.integer(r, "rotation") != 0) continue;
    const double v = t.number(r, column);
    if (!std::isfinite(v)) continue;
    auto& a = acc[{t.at(r, "movie"), t.integer(r, "track_id")}];
    a.first += v;
    a.second += 1;
  }
  for (const auto& [k, a] : acc) out[k] = a.first / a.second;
  return out;
}

std::map<TrackKey, TrackResults> track_results(const EncodingSet& set, const ModelSet& ms, const Predictions& p,
                                               const RunLayout& run) {
  std::map<TrackKey, TrackResults> out;
  for (std::int64_t i = 0; i < p.n; ++i) {
    const auto& tr = set.trajectories[static_cast<std::size_t>(i)];
    if (tr.rotation != 0 || tr.movie.empty()) continue;
    TrackResults& r = out[{tr.movie, tr.track_id}];
    for (int c = 0; c < 3; ++c) r.p[c] = p.mean_of(i, c);
    r.held_out_by = ms.fold_of(tr.id);
  }
  for (const auto& [k, v] : per_track_mean(run.perturb() / perturb_artifacts::kSwitchNeighboursTrajectoriesCsv, "delta_p_apoptosis"))
    out[k].delta_switch = v;
  for (const auto& [k, v] :
       per_track_mean(run.perturb() / perturb_artifacts::kPcShiftNuclearTrajectoriesCsv, "slope_apoptosis_per_sd_shrinkage"))
    out[k].nuclear = v;
  return out;
}

/// napari's tracks table with the per-track results appended to every point of the track.
CsvTable tracks_with_results(const TrackSet& ts, const std::string& movie,
                             const std::map<TrackKey, TrackResults>& results, std::size_t& matched) {
  const CsvTable base = io::napari_tracks_table(ts);
  std::vector<std::string> header = base.header();
  header.insert(header.end(), kResultColumns.begin(), kResultColumns.end());
  CsvTable t(header);
  const TrackResults none;
  std::set<std::int64_t> seen;
  for (std::size_t r = 0; r < base.size(); ++r) {
    const std::int64_t id = base.integer(r, "ID");
    const auto it = results.find({movie, id});
    const TrackResults& x = it != results.end() ? it->second : none;
    if (it != results.end() && seen.insert(id).second) ++matched;
    std::vector<std::string> row = base.rows()[r];
    for (double v : {x.p[0], x.p[1], x.p[2], x.held_out_by, x.delta_switch, x.nuclear}) row.push_back(cell(v));
    t.add_row(std::move(row));
  }
  return t;
}

/// The movie as (T, C, Y, X) and its labels relabelled to track ids (T, Y, X).
void write_movie_layers(const fs::path& movie_file, const TrackSet& ts, const fs::path& dir, std::int64_t max_mb,
                        io::IoSummary& s) {
  const MovieReader reader(movie_file);
  const MovieInfo& info = reader.info();
  const std::size_t plane = static_cast<std::size_t>(info.height) * static_cast<std::size_t>(info.width);
  const std::size_t values = static_cast<std::size_t>(info.frames) * (static_cast<std::size_t>(info.channels) + 1) * plane;
  if (static_cast<std::int64_t>(values * 2 / (1024 * 1024)) > max_mb)
    throw ResourceError(movie_file.string() + ": the movie needs " + std::to_string(values * 2 / (1024 * 1024)) +
                        " MB in memory to convert; raise --max-movie-mb or pass --no-images (tracks only)");
  // Label → track id, per frame, from the tracks' points.
  std::map<std::pair<int, std::uint32_t>, std::int64_t> track_of;
  std::int64_t max_id = 0;
  for (const TrackPoint& p : ts.points)
    if (p.label) track_of[{p.t, p.label}] = p.track_id, max_id = std::max(max_id, p.track_id);
  if (max_id > 65535)
    throw DataError(movie_file.string() + ": track id " + std::to_string(max_id) +
                    " does not fit the uint16 label image of the napari export (ids up to 65535)");
  std::vector<std::uint16_t> images, labels;
  images.reserve(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels) * plane);
  labels.reserve(static_cast<std::size_t>(info.frames) * plane);
  for (int t = 0; t < info.frames; ++t) {
    const MovieFrame f = reader.read(t);
    images.insert(images.end(), f.images.begin(), f.images.end());
    for (std::uint32_t l : f.labels) {
      const auto it = l ? track_of.find({t, l}) : track_of.end();
      labels.push_back(it != track_of.end() ? static_cast<std::uint16_t>(it->second) : 0);
    }
  }
  io::OmeMeta ome;
  ome.pixel_size_um = info.pixel_size_um;
  ome.frame_interval_s = info.frame_interval_min * 60.0;
  ome.channel_names = info.channel_names;
  const auto T = static_cast<std::size_t>(info.frames), H = static_cast<std::size_t>(info.height),
             W = static_cast<std::size_t>(info.width);
  io::tiff_write_u16(dir / "image.ome.tif", {T, static_cast<std::size_t>(info.channels), H, W}, images, &ome);
  ome.channel_names.clear();
  io::tiff_write_u16(dir / "labels.ome.tif", {T, H, W}, labels, &ome);
  s.outputs.push_back(dir / "image.ome.tif");
  s.outputs.push_back(dir / "labels.ome.tif");
  s.counts["movies with images"] += 1;
}

}  // namespace

io::IoSummary export_napari(const NapariExportOptions& o) {
  const RunLayout run(o.run_dir);
  const fs::path out = napari_out_dir(o);
  if (!fs::is_regular_file(run.encodings()))
    throw IoError(run.encodings().string() + ": not found (export napari needs a run whose encode stage finished)");
  io::check_output(out, o.overwrite);
  const EncodingSet set = read_encodings(run.encodings());
  const ModelSet ms = ModelSet::load(run.model());
  const Predictions p = predict_trajectories(set, ms);
  const auto results = track_results(set, ms, p, run);
  // The dataset directory: the glimpse file's (its movies are <dataset>/<movie>/).
  const fs::path glimpses = set.glimpse_file.empty() ? run.glimpses() : fs::path(set.glimpse_file);
  const fs::path dataset = glimpses.parent_path();

  // Everything is written into a staging directory that replaces `out` at the end.
  io::IoSummary s;
  s.what = "export napari";
  fs::path staged;
  write_directory_atomic(out, [&](const fs::path& stage) {
    staged = stage;
    write_csv(stage / "predictions.csv", prediction_table(set, ms, p));
    write_text_atomic(stage / "load_napari.py", napari_loader_script());
    std::set<std::string> names;
    for (const auto& tr : set.trajectories)
      if (!tr.movie.empty()) names.insert(tr.movie);
    std::size_t matched = 0;
    for (const std::string& movie : names) {
      const fs::path src = dataset / movie;
      if (!fs::is_regular_file(src / "tracks.h5")) {
        s.notes.push_back(movie + ": no tracks file at " + (src / "tracks.h5").string() + " (left out)");
        continue;
      }
      const TrackSet ts = read_tracks(src / "tracks.h5");
      const fs::path dir = stage / movie;
      fs::create_directories(dir);
      write_csv(dir / "tracks.csv", tracks_with_results(ts, movie, results, matched));
      write_text_atomic(dir / "graph.json", io::napari_graph(ts).dump(2) + "\n");
      s.counts["movies"] += 1;
      s.counts["tracks"] += ts.tracks.size();
      if (!o.images) continue;
      if (fs::is_regular_file(src / "movie.h5"))
        write_movie_layers(src / "movie.h5", ts, dir, o.max_movie_mb, s);
      else
        s.notes.push_back(movie + ": the movie was not kept (" + (src / "movie.h5").string() +
                          "; simulate with --simulate.movies true), tracks only");
    }
    s.counts["tracks with results"] = matched;
    if (matched < results.size())
      s.notes.push_back(std::to_string(results.size() - matched) +
                        " predicted tracks have no track in the exported tracks files");
  });
  s.outputs.insert(s.outputs.begin(), out);
  for (auto& f : s.outputs)
    if (f != out) f = out / fs::relative(f, staged);
  return s;
}

}  // namespace taupe
