#include "taupe/io/movie_import.h"

#include <H5Cpp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "taupe/core/errors.h"
#include "taupe/dataset/input_file.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/tiff_stack.h"
#include "taupe/dataset/track_labels.h"
#include "taupe/io/tiff_io.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

class TiffStackFrames : public FrameSource {
 public:
  explicit TiffStackFrames(const fs::path& p) : path_(p), h_(tiff_header(p)) {
    where = p.string();
    const auto& s = h_.shape;
    if (h_.has_z)
      throw DataError(where + ": axes: Z slices are not supported (expected a 2-D time-lapse (T, C, Y, X))");
    if (s.size() == 3)
      throw DataError(where + ": axes: expected 4 axes (T, C, Y, X), found 3 " + shape_text(s) +
                      " (a single-channel movie; taupe needs GFP and RFP channels)");
    if (s.size() != 4)
      throw DataError(where + ": axes: expected 4 axes (T, C, Y, X), found " + std::to_string(s.size()) + " " +
                      shape_text(s));
    if (s[3] <= 4 && s[1] > 4)
      throw DataError(where + ": axes: order looks like (T, Y, X, C); expected (T, C, Y, X), found " + shape_text(s));
    frames = int(s[0]);
    channels = int(s[1]);
    height = int(s[2]);
    width = int(s[3]);
    needs_rescale_pass = !(h_.kind == PixelKind::kUInt && h_.bits <= 16);
    const TiffInfo info = read_tiff_info(p);
    pixel_size_um = info.pixel_size_um;
    frame_interval_min = info.frame_interval_s / 60.0;
  }
  std::vector<double> read(int t) override { return tiff_read_rows(path_, h_, std::size_t(t), 1); }

 private:
  fs::path path_;
  StackHeader h_;
};

class TiffSeriesFrames : public FrameSource {
 public:
  TiffSeriesFrames(std::vector<fs::path> files, const fs::path& folder) : files_(std::move(files)) {
    where = folder.string();
    if (files_.empty()) throw DataError(where + ": empty folder: no frame TIFFs");
    frames = int(files_.size());
    for (std::size_t i = 0; i < files_.size(); ++i) {
      StackHeader h = tiff_header(files_[i]);
      // A 2-D page reads as (1, Y, X) / (1, 1, Y, X); a (C, Y, X) frame as (1, C, Y, X).
      std::vector<std::size_t> s = h.shape;
      while (s.size() > 3 && s[0] == 1) s.erase(s.begin());
      if (s.size() == 3 && s[0] == 1 && h.pages == 1) s.erase(s.begin());
      int c = 1, y = 0, x = 0;
      if (s.size() == 2) { y = int(s[0]); x = int(s[1]); }
      else if (s.size() == 3) { c = int(s[0]); y = int(s[1]); x = int(s[2]); }
      else
        throw DataError(files_[i].string() + ": axes: expected one frame (Y, X) or (C, Y, X), found " + shape_text(h.shape));
      if (i == 0) { channels = c; height = y; width = x; }
      else if (c != channels || y != height || x != width)
        throw DataError(files_[i].string() + ": axes: frame is " + shape_text(h.shape) + ", the first frame was (" +
                        std::to_string(channels) + ", " + std::to_string(height) + ", " + std::to_string(width) + ")");
      if (!(h.kind == PixelKind::kUInt && h.bits <= 16)) needs_rescale_pass = true;
      headers_.push_back(h);
    }
  }
  std::vector<double> read(int t) override {
    const StackHeader& h = headers_[std::size_t(t)];
    return tiff_read_rows(files_[std::size_t(t)], h, 0, h.shape[0]);
  }

 private:
  std::vector<fs::path> files_;
  std::vector<StackHeader> headers_;
};

class TiffStackLabels : public LabelSource {
 public:
  explicit TiffStackLabels(const fs::path& p) : path_(p), h_(tiff_header(p)) {
    where = p.string();
    auto s = h_.shape;
    if (s.size() == 4 && s[1] == 1) s.erase(s.begin() + 1);   // ImageJ (T, 1, Y, X)
    if (s.size() != 3)
      throw DataError(where + ": axes: segmentation must be (T, Y, X) labels, found " + shape_text(h_.shape));
    if (h_.kind == PixelKind::kFloat)
      throw DataError(where + ": dtype " + h_.dtype() + ": segmentation labels must be integers");
    frames = int(s[0]);
    height = int(s[1]);
    width = int(s[2]);
  }
  std::vector<std::uint32_t> read(int t) override {
    return to_labels(tiff_read_rows(path_, h_, std::size_t(t), 1), frame_where(t));
  }

 private:
  fs::path path_;
  StackHeader h_;
};

class TiffSeriesLabels : public LabelSource {
 public:
  TiffSeriesLabels(std::vector<fs::path> files, const fs::path& folder) : files_(std::move(files)) {
    where = folder.string();
    if (files_.empty()) throw DataError(where + ": empty folder: no mask TIFFs");
    frames = int(files_.size());
    for (std::size_t i = 0; i < files_.size(); ++i) {
      StackHeader h = tiff_header(files_[i]);
      std::vector<std::size_t> s = h.shape;
      while (s.size() > 2 && s[0] == 1) s.erase(s.begin());
      if (s.size() != 2)
        throw DataError(files_[i].string() + ": axes: a mask frame must be 2-D (Y, X), found " + shape_text(h.shape));
      if (h.kind == PixelKind::kFloat)
        throw DataError(files_[i].string() + ": dtype " + h.dtype() + ": mask labels must be integers (uint16)");
      if (i == 0) { height = int(s[0]); width = int(s[1]); }
      else if (int(s[0]) != height || int(s[1]) != width)
        throw DataError(files_[i].string() + ": axes: mask is " + shape_text(s) + ", the first mask was (" +
                        std::to_string(height) + ", " + std::to_string(width) + ")");
      headers_.push_back(h);
    }
  }
  std::vector<std::uint32_t> read(int t) override {
    const StackHeader& h = headers_[std::size_t(t)];
    return to_labels(tiff_read_rows(files_[std::size_t(t)], h, 0, h.shape[0]), files_[std::size_t(t)].string());
  }
  std::string frame_where(int t) const override { return files_[std::size_t(t)].string(); }

 private:
  std::vector<fs::path> files_;
  std::vector<StackHeader> headers_;
};

class Hdf5Labels : public LabelSource {
 public:
  Hdf5Labels(const fs::path& file, const std::string& name) : name_(name) {
    where = file.string() + ": dataset '" + name + "'";
    check_input_file(file, InputFormat::kHdf5);
    try {
      file_ = std::make_unique<H5::H5File>(file.string(), H5F_ACC_RDONLY);
      ds_ = std::make_unique<H5::DataSet>(file_->openDataSet(name));
      const H5::DataSpace sp = ds_->getSpace();
      const int nd = sp.getSimpleExtentNdims();
      if (nd != 3) throw DataError(where + ": expected (T, Y, X) labels, found " + std::to_string(nd) + " axes");
      hsize_t d[3];
      sp.getSimpleExtentDims(d);
      if (ds_->getTypeClass() != H5T_INTEGER)
        throw DataError(where + ": segmentation labels must be integers");
      frames = int(d[0]);
      height = int(d[1]);
      width = int(d[2]);
    } catch (const H5::Exception& e) {
      throw DataError(where + ": cannot read: " + e.getDetailMsg());
    }
  }
  std::vector<std::uint32_t> read(int t) override {
    std::vector<std::uint32_t> out(std::size_t(height) * std::size_t(width));
    try {
      H5::DataSpace fsp = ds_->getSpace();
      hsize_t start[3] = {hsize_t(t), 0, 0}, count[3] = {1, hsize_t(height), hsize_t(width)};
      fsp.selectHyperslab(H5S_SELECT_SET, count, start);
      H5::DataSpace msp(3, count);
      ds_->read(out.data(), H5::PredType::NATIVE_UINT32, msp, fsp);
    } catch (const H5::Exception& e) {
      throw DataError(frame_where(t) + ": cannot read: " + e.getDetailMsg());
    }
    return out;
  }

 private:
  std::string name_;
  std::unique_ptr<H5::H5File> file_;
  std::unique_ptr<H5::DataSet> ds_;
};

}  // namespace

std::unique_ptr<FrameSource> tiff_stack_frames(const fs::path& path) { return std::make_unique<TiffStackFrames>(path); }
std::unique_ptr<FrameSource> tiff_series_frames(const std::vector<fs::path>& files, const fs::path& folder) {
  return std::make_unique<TiffSeriesFrames>(files, folder);
}
std::unique_ptr<LabelSource> tiff_stack_labels(const fs::path& path) { return std::make_unique<TiffStackLabels>(path); }
std::unique_ptr<LabelSource> tiff_series_labels(const std::vector<fs::path>& files, const fs::path& folder) {
  return std::make_unique<TiffSeriesLabels>(files, folder);
}
std::unique_ptr<LabelSource> hdf5_labels(const fs::path& file, const std::string& dataset) {
  return std::make_unique<Hdf5Labels>(file, dataset);
}

namespace {

/// Channels, size and segmentation against the movie; returns which input channels are GFP and RFP.
ChannelMap check_movie_geometry(const FrameSource& frames, const LabelSource* labels, const MovieImportOptions& opts) {
  ChannelMap ch;
  if (!opts.channels.empty()) {
    ch = parse_channel_map(opts.channels);
    if (ch.gfp >= frames.channels || ch.rfp >= frames.channels)
      throw ConfigError("--channels gfp=" + std::to_string(ch.gfp) + ",rfp=" + std::to_string(ch.rfp) + ": " +
                        frames.where + " has " + std::to_string(frames.channels) + " channel(s)");
  } else if (frames.channels != 2) {
    throw DataError(frames.where + ": axes: channel axis has " + std::to_string(frames.channels) +
                    " channel(s); expected 2 (GFP, RFP) -- pass --channels gfp=I,rfp=J to pick them");
  }
  if (frames.frames <= 0 || frames.height <= 0 || frames.width <= 0)
    throw DataError(frames.where + ": movie is empty");
  if (labels && (labels->frames != frames.frames || labels->height != frames.height || labels->width != frames.width))
    throw DataError(labels->where + ": segmentation is (" + std::to_string(labels->frames) + ", " +
                    std::to_string(labels->height) + ", " + std::to_string(labels->width) + "), the movie " +
                    frames.where + " is (" + std::to_string(frames.frames) + ", " + std::to_string(frames.height) + ", " +
                    std::to_string(frames.width) + ") (T, Y, X must agree)");
  return ch;
}

/// Sorts and validates the tracks (ids, parents, parent ends before child, cycles); every track
/// must lie inside the movie's frames and every point inside its field.
void check_tracks_in_movie(TrackSet& tracks, const FrameSource& frames, const MovieImportOptions& opts) {
  tracks.sort_points();
  const std::string twhere = tracks.source;
  tracks.validate(twhere);
  for (const Track& t : tracks.tracks)
    if (t.end >= frames.frames)
      throw DataError(twhere + ": track " + std::to_string(t.id) + ": frames [" + std::to_string(t.start) + ", " +
                      std::to_string(t.end) + "] fall outside the movie (" + std::to_string(frames.frames) +
                      " frames, 0.." + std::to_string(frames.frames - 1) + ")");
  for (const TrackPoint& p : tracks.points)
    if (!(p.x >= -0.5 && p.y >= -0.5 && p.x <= frames.width - 0.5 && p.y <= frames.height - 0.5))
      throw DataError(twhere + ": track " + std::to_string(p.track_id) + " frame " + std::to_string(p.t) + ": position (x " +
                      std::to_string(p.x) + ", y " + std::to_string(p.y) + ") lies outside the " +
                      std::to_string(frames.width) + " x " + std::to_string(frames.height) +
                      " movie (x = column, y = row)",
                      opts.outside_hint);
}

/// How input values map to uint16: as they are, or [lo, hi] linearly to [0, 65535].
struct ValueRange {
  double lo = 0, hi = 65535;
  bool rescale = false;
};

/// Rescale pass for non-uint16 movies: values not all integers in [0, 65535] are rescaled.
ValueRange find_value_range(FrameSource& frames) {
  ValueRange r;
  if (!frames.needs_rescale_pass) return r;
  r.lo = std::numeric_limits<double>::infinity();
  r.hi = -r.lo;
  bool exact = true;
  for (int t = 0; t < frames.frames; ++t)
    for (double v : frames.read(t)) {
      r.lo = std::min(r.lo, v);
      r.hi = std::max(r.hi, v);
      if (v < 0 || v > 65535 || std::floor(v) != v) exact = false;
    }
  r.rescale = !exact;
  return r;
}

/// The written movie's header: 2 channels, 16 bits; pixel size and frame interval from the
/// options, else the TIFF metadata, else the fallbacks.
MovieInfo movie_info_of(const FrameSource& frames, const MovieImportOptions& opts) {
  MovieInfo mi;
  mi.frames = frames.frames;
  mi.channels = 2;
  mi.height = frames.height;
  mi.width = frames.width;
  mi.bit_depth = 16;
  mi.pixel_size_um = opts.pixel_size_um > 0 ? opts.pixel_size_um : frames.pixel_size_um > 0 ? frames.pixel_size_um : kFallbackPixelSizeUm;
  mi.frame_interval_min =
      opts.frame_interval_min > 0 ? opts.frame_interval_min : frames.frame_interval_min > 0 ? frames.frame_interval_min : 4.0;
  return mi;
}

/// The frame pass: streams frames, labels and types, and gives track points their labels.
struct FramePass {
  FrameSource& frames;
  LabelSource* labels;
  TrackSet& tracks;
  PointLabels mode;
  const MovieImportOptions& opts;
  ChannelMap ch;
  ValueRange range;
  std::vector<std::vector<std::size_t>> at_frame;   ///< point indices by frame
  TypeVotes votes;
  std::size_t unmatched = 0;

  std::size_t plane() const { return std::size_t(frames.height) * std::size_t(frames.width); }
  std::string label_where(int t) const { return labels ? labels->frame_where(t) : frames.where; }
};

/// Frame `t`: GFP and RFP as uint16, its labels (given or derived) and each label's cell type.
MovieFrame read_movie_frame(FramePass& fp, int t) {
  const std::size_t hw = fp.plane();
  const std::vector<double> raw = fp.frames.read(t);
  MovieFrame f;
  f.images.resize(2 * hw);
  const int src[2] = {fp.ch.gfp, fp.ch.rfp};
  const ValueRange& r = fp.range;
  for (int c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < hw; ++i) {
      double v = raw[std::size_t(src[c]) * hw + i];
      if (r.rescale) v = r.hi > r.lo ? std::lround((v - r.lo) * 65535.0 / (r.hi - r.lo)) : 0.0;
      f.images[std::size_t(c) * hw + i] = static_cast<std::uint16_t>(std::clamp(v, 0.0, 65535.0));
    }
  f.labels = fp.labels ? fp.labels->read(t)
                       : segment_frame(f.images.data(), 2, fp.frames.height, fp.frames.width, fp.opts.segment);
  f.label_types = classify_labels(f.images.data(), fp.frames.height, fp.frames.width, 0, 1, f.labels, fp.opts.type_ratio);
  return f;
}

/// Sum of x, sum of y and pixel count of every label of a (height, width) label image.
std::map<std::uint32_t, std::array<double, 3>> label_sums(const std::vector<std::uint32_t>& labels, int height, int width) {
  std::map<std::uint32_t, std::array<double, 3>> sums;
  for (std::size_t i = 0; i < std::size_t(height) * std::size_t(width); ++i)
    if (labels[i]) {
      auto& c = sums[labels[i]];
      c[0] += double(i % std::size_t(width));
      c[1] += double(i / std::size_t(width));
      c[2] += 1;
    }
  return sums;
}

/// CTC: every mask label at frame `t` must belong to a track alive in that frame.
void check_labels_belong_to_tracks(const FramePass& fp, int t, const MovieFrame& f) {
  std::set<std::uint32_t> alive;
  for (std::size_t idx : fp.at_frame[std::size_t(t)])
    alive.insert(static_cast<std::uint32_t>(fp.tracks.points[idx].track_id));
  for (const auto& kv : f.label_types)
    if (!alive.count(kv.first))
      throw DataError(fp.label_where(t) + ": label " + std::to_string(kv.first) + " at frame " + std::to_string(t) +
                      " belongs to no track alive in that frame (every mask label must be listed)");
}

/// Gives the points of frame `t` their labels (CTC: the track id, the point moved to the label's
/// centroid; else the label under or near the point) and votes their tracks' cell types.
void label_frame_points(FramePass& fp, int t, const MovieFrame& f) {
  const bool by_id = fp.mode == PointLabels::kTrackId;
  std::map<std::uint32_t, std::array<double, 3>> centroids;   // CTC: points sit at their label's centroid
  if (by_id && !fp.at_frame[std::size_t(t)].empty()) centroids = label_sums(f.labels, fp.frames.height, fp.frames.width);
  if (by_id) check_labels_belong_to_tracks(fp, t, f);
  for (std::size_t idx : fp.at_frame[std::size_t(t)]) {
    TrackPoint& p = fp.tracks.points[idx];
    if (by_id) {
      if (!f.label_types.count(static_cast<std::uint32_t>(p.track_id)))
        throw DataError(fp.label_where(t) + ": label " + std::to_string(p.track_id) + " of track " +
                        std::to_string(p.track_id) + " is missing from the mask at frame " + std::to_string(t) +
                        " (every frame in [B, E] must contain the track's label)");
      p.label = static_cast<std::uint32_t>(p.track_id);
      const auto& c = centroids.at(p.label);
      p.x = c[0] / c[2];
      p.y = c[1] / c[2];
    } else if (p.label == 0) {
      p.label = label_near(f.labels, fp.frames.height, fp.frames.width, p.x, p.y, fp.opts.snap_radius_px);
      if (!p.label) ++fp.unmatched;
    }
    if (p.label) ++fp.votes[p.track_id][f.label_types.at(p.label)];
  }
}

/// Writes the tracks; when that fails the movie just written is removed again.
void write_tracks_or_remove_movie(const fs::path& tracks_path, const TrackSet& tracks, const fs::path& movie_path) {
  try {
    write_tracks(tracks_path, tracks);
  } catch (...) {
    std::error_code ec;
    fs::remove(movie_path, ec);
    throw;
  }
}

}  // namespace

IoSummary write_movie_dataset(FrameSource& frames, LabelSource* labels, TrackSet tracks, PointLabels mode,
                              const MovieImportOptions& opts, const fs::path& out_dir, const std::string& what) {
  FramePass fp{frames, labels, tracks, mode, opts, check_movie_geometry(frames, labels, opts), {}, {}, {}, 0};
  check_tracks_in_movie(tracks, frames, opts);
  fp.range = find_value_range(frames);

  const fs::path dir = out_dir / (opts.name.empty() ? std::string("movie") : opts.name);
  const fs::path movie_path = dir / "movie.h5", tracks_path = dir / "tracks.h5";
  check_output(movie_path, opts.overwrite);
  check_output(tracks_path, opts.overwrite);
  MovieWriter writer(movie_path, movie_info_of(frames, opts));
  fp.at_frame.resize(std::size_t(frames.frames));
  for (std::size_t i = 0; i < tracks.points.size(); ++i) fp.at_frame[std::size_t(tracks.points[i].t)].push_back(i);
  for (int t = 0; t < frames.frames; ++t) {
    MovieFrame f = read_movie_frame(fp, t);
    label_frame_points(fp, t, f);
    writer.append(f);
  }
  assign_track_types(tracks, fp.votes);
  writer.close();
  write_tracks_or_remove_movie(tracks_path, tracks, movie_path);

  IoSummary sum;
  sum.what = what;
  sum.outputs = {movie_path, tracks_path};
  sum.counts["frames"] = std::size_t(frames.frames);
  sum.counts["tracks"] = tracks.tracks.size();
  for (const Track& t : tracks.tracks) ++sum.counts[to_string(t.fate)];
  const ValueRange& r = fp.range;
  if (r.rescale)
    sum.notes.push_back("movie values in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) +
                        "] were rescaled linearly to [0, 65535]");
  if (!labels) sum.notes.push_back("no segmentation given: masks derived (Otsu + watershed)");
  if (fp.unmatched) sum.notes.push_back(std::to_string(fp.unmatched) + " track point(s) lie on background (label 0)");
  return sum;
}

}  // namespace taupe::io

namespace taupe::io {

IoSummary write_tracks_dataset(TrackSet tracks, const MovieImportOptions& opts, const fs::path& out_dir,
                               const std::string& what) {
  tracks.sort_points();
  tracks.validate(tracks.source);
  for (TrackPoint& p : tracks.points) p.label = 0;
  const fs::path tracks_path = out_dir / (opts.name.empty() ? std::string("movie") : opts.name) / "tracks.h5";
  check_output(tracks_path, opts.overwrite);
  write_tracks(tracks_path, tracks);
  IoSummary sum;
  sum.what = what;
  sum.outputs = {tracks_path};
  sum.counts["tracks"] = tracks.tracks.size();
  sum.counts["points"] = tracks.points.size();
  for (const Track& t : tracks.tracks) ++sum.counts[to_string(t.fate)];
  sum.notes.push_back("no movie: tracks only (no label ids, no cell types); `taupe extract --movie M --tracks " +
                      tracks_path.string() + "` joins them with a movie");
  return sum;
}

}  // namespace taupe::io
