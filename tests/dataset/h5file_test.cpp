// Typed, shape-checked HDF5 helpers: round trips, streaming rows, and the error messages.
#include "taupe/dataset/h5file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"

namespace taupe {
namespace {

using testing_data::expect_error;
using testing_data::TempDir;
namespace fs = std::filesystem;

const h5::FormatTag kTag{"taupe.test", 1};

template <class T>
std::vector<T> iota_values(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>((i * 37) % 251) - static_cast<T>(std::is_signed_v<T> ? 100 : 0);
  return v;
}

template <class T>
class H5RoundTrip : public ::testing::Test {};
using AllTypes = ::testing::Types<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t, std::int32_t,
                                  std::uint64_t, std::int64_t, float, double>;
TYPED_TEST_SUITE(H5RoundTrip, AllTypes);

TYPED_TEST(H5RoundTrip, WholeAndRowsBitExact) {
  TempDir dir;
  const auto path = dir / "x.h5";
  const auto data = iota_values<TypeParam>(5 * 3 * 4);
  {
    H5::H5File f = h5::create(path, kTag);
    h5::write(f, "a", data, {5, 3, 4}, 2);
    h5::write(f, "nozip", data, {60}, 0, 0);
    h5::write(f, "empty", std::vector<TypeParam>{}, {0, 3});
  }
  H5::H5File f = h5::open(path, kTag);
  std::vector<hsize_t> shape;
  EXPECT_EQ(h5::read<TypeParam>(f, "a", &shape, {5, -1, 4}), data);
  EXPECT_EQ(shape, (std::vector<hsize_t>{5, 3, 4}));
  EXPECT_EQ(h5::read<TypeParam>(f, "nozip"), data);
  EXPECT_TRUE(h5::read<TypeParam>(f, "empty", &shape).empty());
  EXPECT_EQ(shape, (std::vector<hsize_t>{0, 3}));
  const auto rows = h5::read_rows<TypeParam>(f, "a", 1, 3);
  EXPECT_EQ(rows, std::vector<TypeParam>(data.begin() + 12, data.begin() + 48));
  EXPECT_TRUE(h5::read_rows<TypeParam>(f, "a", 5, 0).empty());
}

TEST(H5File, RowAppenderMatchesWholeWrite) {
  TempDir dir;
  const auto path = dir / "app.h5";
  std::vector<std::uint16_t> all;
  {
    H5::H5File f = h5::create(path, kTag);
    h5::RowAppender<std::uint16_t> app(f, "rows", {2, 3}, 4);
    // Irregular appends: below, across and at chunk boundaries, and a big block.
    for (int n : {1, 2, 5, 4, 0, 13, 3}) {
      std::vector<std::uint16_t> block(std::size_t(n) * 6);
      for (auto& v : block) v = static_cast<std::uint16_t>(all.size() + (&v - block.data()));
      all.insert(all.end(), block.begin(), block.end());
      app.append(block);
    }
    EXPECT_EQ(app.rows(), 28u);
    app.flush();
    h5::RowAppender<float> empty(f, "empty", {});
    empty.flush();
  }
  H5::H5File f = h5::open(path, kTag);
  EXPECT_EQ(h5::read<std::uint16_t>(f, "rows", nullptr, {28, 2, 3}), all);
  EXPECT_EQ(h5::read_rows<std::uint16_t>(f, "rows", 27, 1),
            std::vector<std::uint16_t>(all.end() - 6, all.end()));
  EXPECT_EQ(h5::shape_of(f, "empty"), std::vector<hsize_t>{0});
}

TEST(H5File, AttributesStringsAndGroups) {
  TempDir dir;
  const auto path = dir / "attrs.h5";
  const std::vector<std::string> names{"GFP", "", "RFP µm ü", std::string(300, 'x')};
  {
    H5::H5File f = h5::create(path, kTag);
    h5::write_attr(f, "s", std::string("hello"));
    h5::write_attr(f, "d", 0.1);
    h5::write_attr(f, "i", std::int64_t{-7});
    h5::write_attr(f, "i", std::int64_t{9});  // overwrite
    H5::Group g = h5::group(f, "sub");
    h5::write_strings(g, "names", names);
    h5::write_strings(g, "none", {});
  }
  H5::H5File f = h5::open(path, kTag);
  EXPECT_EQ(h5::read_attr_string(f, "s"), "hello");
  EXPECT_EQ(h5::read_attr_double(f, "d"), 0.1);
  EXPECT_EQ(h5::read_attr_int(f, "i"), 9);
  EXPECT_EQ(h5::read_attr_double(f, "i"), 9.0);
  EXPECT_TRUE(h5::has_attr(f, "s"));
  EXPECT_FALSE(h5::has_attr(f, "nope"));
  EXPECT_TRUE(h5::exists(f, "sub/names"));
  EXPECT_FALSE(h5::exists(f, "nosuch/names"));
  EXPECT_EQ(h5::read_strings(h5::open_group(f, "sub"), "names"), names);
  EXPECT_TRUE(h5::read_strings(h5::open_group(f, "sub"), "none").empty());
  EXPECT_EQ(h5::members(h5::open_group(f, "sub")), (std::vector<std::string>{"names", "none"}));
  EXPECT_EQ(h5::read_attr_string(f, "format"), "taupe.test");
  expect_error<DataError>([&] { h5::read_attr_int(f, "s"); }, {path.string(), "attribute 's'", "expected an integer"});
  expect_error<DataError>([&] { h5::read_attr_string(f, "nope"); }, {path.string(), "attribute 'nope'", "missing"});
}

TEST(H5File, ErrorsNameFileDatasetAndRule) {
  TempDir dir;
  const auto path = dir / "err.h5";
  {
    H5::H5File f = h5::create(path, kTag);
    H5::Group g = h5::group(f, "grp");
    h5::write(g, "v", std::vector<float>(12, 1.f), {3, 4});
  }
  H5::H5File f = h5::open(path, kTag);
  const H5::Group g = h5::open_group(f, "grp");
  expect_error<DataError>([&] { h5::read<std::uint16_t>(g, "v"); },
                          {path.string(), "dataset '/grp/v'", "expected dtype uint16", "found float32"});
  expect_error<DataError>([&] { h5::read<float>(g, "v", nullptr, {3, 5}); },
                          {path.string(), "dataset '/grp/v'", "expected shape (3, 5)", "found (3, 4)"});
  expect_error<DataError>([&] { h5::read<float>(g, "v", nullptr, {12}); }, {"expected shape (12,)", "found (3, 4)"});
  expect_error<DataError>([&] { h5::read<float>(g, "w"); }, {path.string(), "dataset '/grp/w'", "missing"});
  expect_error<DataError>([&] { h5::read_rows<float>(g, "v", 2, 2); }, {"'/grp/v'", "rows [2, 4) out of range"});
  expect_error<DataError>([&] { h5::read_strings(g, "v"); }, {"'/grp/v'", "expected dtype string"});
  expect_error<DataError>([&] { h5::open_group(f, "nogroup"); }, {path.string(), "group '/nogroup'", "missing"});
}

TEST(H5File, OpenChecksFormatVersionAndFile) {
  TempDir dir;
  const auto path = dir / "v.h5";
  { h5::create(path, {"taupe.test", 2}); }
  expect_error<DataError>([&] { h5::open(path, kTag); },
                          {path.string(), "format_version", "is 2", "taupe.test version 1"});
  expect_error<DataError>([&] { h5::open(path, {"taupe.other", 1}); },
                          {path.string(), "'taupe.test'", "expected 'taupe.other'"});
  expect_error<IoError>([&] { h5::open(dir / "missing.h5", kTag); }, {"missing.h5", "not found"});
  const auto text = dir / "text.h5";
  std::ofstream(text) << "hello, not hdf5";
  expect_error<IoError>([&] { h5::open(text, kTag); }, {text.string(), "not an HDF5 file"});
  const auto plain = dir / "plain.h5";
  { H5::H5File f(plain.string(), H5F_ACC_TRUNC); }
  expect_error<DataError>([&] { h5::open(plain, kTag); }, {plain.string(), "'format' is missing"});
}

TEST(H5File, TruncatedFileIsAnIoErrorNamingTheFile) {
  TempDir dir;
  const auto path = dir / "t.h5";
  {
    H5::H5File f = h5::create(path, kTag);
    h5::write(f, "big", testing_data::make_glimpse(1, 8).images, {8, 2, 64, 64});
  }
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_error<IoError>([&] { h5::open(path, kTag); }, {path.string(), "truncated"});
}

TEST(H5File, AtomicFileAppearsOnlyOnCommit) {
  TempDir dir;
  const auto path = dir / "sub" / "a.h5";
  {
    h5::AtomicFile af(path, kTag);
    h5::write(af.file(), "x", std::vector<int>{1, 2, 3}, {3});
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(af.temp_path()));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
  {
    h5::AtomicFile af(path, kTag);
    h5::write(af.file(), "x", std::vector<int>{1, 2, 3}, {3});
    af.commit();
    EXPECT_FALSE(fs::exists(af.temp_path()));
  }
  H5::H5File f = h5::open(path, kTag);
  EXPECT_EQ(h5::read<int>(f, "x"), (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace taupe
