// OME-TIFF: written stacks read back with the same array, axes, µm and seconds; a file in the
// layout of the OME specification's sample `18x24y5z5t2c8b-text.ome.tiff` (DimensionOrder
// XYZCT, OME 2010-06 namespace) is re-ordered to (T, Z, C); tiled pages read like strips;
// malformed OME-XML is refused naming the attribute.
#include <gtest/gtest.h>

#include <tiffio.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/tiff_stack.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using testing_data::expect_error;
using testing_data::TempDir;

TEST(OmeTiff, RoundTripKeepsArrayAxesMicronsAndSeconds) {
  TempDir dir;
  const TiffShape shape = tcyx(3, 2, 5, 7);
  std::vector<std::uint16_t> v(shape.values());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i * 37 % 65521);
  TiffWriteOptions o;
  o.ome = true;
  o.pixel_size_um = 0.65;
  o.frame_interval_s = 240;
  o.channel_names = {"GFP", "RFP"};
  write_tiff(dir / "m.ome.tif", v, shape, o);
  TiffInfo info;
  const auto back = read_tiff<std::uint16_t>(dir / "m.ome.tif", &info);
  EXPECT_EQ(back, v);
  EXPECT_TRUE(info.ome);
  EXPECT_FALSE(info.imagej);
  EXPECT_EQ(info.axes, "TCYX");
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{3, 2, 5, 7}));
  EXPECT_TRUE(info.shape == shape);
  EXPECT_DOUBLE_EQ(info.pixel_size_um, 0.65);
  EXPECT_DOUBLE_EQ(info.frame_interval_s, 240);
  EXPECT_EQ(info.channel_names, (std::vector<std::string>{"GFP", "RFP"}));
  // float32 and a name that needs escaping in XML.
  std::vector<float> f(tcyx(1, 1, 2, 3).values(), 1.5f);
  o.channel_names = {"a<b & \"c\""};
  write_tiff(dir / "f.ome.tif", f, tcyx(1, 1, 2, 3), o);
  TiffInfo fi;
  EXPECT_EQ(read_tiff<float>(dir / "f.ome.tif", &fi), f);
  EXPECT_EQ(fi.channel_names, (std::vector<std::string>{"a<b & \"c\""}));
  o.channel_names = {"one"};
  expect_error<DataError>([&] { write_tiff(dir / "bad.ome.tif", v, shape, o); }, {"1 channel names for 2 channels"});
}

/// Pages written in file order with `description` on page 0; page p holds the value p + 1.
void write_pages(const fs::path& path, int pages, int w, int h, const std::string& description, int tile = 0) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  for (int p = 0; p < pages; ++p) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    if (p == 0 && !description.empty()) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
    if (tile) {
      TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
      TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
      std::vector<unsigned char> buf(std::size_t(tile) * tile);
      for (int y0 = 0; y0 < h; y0 += tile)
        for (int x0 = 0; x0 < w; x0 += tile) {
          for (int y = 0; y < tile; ++y)
            for (int x = 0; x < tile; ++x)
              buf[std::size_t(y * tile + x)] = static_cast<unsigned char>((y0 + y) * 3 + (x0 + x) + p);
          ASSERT_GE(TIFFWriteTile(t, buf.data(), std::uint32_t(x0), std::uint32_t(y0), 0, 0), 0);
        }
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
      std::vector<unsigned char> buf(std::size_t(w) * h, static_cast<unsigned char>(p + 1));
      ASSERT_GE(TIFFWriteEncodedStrip(t, 0, buf.data(), static_cast<tmsize_t>(buf.size())), 0);
    }
    TIFFWriteDirectory(t);
  }
  TIFFClose(t);
}

std::string spec_sample_xml(const std::string& order = "XYZCT", const std::string& sizes =
                                "SizeX=\"18\" SizeY=\"24\" SizeZ=\"5\" SizeC=\"2\" SizeT=\"5\"") {
  return "<?xml version=\"1.0\"?>\n<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2010-06\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<Image ID=\"Image:0\" Name=\"18x24y5z5t2c8b-text\">"
         "<AcquiredDate>2010-03-02T10:01:15</AcquiredDate>\n<Pixels DimensionOrder=\"" + order +
         "\" ID=\"Pixels:0:0\" Type=\"uint8\" " + sizes +
         " PhysicalSizeX=\"0.5\" TimeIncrement=\"2\" TimeIncrementUnit=\"min\">"
         "<Channel ID=\"Channel:0:0\" SamplesPerPixel=\"1\"/><Channel ID=\"Channel:0:1\" SamplesPerPixel=\"1\"/>"
         "<TiffData/></Pixels></Image></OME>";
}

TEST(OmeTiff, DimensionOrderXyzctIsReorderedToTzc) {
  TempDir dir;
  write_pages(dir / "s.ome.tiff", 50, 18, 24, spec_sample_xml());
  TiffInfo info;
  const auto v = read_tiff<std::uint8_t>(dir / "s.ome.tiff", &info);
  EXPECT_TRUE(info.ome);
  EXPECT_EQ(info.axes, "TZCYX");
  EXPECT_EQ(info.shape.frames, 5);
  EXPECT_EQ(info.shape.slices, 5);
  EXPECT_EQ(info.shape.channels, 2);
  EXPECT_DOUBLE_EQ(info.pixel_size_um, 0.5);
  EXPECT_DOUBLE_EQ(info.frame_interval_s, 120);
  EXPECT_EQ(info.channel_names, (std::vector<std::string>{"", ""}));
  // Plane (t, z, c) of the result is file page z + 5 c + 10 t (XYZCT: Z fastest).
  for (int t = 0; t < 5; ++t)
    for (int z = 0; z < 5; ++z)
      for (int c = 0; c < 2; ++c) {
        const std::size_t plane = std::size_t((t * 5 + z) * 2 + c);
        EXPECT_EQ(v[plane * 18 * 24], z + 5 * c + 10 * t + 1) << t << " " << z << " " << c;
      }
}

TEST(OmeTiff, TiledPagesReadLikeStrips) {
  TempDir dir;
  write_pages(dir / "tiled.tif", 2, 40, 24, "", 16);   // edge tiles are partial
  TiffInfo info;
  const auto v = read_tiff<std::uint8_t>(dir / "tiled.tif", &info);
  ASSERT_EQ(v.size(), 2u * 40 * 24);
  for (int p = 0; p < 2; ++p)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 40; ++x)
        ASSERT_EQ(v[std::size_t((p * 24 + y) * 40 + x)], static_cast<std::uint8_t>(y * 3 + x + p)) << p << " " << y << " " << x;
}

TEST(OmeTiff, MalformedOmeXmlIsRefused) {
  TempDir dir;
  auto fails = [&](const std::string& name, const std::string& xml, int pages = 50) {
    write_pages(dir / name, pages, 18, 24, xml);
    return [p = dir / name] { read_tiff_info(p); };
  };
  expect_error<DataError>(fails("order.tif", spec_sample_xml("XYZQT")),
                          {"order.tif: OME-XML: Pixels: DimensionOrder 'XYZQT' is not one of"});
  expect_error<DataError>(fails("count.tif", spec_sample_xml(), 49),
                          {"SizeZ x SizeC x SizeT = 50 planes, the file has 49 pages"});
  expect_error<DataError>(fails("size.tif", spec_sample_xml("XYZCT", "SizeX=\"18\" SizeY=\"24\" SizeZ=\"5\" SizeC=\"2\"")),
                          {"OME-XML: Pixels: attribute SizeT missing"});
  expect_error<DataError>(fails("xy.tif", spec_sample_xml("XYZCT", "SizeX=\"19\" SizeY=\"24\" SizeZ=\"5\" SizeC=\"2\" SizeT=\"5\"")),
                          {"SizeX x SizeY = 19 x 24, the pages are 18 x 24"});
  expect_error<DataError>(fails("broken.tif", "<OME><Image><Pixels SizeX=\"18\"></Image></OME>"),
                          {"broken.tif: OME-XML: not well-formed at byte"});
  expect_error<DataError>(fails("zero.tif", spec_sample_xml("XYZCT", "SizeX=\"18\" SizeY=\"24\" SizeZ=\"0\" SizeC=\"2\" SizeT=\"5\"")),
                          {"SizeZ = '0' must be an integer >= 1"});
}

}  // namespace
}  // namespace taupe
