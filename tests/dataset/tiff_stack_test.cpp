// Multi-page TIFF stacks: round trips with (T, C, Y, X) recovered, metadata, strictness.
#include "taupe/dataset/tiff_stack.h"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"

namespace taupe {
namespace {

using testing_data::expect_error;
using testing_data::mix;
using testing_data::TempDir;
namespace fs = std::filesystem;

template <class T>
std::vector<T> values(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = mix(i);
    if constexpr (std::is_same_v<T, float>) v[i] = static_cast<float>(static_cast<std::int64_t>(r % 200001) - 100000) / 77.f;
    else v[i] = static_cast<T>(r);
  }
  return v;
}

template <class T>
class TiffRoundTrip : public ::testing::Test {};
using PixelTypes = ::testing::Types<std::uint8_t, std::uint16_t, float>;
TYPED_TEST_SUITE(TiffRoundTrip, PixelTypes);

TYPED_TEST(TiffRoundTrip, TcyxShapeAndValuesRecovered) {
  using T = TypeParam;
  TempDir dir;
  const TiffShape shape = tcyx(3, 2, 5, 7);
  auto data = values<T>(shape.values());
  if constexpr (std::is_same_v<T, float>) {
    data[1] = std::numeric_limits<float>::quiet_NaN();
    data[2] = -0.f;
    data[3] = std::numeric_limits<float>::infinity();
  }
  for (auto c : {TiffWriteOptions::Compression::kNone, TiffWriteOptions::Compression::kDeflate,
                 TiffWriteOptions::Compression::kLzw}) {
    const auto path = dir / ("s" + std::to_string(static_cast<int>(c)) + ".tif");
    TiffWriteOptions opt;
    opt.compression = c;
    write_tiff(path, data, shape, opt);
    TiffInfo info;
    const auto back = read_tiff<T>(path, &info);
    ASSERT_EQ(back.size(), data.size());
    EXPECT_EQ(0, std::memcmp(back.data(), data.data(), data.size() * sizeof(T)));  // bit-exact, NaN included
    EXPECT_TRUE(info.shape == shape);
    EXPECT_TRUE(info.imagej);
    EXPECT_EQ(info.axes, "TCYX");
    EXPECT_EQ(info.dims, (std::vector<std::size_t>{3, 2, 5, 7}));
    EXPECT_EQ(info.pages, 6u);
    EXPECT_EQ(info.description.rfind("ImageJ=1.11a\nimages=6\nchannels=2\nframes=3\nhyperstack=true\n", 0), 0u)
        << info.description;
  }
}

TEST(Tiff, ZStackAndSinglePage) {
  TempDir dir;
  TiffShape s;
  s.frames = 2;
  s.slices = 3;
  s.channels = 1;
  s.height = 4;
  s.width = 3;
  const auto data = values<std::uint16_t>(s.values());
  write_tiff(dir / "z.tif", data, s);
  TiffInfo info;
  EXPECT_EQ(read_tiff<std::uint16_t>(dir / "z.tif", &info), data);
  EXPECT_TRUE(info.shape == s);
  EXPECT_EQ(info.axes, "TZYX");
  const TiffShape one = tcyx(1, 1, 6, 9);
  const auto d1 = values<std::uint8_t>(one.values());
  write_tiff(dir / "one.tif", d1, one);
  EXPECT_EQ(read_tiff<std::uint8_t>(dir / "one.tif", &info), d1);
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{6, 9}));
  EXPECT_EQ(info.axes, "YX");
}

TEST(Tiff, MetadataPixelSizeAndFrameInterval) {
  TempDir dir;
  TiffWriteOptions opt;
  opt.pixel_size_um = 0.65;
  opt.frame_interval_s = 240;
  write_tiff(dir / "m.tif", values<std::uint16_t>(4 * 8 * 8), tcyx(4, 1, 8, 8), opt);
  const TiffInfo info = read_tiff_info(dir / "m.tif");
  EXPECT_NEAR(info.pixel_size_um, 0.65, 1e-6);
  EXPECT_DOUBLE_EQ(info.frame_interval_s, 240);
  EXPECT_EQ(info.axes, "TYX");
  EXPECT_EQ(info.pixel, TiffPixel::kUInt16);
}

TEST(Tiff, PlainPagesAndConvertingRangeReads) {
  TempDir dir;
  const auto data = values<std::uint16_t>(5 * 3 * 4);
  write_tiff(dir / "p.tif", data, tcyx(5, 1, 3, 4));
  TiffInfo info;
  const auto pages = read_tiff_pages<std::uint16_t>(dir / "p.tif", &info);
  ASSERT_EQ(pages.size(), 5u);
  EXPECT_EQ(pages[4], std::vector<std::uint16_t>(data.end() - 12, data.end()));
  const auto d = read_tiff_planes_as<double>(dir / "p.tif", 1, 2);
  ASSERT_EQ(d.size(), 24u);
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(d[i], data[12 + i]);
  expect_error<DataError>([&] { read_tiff_planes_as<float>(dir / "p.tif", 4, 2); }, {"p.tif", "[4, 6) out of range"});
  expect_error<DataError>([&] { read_tiff<float>(dir / "p.tif"); }, {"p.tif", "expected float32, found uint16"});
}

TEST(Tiff, GlimpseTiffsAreEasy) {
  TempDir dir;
  const auto g = testing_data::make_glimpse(3, 6);
  write_glimpse_tiff(dir / "GV0800_Pos3_7_RFP_apop.tif", g.images, 6);
  int frames = 0;
  EXPECT_EQ(read_glimpse_tiff(dir / "GV0800_Pos3_7_RFP_apop.tif", &frames), g.images);
  EXPECT_EQ(frames, 6);
  const auto info = read_tiff_info(dir / "GV0800_Pos3_7_RFP_apop.tif");
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{6, 2, 64, 64}));
  // Wrong geometry is refused with the shape found.
  write_tiff(dir / "bad.tif", values<std::uint16_t>(3 * 2 * 32 * 32), tcyx(3, 2, 32, 32));
  expect_error<DataError>([&] { read_glimpse_tiff(dir / "bad.tif", &frames); },
                          {"bad.tif", "(T, 2, 64, 64)", "found (3, 2, 32, 32)"});
  write_tiff(dir / "three.tif", values<std::uint16_t>(2 * 3 * 64 * 64), tcyx(2, 3, 64, 64));
  expect_error<DataError>([&] { read_glimpse_tiff(dir / "three.tif", &frames); }, {"three.tif", "found (2, 3, 64, 64)"});
}

// ---- files written directly with libtiff (what other tools produce) ----------------------

struct PageSpec {
  std::uint32_t w = 4, h = 3;
  std::uint16_t bps = 16, spp = 1, fmt = SAMPLEFORMAT_UINT, photo = PHOTOMETRIC_MINISBLACK;
  bool tiled = false;
  const char* description = nullptr;
};

void write_raw(const fs::path& path, const std::vector<PageSpec>& pages, const std::vector<std::uint8_t>& fill = {}) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  std::size_t offset = 0;
  for (const auto& p : pages) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p.w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, p.h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, p.bps);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, p.spp);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, p.fmt);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, p.photo);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    if (p.description) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, p.description);
    std::vector<std::uint16_t> cmap(256);
    if (p.photo == PHOTOMETRIC_PALETTE) TIFFSetField(t, TIFFTAG_COLORMAP, cmap.data(), cmap.data(), cmap.data());
    const std::size_t bytes = std::size_t(p.w) * p.h * p.spp * std::max<std::uint16_t>(p.bps, 8) / 8;
    std::vector<std::uint8_t> buf(bytes);
    for (std::size_t i = 0; i < bytes; ++i) buf[i] = fill.empty() ? static_cast<std::uint8_t>(i) : fill[offset + i];
    offset += bytes;
    if (p.tiled) {
      TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
      TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
      std::vector<std::uint8_t> tile(16 * 16 * 2);
      TIFFWriteEncodedTile(t, 0, tile.data(), static_cast<tmsize_t>(tile.size()));
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, p.h);
      TIFFWriteEncodedStrip(t, 0, buf.data(), static_cast<tmsize_t>(bytes));
    }
    TIFFWriteDirectory(t);
  }
  TIFFClose(t);
}

TEST(Tiff, NoMetadataMeansPagesYX) {
  TempDir dir;
  write_raw(dir / "plain.tif", std::vector<PageSpec>(4));
  const TiffInfo info = read_tiff_info(dir / "plain.tif");
  EXPECT_FALSE(info.imagej);
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{4, 3, 4}));
  EXPECT_EQ(info.shape.frames, 4);
  EXPECT_EQ(info.shape.channels, 1);
}

TEST(Tiff, TifffileJsonShapeDescription) {
  TempDir dir;
  PageSpec p;
  p.description = "{\"shape\": [3, 2, 3, 4]}";
  std::vector<PageSpec> pages(6);
  pages[0] = p;
  write_raw(dir / "tf.tif", pages);
  const TiffInfo info = read_tiff_info(dir / "tf.tif");
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{3, 2, 3, 4}));
  EXPECT_EQ(info.shape.frames, 3);
  EXPECT_EQ(info.shape.channels, 2);
}

TEST(Tiff, SamplesPerPixelBecomeChannels) {
  TempDir dir;
  PageSpec p;
  p.bps = 8;
  p.spp = 3;
  p.photo = PHOTOMETRIC_RGB;
  write_raw(dir / "rgb.tif", {p, p});
  TiffInfo info;
  const auto v = read_tiff<std::uint8_t>(dir / "rgb.tif", &info);
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{2, 3, 3, 4}));
  EXPECT_EQ(info.shape.channels, 3);
  ASSERT_EQ(v.size(), 2u * 3 * 12);
  // Interleaved byte i*3+c of page 0 lands in plane c, pixel i.
  EXPECT_EQ(v[0 * 12 + 5], 5 * 3 + 0);
  EXPECT_EQ(v[2 * 12 + 7], 7 * 3 + 2);
}

TEST(Tiff, StrictRefusals) {
  TempDir dir;
  PageSpec tiled;
  tiled.w = tiled.h = 16;
  tiled.tiled = true;
  write_raw(dir / "tiled.tif", {tiled});
  EXPECT_NO_THROW(read_tiff_info(dir / "tiled.tif"));   // tiled pages are read (ome_tiff_test.cpp)

  PageSpec small, big;
  big.w = 5;
  write_raw(dir / "sizes.tif", {small, small, big});
  expect_error<DataError>([&] { read_tiff_info(dir / "sizes.tif"); }, {"sizes.tif", "page 2", "5 x 3", "page 0's 4 x 3"});

  PageSpec u8;
  u8.bps = 8;
  write_raw(dir / "types.tif", {small, u8});
  expect_error<DataError>([&] { read_tiff_info(dir / "types.tif"); }, {"types.tif", "page 1", "uint8", "uint16"});

  PageSpec b12;
  b12.bps = 12;
  write_raw(dir / "b12.tif", {b12});
  expect_error<DataError>([&] { read_tiff_info(dir / "b12.tif"); }, {"b12.tif", "page 0", "12-bit"});

  PageSpec pal;
  pal.bps = 8;
  pal.photo = PHOTOMETRIC_PALETTE;
  write_raw(dir / "pal.tif", {pal});
  expect_error<DataError>([&] { read_tiff_info(dir / "pal.tif"); }, {"pal.tif", "page 0", "photometric"});

  PageSpec ij;
  ij.description = "ImageJ=1.53t\nimages=6\nchannels=2\nframes=3\nhyperstack=true\n";
  write_raw(dir / "ij.tif", {ij, small, small});
  expect_error<DataError>([&] { read_tiff_info(dir / "ij.tif"); }, {"ij.tif", "6 images", "has 3 pages"});

  expect_error<IoError>([&] { read_tiff_info(dir / "none.tif"); }, {"none.tif", "not found"});
  std::ofstream(dir / "text.tif") << "not a tiff at all";
  expect_error<IoError>([&] { read_tiff_info(dir / "text.tif"); }, {"text.tif", "not a TIFF file: a text file (it starts \"not a tiff at all\")"});
  expect_error<DataError>([&] { write_tiff(dir / "w.tif", std::vector<float>(5), tcyx(1, 1, 2, 3)); },
                          {"w.tif", "5 values"});
}

TEST(Tiff, TruncatedFileIsRefused) {
  TempDir dir;
  write_tiff(dir / "t.tif", values<std::uint16_t>(2 * 64 * 64), tcyx(2, 1, 64, 64));
  fs::resize_file(dir / "t.tif", fs::file_size(dir / "t.tif") / 2);  // cuts page 1 and its directory
  expect_error<IoError>([&] { read_tiff<std::uint16_t>(dir / "t.tif"); }, {"t.tif", "page 1", "truncated"});
  write_tiff(dir / "u.tif", values<std::uint16_t>(2 * 64 * 64), tcyx(2, 1, 64, 64));
  fs::resize_file(dir / "u.tif", 4000);  // inside page 0's pixels, before the first directory
  expect_error<IoError>([&] { read_tiff<std::uint16_t>(dir / "u.tif"); }, {"u.tif", "truncated"});
}

TEST(Tiff, WriteIsAtomic) {
  TempDir dir;
  write_tiff(dir / "a.tif", values<std::uint8_t>(12), tcyx(1, 1, 3, 4));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"a.tif"});
}

}  // namespace
}  // namespace taupe
