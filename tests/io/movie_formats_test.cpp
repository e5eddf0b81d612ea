// btrack HDF5 (0.4.x and 0.6.x quirks), Cell Tracking Challenge and CSV tracks import to the
// right tracks, parents, fates, labels and cell types; malformed inputs fail with exact messages.
#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <cmath>
#include <fstream>

#include "io_test_util.h"
#include "taupe/core/atomic_file.h"
#include "taupe/dataset/movie.h"
#include "taupe/dataset/tiff_stack.h"
#include "taupe/dataset/track_labels.h"
#include "taupe/dataset/tracks.h"
#include "taupe/io/btrack.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/ctc.h"

namespace taupe::io {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::TempDir;

constexpr int kT = 6, kH = 40, kW = 60;

/// One observation of the fixture lineage.
struct Obs {
  std::int64_t track;
  int t;
  double x, y;
  bool gfp;   // bright channel
};

/// Lineage: 1 (frames 0-2, root) divides into 2 (3-5, apoptosis) and 3 (3-5, leaves the field);
/// 4 (0-5, root, RFP) is censored.
std::vector<Obs> lineage() {
  std::vector<Obs> o;
  for (int t = 0; t <= 2; ++t) o.push_back({1, t, 15.0 + t, 20, true});
  for (int t = 3; t <= 5; ++t) o.push_back({2, t, 10, 10.0 + t, true});
  for (int t = 3; t <= 5; ++t) o.push_back({3, t, 45, 30, true});
  for (int t = 0; t <= 5; ++t) o.push_back({4, t, 50, 8, false});
  return o;
}

void paint(std::vector<std::uint16_t>& img, int t, int c, double x, double y, std::uint16_t v, int C) {
  for (int yy = 0; yy < kH; ++yy)
    for (int xx = 0; xx < kW; ++xx)
      if (std::hypot(xx - x, yy - y) <= 3.0) img[std::size_t(((t * C + c) * kH + yy) * kW + xx)] = v;
}

/// Movie (T, 2, Y, X) and labels (T, Y, X) (label = `label_of(obs index)`).
void render(const std::vector<Obs>& obs, std::vector<std::uint16_t>& movie, std::vector<std::uint16_t>& labels,
            bool label_is_track) {
  movie.assign(std::size_t(kT) * 2 * kH * kW, 20);
  labels.assign(std::size_t(kT) * kH * kW, 0);
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const Obs& o = obs[i];
    paint(movie, o.t, o.gfp ? 0 : 1, o.x, o.y, 900, 2);
    paint(labels, o.t, 0, o.x, o.y, static_cast<std::uint16_t>(label_is_track ? o.track : 10 + i), 1);
  }
}

/// The rendered lineage as dir/movie.tif (T, 2, Y, X) and dir/seg.tif (T, Y, X); returns the labels.
std::vector<std::uint16_t> write_movie_and_labels(const TempDir& dir, const std::vector<Obs>& obs) {
  std::vector<std::uint16_t> movie, labels;
  render(obs, movie, labels, false);
  write_tiff(dir / "movie.tif", movie, tcyx(kT, 2, kH, kW));
  write_tiff(dir / "seg.tif", labels, tcyx(kT, 1, kH, kW));
  return labels;
}

template <class T>
void put(H5::Group& g, const std::string& name, const std::vector<T>& v, std::vector<hsize_t> dims,
         const H5::PredType& type) {
  H5::DataSpace sp(int(dims.size()), dims.data());
  H5::DataSet ds = g.createDataSet(name, type, sp);
  if (!v.empty()) ds.write(v.data(), type);
}

/// Writes a btrack file the way btrack `version` does: coords [t, x, y, z, type] (0.4.x: y in
/// column 1), buggy objects map, roots with parent == own id, a dummy [t, x, y, z, type] (x in
/// column 1 in every version, as in btrack-examples' 0.4.3 file), fates codes.
/// `misplace_dummy` writes the dummy in the other order (the layout the dummy check refuses).
void write_btrack(const fs::path& path, const std::string& version, bool with_segmentation,
                  const std::vector<std::uint16_t>& labels, const std::vector<Obs>& obs, bool misplace_dummy = false) {
  H5::H5File f(path.string(), H5F_ACC_TRUNC);
  H5::Group objects = f.createGroup("objects");
  H5::Group ot = objects.createGroup("obj_type_1");
  // Objects sorted by t (as btrack writes them), except the dummy (track 4, frame 2).
  std::vector<std::size_t> order;
  for (int t = 0; t < kT; ++t)
    for (std::size_t i = 0; i < obs.size(); ++i)
      if (obs[i].t == t && !(obs[i].track == 4 && t == 2)) order.push_back(i);
  const bool y_first = version.rfind("0.4", 0) == 0;
  std::vector<float> coords;
  std::vector<std::size_t> row_of(obs.size(), 0);
  for (std::size_t r = 0; r < order.size(); ++r) {
    const Obs& o = obs[order[r]];
    row_of[order[r]] = r;
    coords.insert(coords.end(), {float(o.t), float(y_first ? o.y : o.x), float(y_first ? o.x : o.y), 0.f, 0.f});
  }
  put(ot, "coords", coords, {order.size(), 5}, H5::PredType::NATIVE_FLOAT);
  put(ot, "labels", std::vector<float>(order.size(), 5.f), {order.size(), 1}, H5::PredType::NATIVE_FLOAT);
  std::vector<std::uint32_t> bad_map;   // [last of previous frame, last of this frame]: wrong on purpose
  for (int t = 0; t < kT; ++t) bad_map.insert(bad_map.end(), {std::uint32_t(t * 3), std::uint32_t(t * 3 + 7)});
  put(ot, "map", bad_map, {hsize_t(kT), 2}, H5::PredType::NATIVE_UINT32);
  ot.createGroup("properties");

  H5::Group tracks = f.createGroup("tracks").createGroup("obj_type_1");
  H5::StrType str(H5::PredType::C_S1, H5T_VARIABLE);
  str.setCset(H5T_CSET_UTF8);
  H5::Attribute a = tracks.createAttribute("version", str, H5::DataSpace(H5S_SCALAR));
  a.write(str, version);
  std::vector<std::int32_t> refs;
  std::vector<std::uint32_t> tmap;
  for (std::int64_t id = 1; id <= 4; ++id) {
    const auto s = std::uint32_t(refs.size());
    for (std::size_t i = 0; i < obs.size(); ++i) {
      if (obs[i].track != id) continue;
      refs.push_back(id == 4 && obs[i].t == 2 ? -1 : std::int32_t(row_of[i]));
    }
    tmap.insert(tmap.end(), {s, std::uint32_t(refs.size())});
  }
  put(tracks, "tracks", refs, {refs.size()}, H5::PredType::NATIVE_INT32);
  put(tracks, "map", tmap, {4, 2}, H5::PredType::NATIVE_UINT32);
  // L B E P R G: roots have P == own id (track 1) or 0 (track 4).
  std::vector<std::int32_t> lbepr = {1, 0, 2, 1, 1, 0, 2, 3, 5, 1, 1, 1, 3, 3, 5, 1, 1, 1, 4, 0, 5, 0, 4, 0};
  put(tracks, "LBEPR", lbepr, {4, 6}, H5::PredType::NATIVE_INT32);
  put(tracks, "fates", std::vector<std::int32_t>{4, 5, 20, 2}, {4}, H5::PredType::NATIVE_INT32);
  const Obs& d = obs[std::size_t(std::find_if(obs.begin(), obs.end(), [](const Obs& o) { return o.track == 4 && o.t == 2; }) - obs.begin())];
  put(tracks, "dummies",
      std::vector<float>{2.f, float(misplace_dummy ? d.y : d.x), float(misplace_dummy ? d.x : d.y), 0.f, 1.f}, {1, 5},
      H5::PredType::NATIVE_FLOAT);
  if (with_segmentation) {
    H5::Group seg = f.createGroup("segmentation");
    put(seg, "images", labels, {hsize_t(kT), hsize_t(kH), hsize_t(kW)}, H5::PredType::NATIVE_UINT16);
  }
}

void expect_lineage(const fs::path& tracks_file, bool check_types = true, bool check_labels = true) {
  const TrackSet ts = read_tracks(tracks_file);
  ASSERT_EQ(ts.tracks.size(), 4u);
  std::map<std::int64_t, Track> by;
  for (const auto& t : ts.tracks) by[t.id] = t;
  EXPECT_EQ(by[1].parent, 0);
  EXPECT_EQ(by[2].parent, 1);
  EXPECT_EQ(by[3].parent, 1);
  EXPECT_EQ(by[4].parent, 0);
  EXPECT_EQ(by[1].fate, Fate::kMitosis);
  EXPECT_EQ(by[1].start, 0);
  EXPECT_EQ(by[1].end, 2);
  EXPECT_EQ(by[2].start, 3);
  EXPECT_EQ(by[4].end, 5);
  if (check_types) {
    EXPECT_EQ(by[1].type, CellType::kWildType);
    EXPECT_EQ(by[4].type, CellType::kScrib);
  }
  ASSERT_EQ(ts.points.size(), 15u);
  for (const auto& p : ts.points) {
    if (check_labels) {
      EXPECT_NE(p.label, 0u) << "track " << p.track_id << " t " << p.t;
    }
    if (p.track_id == 4) {
      EXPECT_NEAR(p.x, 50, 1e-6);
      EXPECT_NEAR(p.y, 8, 1e-6);
    }
    if (p.track_id == 1) {
      EXPECT_NEAR(p.x, 15 + p.t, 1e-6);
      EXPECT_NEAR(p.y, 20, 1e-6);
    }
  }
}

class BtrackVersions : public ::testing::TestWithParam<std::string> {};

TEST_P(BtrackVersions, ImportsTracksParentsFatesAndDummies) {
  TempDir dir("btrack");
  std::vector<std::uint16_t> movie, labels;
  const auto obs = lineage();
  render(obs, movie, labels, false);
  write_tiff(dir / "movie.tif", movie, tcyx(kT, 2, kH, kW));
  const bool in_file = GetParam() == "0.6.1";
  write_btrack(dir / "tracks.h5", GetParam(), in_file, labels, obs);
  BtrackImportOptions o;
  o.file = dir / "tracks.h5";
  o.movie = dir / "movie.tif";
  if (!in_file) {
    write_tiff(dir / "seg.tif", labels, tcyx(kT, 1, kH, kW));
    o.segmentation = dir / "seg.tif";
  }
  const BtrackData raw = read_btrack(o.file);
  EXPECT_EQ(raw.version, GetParam());
  EXPECT_EQ(raw.column1_is_y, !in_file);
  EXPECT_EQ(raw.dummies, 1u);
  const IoSummary s = import_btrack(o, dir / "out");
  expect_lineage(dir / "out" / "tracks" / "tracks.h5");
  const TrackSet ts = read_tracks(dir / "out" / "tracks" / "tracks.h5");
  std::map<std::int64_t, Fate> fates;
  for (const auto& t : ts.tracks) fates[t.id] = t.fate;
  EXPECT_EQ(fates[2], Fate::kApoptosis);
  EXPECT_EQ(fates[3], Fate::kLeftField);
  EXPECT_EQ(fates[4], Fate::kCensored);
  MovieReader mr(dir / "out" / "tracks" / "movie.h5");
  EXPECT_EQ(mr.info().frames, kT);
  EXPECT_EQ(mr.info().width, kW);
  const MovieFrame f0 = mr.read(0);
  EXPECT_EQ(f0.images, std::vector<std::uint16_t>(movie.begin(), movie.begin() + 2 * kH * kW));
  // --swap-xy on a correctly read file moves the objects but not the dummy: refused, and the
  // hint never suggests the flag that was given.
  o.read.swap_xy = true;
  try {
    import_btrack(o, dir / "out2");
    ADD_FAILURE() << "--swap-xy on a correctly read file imported";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(": /tracks/obj_type_1/dummies: track 4 frame 2: dummy at (x 50.0, y 8.0)"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.hint().find("try --swap-xy"), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("without it"), std::string::npos) << e.hint();
  }
  EXPECT_FALSE(fs::exists(dir / "out2"));
  // Without dummies to catch it, the movie bounds do: the hint is the same.
  o.read.dummy_step_px = 1e9;
  try {
    import_btrack(o, dir / "out3");
    ADD_FAILURE() << "--swap-xy on a correctly read file imported";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "tracks.h5").string() +
                                         ": track 3 frame 3: position (x 30.000000, y 45.000000) lies outside the 60 x 40 "
                                         "movie (x = column, y = row)");
    EXPECT_EQ(e.hint().find("try --swap-xy"), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("without it"), std::string::npos) << e.hint();
  }
  EXPECT_FALSE(fs::exists(dir / "out3"));
}

/// Tracks import without a movie (no label ids, no types); joined later with the movie, they
/// equal the tracks imported with it.
TEST_P(BtrackVersions, TracksOnlyThenJoinedWithTheMovie) {
  TempDir dir("btrack_only");
  const auto obs = lineage();
  const auto labels = write_movie_and_labels(dir, obs);
  write_btrack(dir / "tracks.h5", GetParam(), false, labels, obs);
  BtrackImportOptions o;
  o.file = dir / "tracks.h5";
  const IoSummary only = import_btrack(o, dir / "only");
  ASSERT_EQ(only.outputs.size(), 1u);
  EXPECT_EQ(only.outputs[0], dir / "only" / "tracks" / "tracks.h5");
  EXPECT_FALSE(fs::exists(dir / "only" / "tracks" / "movie.h5"));
  TrackSet alone = read_tracks(dir / "only" / "tracks" / "tracks.h5");
  expect_lineage(dir / "only" / "tracks" / "tracks.h5", /*check_types=*/false, /*check_labels=*/false);
  for (const TrackPoint& p : alone.points) EXPECT_EQ(p.label, 0u);
  for (const Track& t : alone.tracks) EXPECT_EQ(t.type, CellType::kUnknown);

  o.movie = dir / "movie.tif";
  o.segmentation = dir / "seg.tif";
  import_btrack(o, dir / "with");
  const TrackSet with = read_tracks(dir / "with" / "tracks" / "tracks.h5");
  const JoinCounts n = join_tracks_with_movie(alone, MovieReader(dir / "with" / "tracks" / "movie.h5"), "alone");
  EXPECT_EQ(n.labelled, 15u);
  EXPECT_EQ(n.unmatched, 0u);
  ASSERT_EQ(alone.points.size(), with.points.size());
  for (std::size_t i = 0; i < with.points.size(); ++i) EXPECT_EQ(alone.points[i].label, with.points[i].label) << i;
  for (std::size_t i = 0; i < with.tracks.size(); ++i) EXPECT_EQ(alone.tracks[i].type, with.tracks[i].type) << i;
}

/// A dummy written in the objects' order (not btrack's) lies far from its track: refused,
/// naming the track and frame; the hint suggests --swap-xy only when it was not given.
TEST_P(BtrackVersions, MisplacedDummyIsRefusedNamingTrackAndFrame) {
  TempDir dir("btrack_dummy");
  std::vector<std::uint16_t> movie, labels;
  const auto obs = lineage();
  render(obs, movie, labels, false);
  write_btrack(dir / "misplaced.h5", GetParam(), false, labels, obs, /*misplace_dummy=*/true);
  write_btrack(dir / "right.h5", GetParam(), false, labels, obs);
  // Misplaced dummy, read as the version says; then a right file read with --swap-xy (the
  // objects move, the dummy does not).
  for (bool swap : {false, true}) {
    BtrackReadOptions ro;
    ro.swap_xy = swap;
    const fs::path file = dir / (swap ? "right.h5" : "misplaced.h5");
    try {
      read_btrack(file, ro);
      ADD_FAILURE() << "misplaced dummy accepted (swap_xy " << swap << ")";
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file.string() +
                          ": /tracks/obj_type_1/dummies: track 4 frame 2: dummy at (x " + (swap ? "50.0, y 8.0" : "8.0, y 50.0") +
                          ") lies 59.4 px from the track's real observation at frame 1 (x " + (swap ? "8.0, y 50.0" : "50.0, y 8.0") +
                          "); at most 15 px per frame expected"),
                std::string::npos)
          << what;
      EXPECT_EQ(e.hint().find("try --swap-xy") == std::string::npos, swap) << e.hint();
    }
  }
}

/// btrack-examples' examples/tracks.h5 (written by btrack 0.4.3; objects hold y in column 1,
/// dummies x), cut to 17 tracks: every dummy sits next to its track's real observations.
TEST(BtrackRealFile, Version043DummiesLieOnTheirTracks) {
  const fs::path file = fs::path(TAUPE_SOURCE_DIR) / "tests/data/btrack/btrack_examples_0.4.3_subset.h5";
  const BtrackData d = read_btrack(file);
  EXPECT_EQ(d.version, "0.4.3");
  EXPECT_TRUE(d.column1_is_y);
  EXPECT_EQ(d.dummies, 34u);
  EXPECT_EQ(d.tracks.tracks.size(), 17u);
  EXPECT_LT(d.max_dummy_offset_px, 15.0);
  // The field of view is 1600 (x) by 1200 (y) pixels.
  double max_step = 0;
  for (std::size_t i = 0; i < d.tracks.points.size(); ++i) {
    const TrackPoint& p = d.tracks.points[i];
    EXPECT_TRUE(p.x >= 0 && p.x < 1600 && p.y >= 0 && p.y < 1200) << "track " << p.track_id << " frame " << p.t;
    if (i && d.tracks.points[i - 1].track_id == p.track_id) {
      const TrackPoint& q = d.tracks.points[i - 1];
      max_step = std::max(max_step, std::hypot(p.x - q.x, p.y - q.y) / (p.t - q.t));
    }
  }
  EXPECT_LT(max_step, 40.0);   // read in one order for both tables, dummies jump hundreds of px
  const std::ptrdiff_t k82 = d.tracks.find(82), k87 = d.tracks.find(87), k53 = d.tracks.find(53);
  ASSERT_GE(k82, 0);
  ASSERT_GE(k87, 0);
  ASSERT_GE(k53, 0);
  EXPECT_EQ(d.tracks.tracks[std::size_t(k87)].parent, 82);
  EXPECT_EQ(d.tracks.tracks[std::size_t(k82)].parent, 53);
  EXPECT_EQ(d.tracks.tracks[std::size_t(k53)].parent, 0);
  EXPECT_EQ(d.tracks.tracks[std::size_t(k82)].fate, Fate::kMitosis);
  // Reading the objects in the other order moves them away from the dummies: refused.
  BtrackReadOptions swapped;
  swapped.swap_xy = true;
  try {
    read_btrack(file, swapped);
    ADD_FAILURE() << "objects swapped against the dummies were accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/dummies: track "), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Io, BtrackVersions, ::testing::Values("0.4.6", "0.6.1"));

/// CTC fixture: three generations 1 -> {2, 3}, 2 -> {4, 5}.
struct Ctc {
  fs::path tracks, masks, raw, fates;
};
Ctc write_ctc(const fs::path& dir, const std::string& track_text, int frames = 6, std::string mask_text = "") {
  Ctc c{dir / "01_GT" / "TRA" / "man_track.txt", dir / "01_GT" / "TRA", dir / "01", dir / "fates.csv"};
  fs::create_directories(c.masks);
  fs::create_directories(c.raw);
  write_text_atomic(c.tracks, track_text);
  write_text_atomic(c.fates, "track_id,fate\n5,apoptosis\n");
  const TrackSet ts = parse_ctc_tracks(mask_text.empty() ? track_text : mask_text, "fixture");
  for (int t = 0; t < frames; ++t) {
    std::vector<std::uint16_t> mask(std::size_t(kH) * kW, 0), raw(2 * std::size_t(kH) * kW, 30);
    for (const Track& tr : ts.tracks) {
      if (t < tr.start || t > tr.end) continue;
      const double x = 8 + 9 * double(tr.id), y = 20;
      paint(mask, 0, 0, x, y, static_cast<std::uint16_t>(tr.id), 1);
      paint(raw, 0, tr.id == 3 ? 1 : 0, x, y, 800, 2);
    }
    char name[32];
    std::snprintf(name, sizeof name, "man_track%03d.tif", t);
    write_tiff(c.masks / name, mask, tcyx(1, 1, kH, kW));
    std::snprintf(name, sizeof name, "t%03d.tif", t);
    write_tiff(c.raw / name, raw, tcyx(1, 2, kH, kW));
  }
  return c;
}

const char* kThreeGenerations = "1 0 1 0\n2 2 3 1\n3 2 5 1\n4 4 5 2\n5 4 5 2\n";

TEST(Ctc, ThreeGenerationLineage) {
  TempDir dir("ctc");
  const Ctc c = write_ctc(dir.path(), kThreeGenerations);
  CtcImportOptions o;
  o.tracks = c.tracks;
  o.raw = c.raw;
  o.fates = c.fates;
  import_ctc(o, dir / "out");
  const TrackSet ts = read_tracks(dir / "out" / "01" / "tracks.h5");
  std::map<std::int64_t, Track> by;
  for (const auto& t : ts.tracks) by[t.id] = t;
  ASSERT_EQ(by.size(), 5u);
  EXPECT_EQ(by[1].parent, 0);
  EXPECT_EQ(by[2].parent, 1);
  EXPECT_EQ(by[3].parent, 1);
  EXPECT_EQ(by[4].parent, 2);
  EXPECT_EQ(by[5].parent, 2);
  EXPECT_EQ(by[1].fate, Fate::kMitosis);
  EXPECT_EQ(by[2].fate, Fate::kMitosis);
  EXPECT_EQ(by[3].fate, Fate::kCensored);
  EXPECT_EQ(by[5].fate, Fate::kApoptosis);
  EXPECT_EQ(by[3].type, CellType::kScrib);
  EXPECT_EQ(by[4].type, CellType::kWildType);
  EXPECT_EQ(ts.points.size(), 2u + 2 + 4 + 2 + 2);
  for (const auto& p : ts.points) {
    EXPECT_EQ(p.label, std::uint32_t(p.track_id));
    EXPECT_NEAR(p.x, 8 + 9 * double(p.track_id), 1e-9);
    EXPECT_NEAR(p.y, 20, 1e-9);
  }
}

TEST(Csv, NapariAndBtrackSpaceDelimited) {
  const TrackSet a = parse_tracks_csv("ID,t,y,x,parent\n1,0,5.5,6,0\n1,1,5,7,0\n2,2,3,4,1\n3,2,9,9,1\n", "a.csv");
  ASSERT_EQ(a.tracks.size(), 3u);
  EXPECT_EQ(a.tracks[0].end, 1);
  EXPECT_EQ(a.points[0].y, 5.5);
  EXPECT_EQ(a.points[0].x, 6);
  EXPECT_EQ(a.tracks[2].parent, 1);
  const TrackSet b = parse_tracks_csv("ID t x y z parent root state generation dummy\n4 0 1 2 0 4 4 5 0 0\n"
                                      "4 1 1.5 2 0 4 4 5 0 1\n",
                                      "b.csv");
  ASSERT_EQ(b.tracks.size(), 1u);
  EXPECT_EQ(b.tracks[0].parent, 0);   // btrack root: parent == own id
  EXPECT_EQ(b.points[1].x, 1.5);
  // Rows in any order (sorted on read, as TrackSet::validate requires).
  EXPECT_NO_THROW(parse_tracks_csv("ID,t,y,x\n2,1,0,0\n1,0,0,0\n2,0,1,1\n", "u.csv").validate("u.csv"));
  const auto g = parse_graph_json("{\"3\": [1], \"2\": 1}", "graph.json");
  EXPECT_EQ(g.at(3), 1);
  EXPECT_EQ(g.at(2), 1);
}

TEST(Csv, ImportRoundTripThroughExport) {
  TempDir dir("csv");
  const auto obs = lineage();
  write_movie_and_labels(dir, obs);
  std::string csv = "ID,t,y,x\n";
  for (const Obs& o : obs) csv += std::to_string(o.track) + "," + std::to_string(o.t) + "," + std::to_string(o.y) + "," +
                                  std::to_string(o.x) + "\n";
  write_text_atomic(dir / "tracks.csv", csv);
  write_text_atomic(dir / "graph.json", "{\"2\": [1], \"3\": [1]}");
  CsvImportOptions o;
  o.tracks = dir / "tracks.csv";
  o.graph = dir / "graph.json";
  o.movie = dir / "movie.tif";
  o.segmentation = dir / "seg.tif";
  import_csv(o, dir / "out");
  expect_lineage(dir / "out" / "movie" / "tracks.h5");
  // Export to napari CSV and import again: same tracks.
  export_tracks_csv(dir / "out" / "movie" / "tracks.h5", dir / "csv2");
  CsvImportOptions o2 = o;
  o2.tracks = dir / "csv2" / "tracks.csv";
  o2.graph = dir / "csv2" / "graph.json";
  import_csv(o2, dir / "out2");
  const TrackSet a = read_tracks(dir / "out" / "movie" / "tracks.h5");
  const TrackSet b = read_tracks(dir / "out2" / "movie" / "tracks.h5");
  ASSERT_EQ(a.tracks.size(), b.tracks.size());
  for (std::size_t i = 0; i < a.tracks.size(); ++i) {
    EXPECT_EQ(a.tracks[i].id, b.tracks[i].id);
    EXPECT_EQ(a.tracks[i].parent, b.tracks[i].parent);
    EXPECT_EQ(a.tracks[i].fate, b.tracks[i].fate);
  }
}

TEST(MovieFormatsMalformed, EachRuleHasItsMessage) {
  // --- CTC track text ---
  expect_error<DataError>([] { parse_ctc_tracks("1 0 1 0\n2 0 x 0\n", "t.txt"); },
                          "t.txt: line 2: expected 4 integers 'L B E P', found '2 0 x 0'");
  TempDir dir("malformed");
  auto ctc = [&](const std::string& name, const std::string& text, const std::string& mask_text = "") {
    const Ctc c = write_ctc(dir / name, text, 6, mask_text);
    CtcImportOptions o;
    o.tracks = c.tracks;
    o.raw = c.raw;
    return [o, out = dir / name / "out"] {
      try {
        import_ctc(o, out);
      } catch (...) {
        EXPECT_FALSE(fs::exists(out / "01" / "movie.h5"));   // nothing written
        throw;
      }
    };
  };
  const std::string tra = "/01_GT/TRA/man_track.txt";
  expect_error<DataError>(ctc("dup", "1 0 1 0\n1 2 3 0\n", "1 0 1 0\n"),
                          (dir / "dup").string() + tra + ": track 1 [2, 3] parent 0: duplicate track id (ids must be unique)");
  expect_error<DataError>(ctc("noparent", "1 0 1 0\n2 2 3 7\n", "1 0 1 0\n2 2 3 0\n"),
                          (dir / "noparent").string() + tra + ": track 2 [2, 3] parent 7: parent 7 does not exist (0 = root)");
  expect_error<DataError>(ctc("cycle", "1 0 1 2\n2 2 3 1\n", "1 0 1 0\n2 2 3 0\n"),
                          (dir / "cycle").string() + tra + ": track 1: lineage cycle (1 -> 2 -> 1): parent links must form a forest");
  expect_error<DataError>(ctc("late", "1 0 3 0\n2 2 3 1\n"),
                          (dir / "late").string() + tra + ": track 2 [2, 3] parent 1: starts at frame 2, not after its parent 1 ends (frame 3)");
  expect_error<DataError>(ctc("missing", "1 0 5 0\n", "1 0 4 0\n"),
                          (dir / "missing").string() + "/01_GT/TRA/man_track005.tif: label 1 of track 1 is missing from the "
                          "mask at frame 5 (every frame in [B, E] must contain the track's label)");
  expect_error<DataError>(ctc("unlisted", "1 0 5 0\n", "1 0 5 0\n2 1 2 0\n"),
                          (dir / "unlisted").string() + "/01_GT/TRA/man_track001.tif: label 2 at frame 1 belongs to no track "
                          "alive in that frame (every mask label must be listed)");
  expect_error<DataError>(ctc("outside", "1 0 7 0\n", "1 0 5 0\n"),
                          (dir / "outside").string() + tra + ": track 1: frames [0, 7] fall outside the movie (6 frames, 0..5)");

  // --- CSV tracks ---
  expect_error<DataError>([] { parse_tracks_csv("ID,t,y\n1,0,2\n", "c.csv"); },
                          "c.csv: line 1: header lacks column 'x' (need ID, t, x, y; map other names with --columns x=NAME)");
  expect_error<DataError>([] { parse_tracks_csv("ID,t,y,x\n1,0,2,3\n1,0,2,4\n", "c.csv"); },
                          "c.csv: line 3: track 1 has a second row at frame 0 (a division inside one track id? a TrackMate spots table keeps both daughters under one TRACK_ID: import the TrackMate XML, which has the edges)");
  expect_error<DataError>([] { parse_tracks_csv("ID,t,y,x\n1,0,nan,3\n", "c.csv"); },
                          "c.csv: line 2: column 'y': 'nan' is not a finite number");
  expect_error<DataError>([] { parse_tracks_csv("ID,t,y,x\n1,0,2\n", "c.csv"); },
                          "c.csv: line 2: 3 fields, the header has 4");

  // --- btrack HDF5 ---
  std::vector<std::uint16_t> movie, labels;
  const auto obs = lineage();
  render(obs, movie, labels, false);
  write_tiff(dir / "movie.tif", movie, tcyx(kT, 2, kH, kW));
  auto btrack = [&](const std::string& name, const std::function<void(H5::H5File&)>& damage) {
    const fs::path p = dir / (name + ".h5");
    write_btrack(p, "0.6.1", true, labels, obs);
    {
      H5::H5File f(p.string(), H5F_ACC_RDWR);
      damage(f);
    }
    BtrackImportOptions o;
    o.file = p;
    o.movie = dir / "movie.tif";
    return [o, out = dir / (name + "_out")] {
      try {
        import_btrack(o, out);
      } catch (...) {
        EXPECT_FALSE(fs::exists(out));
        throw;
      }
    };
  };
  auto overwrite = [](H5::H5File& f, const std::string& name, std::vector<std::int32_t> v) {
    f.openDataSet(name).write(v.data(), H5::PredType::NATIVE_INT32);
  };
  const std::string bt = (dir / "fate42.h5").string();
  expect_error<DataError>(btrack("fate42", [&](H5::H5File& f) { overwrite(f, "tracks/obj_type_1/fates", {4, 5, 42, 2}); }),
                          bt + ": /tracks/obj_type_1/fates: row 2 (track 3): fate code 42.000000 is not a btrack Fates value");
  const std::string br = (dir / "badref.h5").string();
  expect_error<DataError>(btrack("badref",
                                 [&](H5::H5File& f) {
                                   std::vector<std::int32_t> refs(15);
                                   f.openDataSet("tracks/obj_type_1/tracks").read(refs.data(), H5::PredType::NATIVE_INT32);
                                   refs[0] = 99;
                                   overwrite(f, "tracks/obj_type_1/tracks", refs);
                                 }),
                          br + ": /tracks/obj_type_1/tracks: reference 99 of track 1 exceeds the 14 objects");
  const std::string bd = (dir / "dupid.h5").string();
  expect_error<DataError>(btrack("dupid",
                                 [&](H5::H5File& f) {
                                   overwrite(f, "tracks/obj_type_1/LBEPR",
                                             {1, 0, 2, 1, 1, 0, 2, 3, 5, 1, 1, 1, 2, 3, 5, 1, 1, 1, 4, 0, 5, 0, 4, 0});
                                 }),
                          bd + ": /tracks/obj_type_1/LBEPR: track 2 [3, 5] parent 1: duplicate track id (ids must be unique)");

  // --- movie axes / channels ---
  write_tiff(dir / "three.tif", std::vector<std::uint16_t>(std::size_t(kT) * 3 * kH * kW, 1), tcyx(kT, 3, kH, kW));
  write_text_atomic(dir / "one.csv", "ID,t,y,x\n1,0,5,5\n");
  CsvImportOptions co;
  co.tracks = dir / "one.csv";
  co.movie = dir / "three.tif";
  expect_error<DataError>([&] { import_csv(co, dir / "csv_out"); },
                          (dir / "three.tif").string() + ": axes: channel axis has 3 channel(s); expected 2 (GFP, RFP) -- "
                          "pass --channels gfp=I,rfp=J to pick them");
  co.movie_opts.channels = {"gfp=2", "rfp=0"};
  EXPECT_NO_THROW(import_csv(co, dir / "csv_out"));
}

/// Regressions from the structure-aware fuzz target (fuzz/fuzz_btrack.cpp): each damaged file
/// used to crash or hit undefined behaviour in read_btrack; now each gets its message.
TEST(BtrackFuzzRegressions, DamagedTablesAndAttributes) {
  TempDir dir("btrack_fuzz");
  std::vector<std::uint16_t> movie, labels;
  const auto obs = lineage();
  render(obs, movie, labels, false);
  fs::path p;
  auto damaged = [&](const std::string& name, const std::function<void(H5::Group&)>& damage) {
    p = dir / (name + ".h5");
    write_btrack(p, "0.6.1", false, labels, obs);
    H5::H5File f(p.string(), H5F_ACC_RDWR);
    H5::Group t = f.openGroup("tracks/obj_type_1");
    damage(t);
    return [path = p] { read_btrack(path); };
  };
  auto replace = [](H5::Group& g, const std::string& name, const auto& values, std::vector<hsize_t> dims,
                    const H5::DataType& file_type, const H5::PredType& mem_type) {
    g.unlink(name);
    H5::DataSet ds = g.createDataSet(name, file_type, H5::DataSpace(int(dims.size()), dims.data()));
    if (!values.empty()) ds.write(values.data(), mem_type);
  };
  const std::string tw = ": /tracks/obj_type_1";

  // Two strings in `version`: libhdf5_cpp's Attribute::read(StrType, std::string) wrote the
  // second pointer past its one-element buffer (stack overwrite, bad free).
  auto two_versions = damaged("two_versions", [](H5::Group& t) {
    t.removeAttr("version");
    H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
    const hsize_t two = 2;
    const char* v[2] = {"0.6.1", "0.4.6"};
    t.createAttribute("version", st, H5::DataSpace(1, &two)).write(st, v);
  });
  expect_error<DataError>(two_versions, p.string() + tw + ": attribute 'version': must hold one string, found 2");

  // No tracks but a `fates` table: the fates row width was computed as 0 / 0.
  auto no_tracks = damaged("no_tracks", [&](H5::Group& t) {
    const std::vector<std::int32_t> none;
    replace(t, "map", none, {0, 2}, H5::PredType::STD_U32LE, H5::PredType::NATIVE_INT32);
    replace(t, "LBEPR", none, {0, 6}, H5::PredType::STD_I32LE, H5::PredType::NATIVE_INT32);
    replace(t, "fates", none, {0}, H5::PredType::STD_I32LE, H5::PredType::NATIVE_INT32);
  });
  expect_error<DataError>(no_tracks, p.string() + tw + ": no tracks");

  // `dummies` of shape (1, 0): one dummy row of no values was read out of bounds.
  auto empty_dummies = damaged("empty_dummies", [&](H5::Group& t) {
    replace(t, "dummies", std::vector<float>{}, {1, 0}, H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT);
  });
  expect_error<DataError>(empty_dummies, p.string() + tw + "/tracks: dummy reference -1 of track 4 exceeds the 0 dummies");

  // uint64 LBEPR with id 2^64 - 1: the double -> int64 cast overflowed.
  auto huge_id = damaged("huge_id", [&](H5::Group& t) {
    std::vector<std::uint64_t> lbepr = {1, 0, 2, 1, 1, 0, 2, 3, 5, 1, 1, 1, 3, 3, 5, 1, 1, 1, 4, 0, 5, 0, 4, 0};
    lbepr[0] = ~std::uint64_t{0};
    replace(t, "LBEPR", lbepr, {4, 6}, H5::PredType::STD_U64LE, H5::PredType::NATIVE_UINT64);
  });
  expect_error<DataError>(huge_id, p.string() + tw + "/LBEPR: row 0 (track 1.84467e+19): id 1.84467e+19 or parent 1 "
                                                     "beyond +-2^53");

  // int64 fate code 2^62: the double -> int cast overflowed.
  auto huge_fate = damaged("huge_fate", [&](H5::Group& t) {
    replace(t, "fates", std::vector<std::int64_t>{std::int64_t{1} << 62, 5, 20, 2}, {4}, H5::PredType::STD_I64LE,
            H5::PredType::NATIVE_INT64);
  });
  expect_error<DataError>(huge_fate, p.string() + tw + "/fates: row 0 (track 1): fate code 4611686018427387904.000000 "
                                                       "is not a btrack Fates value");

  // Integers with padding bits are refused before libhdf5's soft conversion runs.
  auto odd_ints = damaged("odd_ints", [&](H5::Group& t) {
    H5::IntType i20(H5::PredType::STD_I32LE);
    i20.setPrecision(20);
    replace(t, "LBEPR", std::vector<std::int32_t>{1, 0, 2, 1, 1, 0, 2, 3, 5, 1, 1, 1, 3, 3, 5, 1, 1, 1, 4, 0, 5, 0, 4, 0},
            {4, 6}, i20, H5::PredType::NATIVE_INT32);
  });
  expect_error<DataError>(odd_ints, p.string() + tw + ": LBEPR: unsupported integer type (32-bit storage, 20 bits used); "
                                                      "expected 8-, 16-, 32- or 64-bit integers");

  // A fixed-length, space-padded `version` reads without its padding.
  damaged("fixed_version", [](H5::Group& t) {
    t.removeAttr("version");
    H5::StrType st(H5::PredType::C_S1, 8);
    st.setStrpad(H5T_STR_SPACEPAD);
    t.createAttribute("version", st, H5::DataSpace(H5S_SCALAR)).write(st, "0.4.6   ");
  });
  BtrackReadOptions no_dummy_check;   // the relabelled objects no longer sit on the dummy
  no_dummy_check.dummy_step_px = 1e9;
  const BtrackData fixed = read_btrack(p, no_dummy_check);
  EXPECT_EQ(fixed.version, "0.4.6");
  EXPECT_TRUE(fixed.column1_is_y);
  EXPECT_EQ(fixed.tracks.tracks.size(), 4u);
}

}  // namespace
}  // namespace taupe::io
