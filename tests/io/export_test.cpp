// `taupe export tiff`: glimpse stacks as OME-TIFF (frame interval in seconds, channel names)
// and an index.csv whose fields are quoted, not mangled, when they hold commas or quotes.
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "taupe/dataset/csv.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/tiff_stack.h"
#include "taupe/io/export.h"

namespace taupe::io {
namespace {

using testing::TempDir;

TEST(ExportTiff, OmeStacksAndAQuotedIndex) {
  TempDir dir("export_tiff");
  GlimpseFileInfo fi;
  fi.frame_interval_min = 4.0;
  {
    GlimpseWriter w(dir / "g.h5", fi);
    GlimpseTrajectory a = testing::synthetic_glimpse(1, Fate::kMitosis, 5, 11);
    a.movie = "plate 1, well \"B2\"";
    w.append(a);
    w.append(testing::synthetic_glimpse(2, Fate::kApoptosis, 3, 12));
    w.close();
  }
  export_glimpse_tiffs(dir / "g.h5", dir / "out");
  const CsvTable index = read_csv(dir / "out" / "index.csv");
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index.at(0, "movie"), "plate 1, well \"B2\"");
  EXPECT_EQ(index.integer(1, "frames"), 3);
  TiffInfo info;
  const auto images = read_tiff<std::uint16_t>(dir / "out" / index.at(0, "images"), &info);
  EXPECT_TRUE(info.ome);
  EXPECT_EQ(info.axes, "TCYX");
  EXPECT_EQ(info.dims, (std::vector<std::size_t>{5, 2, 64, 64}));
  EXPECT_DOUBLE_EQ(info.frame_interval_s, 240.0);
  EXPECT_EQ(info.channel_names, (std::vector<std::string>{"GFP", "RFP"}));
  EXPECT_EQ(images, testing::synthetic_glimpse(1, Fate::kMitosis, 5, 11).images);
  TiffInfo mi;
  read_tiff<std::uint8_t>(dir / "out" / index.at(1, "masks"), &mi);
  EXPECT_TRUE(mi.ome);
  EXPECT_EQ(mi.axes, "TYX");
}

}  // namespace
}  // namespace taupe::io
