// Every container round-trips bit-exactly, streams, writes atomically, and refuses damaged
// files (truncated, wrong version, missing dataset, wrong dtype, wrong shape) with one clear
// error naming the file and the field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/h5file.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/patches.h"
#include "taupe/dataset/tracks.h"

namespace taupe {
namespace {

using testing_data::expect_error;
using testing_data::make_glimpse;
using testing_data::mix;
using testing_data::TempDir;
namespace fs = std::filesystem;

// ---- builders ---------------------------------------------------------------------------

PatchBatch make_patches(std::size_t n, std::size_t offset) {
  PatchBatch b;
  b.images.resize(n * 2 * 64 * 64);
  for (std::size_t i = 0; i < b.images.size(); ++i) b.images[i] = static_cast<std::uint16_t>(mix(offset * 8191 + i));
  for (std::size_t i = 0; i < n; ++i) {
    b.types.push_back((offset + i) % 2 ? CellType::kScrib : CellType::kWildType);
    b.features["area"].push_back(static_cast<float>(offset + i) * 0.5f);
  }
  return b;
}

EncodingSet make_encodings() {
  EncodingSet s;
  s.latent_dims = 32;
  s.glimpse_file = "glimpses.h5";
  for (int k = 0; k < 4; ++k) {
    EncodedTrajectory t;
    t.id = 10 + k;
    t.fate = k % 2 ? Fate::kApoptosis : Fate::kMitosis;
    const int T = 3 + k;
    t.cutoff = T - 1;
    t.rotation = k % 4;
    for (int i = 0; i < T * 32; ++i) {
      t.z_mean.push_back(std::ldexp(static_cast<float>(mix(k * 100 + i) % 2001) - 1000.f, -7));
      t.z_log_var.push_back(-static_cast<float>(i) * 1e-3f);
    }
    s.trajectories.push_back(t);
  }
  s.trajectories[1].z_mean[3] = std::numeric_limits<float>::denorm_min();  // bit-exact, not "close"
  return s;
}

TrackSet make_tracks() {
  TrackSet ts;
  ts.source = "simulate fov 3";
  auto add = [&](std::int64_t id, int start, int end, std::int64_t parent, Fate fate, CellType type, int onset) {
    Track t;
    t.id = id;
    t.start = start;
    t.end = end;
    t.parent = parent;
    t.fate = fate;
    t.type = type;
    t.event_onset = onset;
    ts.tracks.push_back(t);
    for (int f = start; f <= end; ++f) {
      TrackPoint p;
      p.track_id = id;
      p.t = f;
      p.x = 10.25 + f * 0.1 + id;
      p.y = 1.0 / 3.0 + f;
      p.parent = parent;
      p.label = static_cast<std::uint32_t>(id * 10 + f);
      ts.points.push_back(p);
    }
  };
  add(1, 0, 4, 0, Fate::kMitosis, CellType::kScrib, 3);
  add(2, 5, 9, 1, Fate::kApoptosis, CellType::kScrib, 7);
  add(3, 5, 8, 1, Fate::kLeftField, CellType::kScrib, -1);
  add(4, 2, 9, 0, Fate::kCensored, CellType::kWildType, -1);
  return ts;
}

MovieInfo movie_info() {
  MovieInfo info;
  info.frames = 3;
  info.channels = 2;
  info.height = 20;
  info.width = 30;
  info.pixel_size_um = 0.65;
  info.frame_interval_min = 4.0;
  return info;
}

MovieFrame make_frame(const MovieInfo& in, int t) {
  MovieFrame f;
  const std::size_t hw = std::size_t(in.height) * in.width;
  f.images.resize(hw * in.channels);
  for (std::size_t i = 0; i < f.images.size(); ++i)
    f.images[i] = static_cast<std::uint16_t>(mix(t * 77 + i) % (in.bit_depth == 8 ? 256 : 65536));
  f.labels.resize(hw);
  for (std::size_t i = 0; i < hw; ++i) f.labels[i] = static_cast<std::uint32_t>((i / 50) % 4 == 0 ? 0 : 100000 + i / 50 + t);
  for (std::uint32_t l : f.labels)
    if (l) f.label_types[l] = l % 2 ? CellType::kWildType : CellType::kScrib;
  return f;
}

// ---- round trips ------------------------------------------------------------------------

void expect_same(const GlimpseTrajectory& a, const GlimpseTrajectory& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.fate, b.fate);
  EXPECT_EQ(a.central_type, b.central_type);
  EXPECT_EQ(a.cutoff, b.cutoff);
  EXPECT_EQ(a.movie, b.movie);
  EXPECT_EQ(a.track_id, b.track_id);
  EXPECT_EQ(a.frames, b.frames);
  EXPECT_TRUE(a.images == b.images);
  EXPECT_TRUE(a.masks == b.masks);
  EXPECT_EQ(a.features, b.features);
}

TEST(Glimpses, RoundTripBitExactAndStreamsByTrajectory) {
  TempDir dir;
  const auto path = dir / "glimpses.h5";
  GlimpseFileInfo info;
  info.world = "compression";
  info.seed = 42;
  info.source = "simulate";
  info.frame_interval_min = 4.0;
  std::vector<GlimpseTrajectory> trs;
  for (int k = 0; k < 5; ++k) trs.push_back(make_glimpse(k + 1, 1 + 9 * k));  // 1, 10, 19, 28, 37 frames
  {
    GlimpseWriter w(path, info);
    for (const auto& tr : trs) w.append(tr);
    EXPECT_FALSE(fs::exists(path));
    w.close();
  }
  EXPECT_EQ(dir.files(), std::vector<std::string>{"glimpses.h5"});
  GlimpseReader r(path);
  EXPECT_EQ(r.size(), trs.size());
  EXPECT_EQ(r.file_info().world, "compression");
  EXPECT_EQ(r.file_info().seed, 42);
  EXPECT_EQ(r.file_info().source, "simulate");
  EXPECT_EQ(r.file_info().frame_interval_min, 4.0);
  EXPECT_EQ(r.feature_names(), (std::vector<std::string>{"compression", "nuclear_area_um2"}));
  EXPECT_EQ(r.path(), path);
  for (std::size_t i = trs.size(); i-- > 0;) {  // any order
    const GlimpseInfo& gi = r.infos()[i];
    EXPECT_EQ(gi.id, trs[i].id);
    EXPECT_EQ(gi.num_frames, trs[i].num_frames());
    EXPECT_EQ(gi.cutoff, trs[i].cutoff);
    EXPECT_EQ(gi.movie, trs[i].movie);
    expect_same(r.read(i), trs[i]);
  }
  expect_error<DataError>([&] { r.read(5); }, {path.string(), "index 5 out of range"});
}

TEST(Glimpses, EmptyFileAndNoFeatures) {
  TempDir dir;
  const auto path = dir / "empty.h5";
  { GlimpseWriter w(path, {}); w.close(); }
  EXPECT_EQ(GlimpseReader(path).size(), 0u);
  const auto path2 = dir / "nofeat.h5";
  {
    GlimpseWriter w(path2, {});
    w.append(make_glimpse(7, 3, false));
    w.close();
  }
  GlimpseReader r(path2);
  EXPECT_TRUE(r.feature_names().empty());
  expect_same(r.read(0), make_glimpse(7, 3, false));
}

TEST(Glimpses, AppendValidates) {
  TempDir dir;
  const auto path = dir / "bad.h5";
  GlimpseWriter w(path, {});
  w.append(make_glimpse(1, 4));
  auto tr = make_glimpse(2, 4);
  tr.images.pop_back();
  expect_error<DataError>([&] { w.append(tr); }, {path.string(), "trajectory 2", "images"});
  tr = make_glimpse(1, 4);
  expect_error<DataError>([&] { w.append(tr); }, {"trajectory 1", "duplicate"});
  tr = make_glimpse(3, 4);
  tr.cutoff = 4;
  expect_error<DataError>([&] { w.append(tr); }, {"trajectory 3", "cutoff 4"});
  tr = make_glimpse(3, 4);
  tr.masks[64 * 64 + 5] = 3;
  expect_error<DataError>([&] { w.append(tr); }, {"trajectory 3", "mask value 3", "frame 1"});
  tr = make_glimpse(3, 4, false);
  expect_error<DataError>([&] { w.append(tr); }, {"trajectory 3", "feature columns"});
  tr = make_glimpse(3, 4);
  tr.features["compression"].pop_back();
  expect_error<DataError>([&] { w.append(tr); }, {"trajectory 3", "feature 'compression'"});
}

TEST(Glimpses, WriterDestroyedWithoutCloseLeavesNothing) {
  TempDir dir;
  {
    GlimpseWriter w(dir / "g.h5", {});
    for (int k = 1; k <= 3; ++k) w.append(make_glimpse(k, 20));
  }
  EXPECT_TRUE(dir.files().empty());
}

TEST(Patches, RoundTripAndRangeReads) {
  TempDir dir;
  const auto path = dir / "patches.h5";
  PatchBatch all;
  {
    PatchWriter w(path);
    std::size_t offset = 0;
    for (std::size_t n : {5u, 17u, 0u, 32u, 1u}) {
      const auto b = make_patches(n, offset);
      offset += n;
      w.append(b);
      all.images.insert(all.images.end(), b.images.begin(), b.images.end());
      all.types.insert(all.types.end(), b.types.begin(), b.types.end());
      auto& a = all.features["area"];
      if (n) a.insert(a.end(), b.features.at("area").begin(), b.features.at("area").end());
    }
    w.close();
  }
  PatchReader r(path);
  ASSERT_EQ(r.size(), 55u);
  EXPECT_EQ(r.feature_names(), std::vector<std::string>{"area"});
  const auto whole = r.read(0, r.size());
  EXPECT_TRUE(whole.images == all.images);
  EXPECT_EQ(whole.types, all.types);
  EXPECT_EQ(whole.features, all.features);
  const auto part = r.read(20, 7);
  EXPECT_EQ(part.size(), 7u);
  EXPECT_TRUE(std::equal(part.images.begin(), part.images.end(), all.images.begin() + 20 * 2 * 64 * 64));
  EXPECT_EQ(part.features.at("area")[0], all.features.at("area")[20]);
  EXPECT_EQ(r.read(55, 0).size(), 0u);
  expect_error<DataError>([&] { r.read(50, 6); }, {path.string(), "[50, 56) out of range"});
}

TEST(Patches, WriterDestroyedWithoutCloseLeavesNothing) {
  TempDir dir;
  {
    PatchWriter w(dir / "p.h5");
    w.append(make_patches(40, 0));
  }
  EXPECT_TRUE(dir.files().empty());
}

TEST(Encodings, RoundTripBitExact) {
  TempDir dir;
  const auto path = dir / "enc.h5";
  const EncodingSet s = make_encodings();
  write_encodings(path, s);
  const EncodingSet r = read_encodings(path);
  EXPECT_EQ(r.latent_dims, 32);
  EXPECT_EQ(r.glimpse_file, s.glimpse_file);
  ASSERT_EQ(r.trajectories.size(), s.trajectories.size());
  for (std::size_t i = 0; i < s.trajectories.size(); ++i) {
    const auto &a = s.trajectories[i], &b = r.trajectories[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.fate, b.fate);
    EXPECT_EQ(a.cutoff, b.cutoff);
    EXPECT_EQ(a.rotation, b.rotation);
    EXPECT_EQ(0, std::memcmp(a.z_mean.data(), b.z_mean.data(), a.z_mean.size() * 4));
    ASSERT_EQ(a.z_log_var, b.z_log_var);
    EXPECT_EQ(b.num_frames(32), 3 + static_cast<int>(i));
  }
  EncodingSet bad = s;
  bad.trajectories[2].z_mean.pop_back();
  expect_error<DataError>([&] { write_encodings(dir / "bad.h5", bad); }, {"bad.h5", "trajectory 12", "z_mean"});
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
}

TEST(Tracks, RoundTripBitExact) {
  TempDir dir;
  const auto path = dir / "tracks.h5";
  const TrackSet s = make_tracks();
  write_tracks(path, s);
  const TrackSet r = read_tracks(path);
  EXPECT_EQ(r.source, s.source);
  ASSERT_EQ(r.tracks.size(), s.tracks.size());
  for (std::size_t i = 0; i < s.tracks.size(); ++i) {
    EXPECT_EQ(r.tracks[i].id, s.tracks[i].id);
    EXPECT_EQ(r.tracks[i].start, s.tracks[i].start);
    EXPECT_EQ(r.tracks[i].end, s.tracks[i].end);
    EXPECT_EQ(r.tracks[i].parent, s.tracks[i].parent);
    EXPECT_EQ(r.tracks[i].fate, s.tracks[i].fate);
    EXPECT_EQ(r.tracks[i].type, s.tracks[i].type);
    EXPECT_EQ(r.tracks[i].event_onset, s.tracks[i].event_onset);
  }
  ASSERT_EQ(r.points.size(), s.points.size());
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    EXPECT_EQ(r.points[i].track_id, s.points[i].track_id);
    EXPECT_EQ(r.points[i].t, s.points[i].t);
    EXPECT_EQ(r.points[i].x, s.points[i].x);
    EXPECT_EQ(r.points[i].y, s.points[i].y);
    EXPECT_EQ(r.points[i].parent, s.points[i].parent);
    EXPECT_EQ(r.points[i].label, s.points[i].label);
  }
  write_tracks(dir / "empty.h5", TrackSet{});
  EXPECT_TRUE(read_tracks(dir / "empty.h5").tracks.empty());
}

TEST(Movie, RoundTripBitExactOneFrameAtATime) {
  for (int bits : {16, 8}) {
    TempDir dir;
    const auto path = dir / "movie.h5";
    MovieInfo info = movie_info();
    info.bit_depth = bits;
    {
      MovieWriter w(path, info);
      for (int t = 0; t < info.frames; ++t) w.append(make_frame(info, t));
      EXPECT_FALSE(fs::exists(path));
      w.close();
    }
    MovieReader r(path);
    EXPECT_EQ(r.info().frames, 3);
    EXPECT_EQ(r.info().channels, 2);
    EXPECT_EQ(r.info().height, 20);
    EXPECT_EQ(r.info().width, 30);
    EXPECT_EQ(r.info().bit_depth, bits);
    EXPECT_EQ(r.info().pixel_size_um, 0.65);
    EXPECT_EQ(r.info().frame_interval_min, 4.0);
    EXPECT_EQ(r.info().channel_names, info.channel_names);
    for (int t = 2; t >= 0; --t) {
      const MovieFrame a = make_frame(info, t), b = r.read(t);
      EXPECT_EQ(a.images, b.images);
      EXPECT_EQ(a.labels, b.labels);
      EXPECT_EQ(a.label_types, b.label_types);
    }
    expect_error<DataError>([&] { r.read(3); }, {path.string(), "frame 3 out of range"});
  }
}

TEST(Movie, ValidatesFramesAndDiscardsUnclosed) {
  TempDir dir;
  const auto path = dir / "m.h5";
  MovieInfo info = movie_info();
  {
    MovieWriter w(path, info);
    w.append(make_frame(info, 0));
    MovieFrame bad = make_frame(info, 1);
    bad.labels.pop_back();
    expect_error<DataError>([&] { w.append(bad); }, {path.string(), "frame 1", "labels"});
    expect_error<DataError>([&] { w.close(); }, {path.string(), "1 frames appended", "MovieInfo::frames = 3"});
  }
  EXPECT_TRUE(dir.files().empty());
  info.bit_depth = 12;
  expect_error<DataError>([&] { MovieWriter(path, info); }, {path.string(), "bit_depth = 12"});
  info.bit_depth = 8;
  MovieWriter w(path, info);
  expect_error<DataError>([&] { w.append(make_frame(movie_info(), 0)); }, {"does not fit bit_depth 8"});
}

// ---- damaged files ----------------------------------------------------------------------

struct Container {
  std::string name;      // format tag
  std::string dataset;   // a dataset the reader needs
  std::function<void(const fs::path&)> write;
  std::function<void(const fs::path&)> read;  // opens and reads everything
};

std::vector<Container> containers() {
  return {
      {"taupe.glimpses", "masks",
       [](const fs::path& p) {
         GlimpseWriter w(p, {});
         w.append(make_glimpse(1, 12));
         w.append(make_glimpse(2, 5));
         w.close();
       },
       [](const fs::path& p) {
         GlimpseReader r(p);
         for (std::size_t i = 0; i < r.size(); ++i) r.read(i);
       }},
      {"taupe.patches", "images",
       [](const fs::path& p) {
         PatchWriter w(p);
         w.append(make_patches(20, 0));
         w.close();
       },
       [](const fs::path& p) {
         PatchReader r(p);
         r.read(0, r.size());
       }},
      {"taupe.encodings", "z_log_var", [](const fs::path& p) { write_encodings(p, make_encodings()); },
       [](const fs::path& p) { read_encodings(p); }},
      {"taupe.tracks", "points/x", [](const fs::path& p) { write_tracks(p, make_tracks()); },
       [](const fs::path& p) { read_tracks(p); }},
      {"taupe.movie", "labels",
       [](const fs::path& p) {
         const MovieInfo info = movie_info();
         MovieWriter w(p, info);
         for (int t = 0; t < info.frames; ++t) w.append(make_frame(info, t));
         w.close();
       },
       [](const fs::path& p) {
         MovieReader r(p);
         for (int t = 0; t < r.info().frames; ++t) r.read(t);
       }},
  };
}

class Damaged : public ::testing::TestWithParam<std::size_t> {
 protected:
  Container c = containers()[GetParam()];
  TempDir dir;
  fs::path path = dir / "file.h5";
  void SetUp() override {
    c.write(path);
    c.read(path);  // the intact file reads
  }
  /// Replaces dataset `c.dataset` by one of type `type` and shape `dims` (fill values).
  void replace(const H5::DataType& type, std::vector<hsize_t> dims) {
    H5::H5File f(path.string(), H5F_ACC_RDWR);
    f.unlink(c.dataset);
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
    f.createDataSet(c.dataset, type, space);
  }
  std::string field() const { return "'/" + c.dataset + "'"; }
};

TEST_P(Damaged, Truncated) {
  fs::resize_file(path, fs::file_size(path) * 2 / 3);
  expect_error<IoError>([&] { c.read(path); }, {path.string(), "truncated"});
}

TEST_P(Damaged, WrongFormatVersion) {
  {
    H5::H5File f(path.string(), H5F_ACC_RDWR);
    h5::write_attr(f, "format_version", std::int64_t{2});
  }
  expect_error<DataError>([&] { c.read(path); }, {path.string(), "format_version", "is 2", c.name + " version 1"});
}

TEST_P(Damaged, WrongFormatName) {
  {
    H5::H5File f(path.string(), H5F_ACC_RDWR);
    h5::write_attr(f, "format", std::string("taupe.other"));
  }
  expect_error<DataError>([&] { c.read(path); }, {path.string(), "'taupe.other'", "expected '" + c.name + "'"});
}

TEST_P(Damaged, MissingDataset) {
  {
    H5::H5File f(path.string(), H5F_ACC_RDWR);
    f.unlink(c.dataset);
  }
  expect_error<DataError>([&] { c.read(path); }, {path.string(), "dataset " + field(), "missing"});
}

TEST_P(Damaged, WrongDtype) {
  std::vector<hsize_t> dims;
  {
    H5::H5File f(path.string(), H5F_ACC_RDONLY);
    dims = h5::shape_of(f, c.dataset);
  }
  replace(H5::PredType::NATIVE_INT16, dims);
  expect_error<DataError>([&] { c.read(path); }, {path.string(), "dataset " + field(), "expected dtype", "found int16"});
}

TEST_P(Damaged, WrongShape) {
  std::vector<hsize_t> dims;
  H5::DataType type;
  {
    H5::H5File f(path.string(), H5F_ACC_RDONLY);
    dims = h5::shape_of(f, c.dataset);
    type = f.openDataSet(c.dataset).getDataType();
  }
  dims.back() += 1;
  replace(type, dims);
  expect_error<DataError>([&] { c.read(path); }, {path.string(), "dataset " + field(), "expected shape", "found ("});
}

INSTANTIATE_TEST_SUITE_P(AllContainers, Damaged, ::testing::Range<std::size_t>(0, 5),
                         [](const ::testing::TestParamInfo<std::size_t>& i) {
                           std::string n = containers()[i.param].name.substr(6);
                           return n;
                         });

}  // namespace
}  // namespace taupe
