// TrackSet::validate: every lineage rule gives a DataError naming `where`, the record and the rule.
#include "taupe/dataset/tracks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"

namespace taupe {
namespace {

using testing_data::expect_error;

Track track(std::int64_t id, int start, int end, std::int64_t parent = 0) {
  Track t;
  t.id = id;
  t.start = start;
  t.end = end;
  t.parent = parent;
  return t;
}

TrackPoint point(std::int64_t id, int t, std::int64_t parent = 0) {
  TrackPoint p;
  p.track_id = id;
  p.t = t;
  p.parent = parent;
  return p;
}

TrackSet lineage() {
  TrackSet s;
  s.tracks = {track(1, 0, 4), track(2, 5, 9, 1), track(3, 5, 7, 1), track(7, 8, 9, 3)};
  s.points = {point(1, 0), point(1, 4), point(2, 5, 1), point(3, 6, 1), point(7, 9, 3)};
  return s;
}

TEST(TrackSetValidate, AcceptsAValidLineage) {
  EXPECT_NO_THROW(lineage().validate("here"));
  EXPECT_NO_THROW(TrackSet{}.validate("here"));
  EXPECT_EQ(lineage().find(3), 2);
  EXPECT_EQ(lineage().find(4), -1);
}

TEST(TrackSetValidate, DuplicateIds) {
  TrackSet s = lineage();
  s.tracks.push_back(track(2, 6, 7, 1));
  expect_error<DataError>([&] { s.validate("fov3.h5"); }, {"fov3.h5", "track 2", "duplicate track id"});
}

TEST(TrackSetValidate, NonPositiveId) {
  TrackSet s = lineage();
  s.tracks[0].id = 0;
  expect_error<DataError>([&] { s.validate("w"); }, {"w: track 0", "must be > 0"});
}

TEST(TrackSetValidate, MissingParent) {
  TrackSet s = lineage();
  s.tracks[3].parent = 42;
  expect_error<DataError>([&] { s.validate("w"); }, {"w: track 7", "parent 42 does not exist"});
}

TEST(TrackSetValidate, Cycle) {
  TrackSet s;
  s.tracks = {track(1, 0, 3, 3), track(2, 4, 6, 1), track(3, 7, 9, 2), track(4, 0, 9)};
  expect_error<DataError>([&] { s.validate("w"); }, {"w: track", "lineage cycle", "1 -> 3 -> 2 -> 1"});
  TrackSet self;
  self.tracks = {track(5, 0, 3, 5)};
  expect_error<DataError>([&] { self.validate("w"); }, {"track 5", "lineage cycle", "own parent"});
}

TEST(TrackSetValidate, StartAfterEnd) {
  TrackSet s = lineage();
  s.tracks[0].start = 5;
  expect_error<DataError>([&] { s.validate("w"); }, {"track 1 [5, 4]", "start must be <= end"});
}

TEST(TrackSetValidate, ChildMustStartAfterParentEnds) {
  TrackSet s = lineage();
  s.tracks[1].start = 4;
  s.points[2].t = 5;
  expect_error<DataError>([&] { s.validate("w"); }, {"track 2", "not after its parent 1 ends (frame 4)"});
}

TEST(TrackSetValidate, Points) {
  TrackSet s = lineage();
  s.points.push_back(point(9, 3));
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 5", "track 9 does not exist"});
  s = lineage();
  s.points[1].t = 5;
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 1", "t outside", "[0, 4]"});
  s = lineage();
  s.points[2].parent = 0;
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 2", "differs from the track's parent 1"});
  s = lineage();
  std::swap(s.points[0], s.points[1]);
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 1", "sorted"});
  s.sort_points();
  EXPECT_NO_THROW(s.validate("w"));
  s.points.insert(s.points.begin(), point(1, 0));
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 1", "duplicate point"});
  s = lineage();
  s.points[0].x = std::nan("");
  expect_error<DataError>([&] { s.validate("w"); }, {"point row 0", "finite"});
}

TEST(TrackSetValidate, WriteRefusesInvalidAndReadValidates) {
  testing_data::TempDir dir;
  TrackSet s = lineage();
  s.tracks[3].parent = 42;
  expect_error<DataError>([&] { write_tracks(dir / "t.h5", s); }, {"t.h5", "parent 42"});
  EXPECT_TRUE(dir.files().empty());
}

}  // namespace
}  // namespace taupe
