// cellx-predict layout: export -> import reproduces the glimpse container exactly; folder
// labels map to fates; masks are derived when absent; malformed inputs fail with exact messages.
#include <gtest/gtest.h>

#include <fstream>

#include "io_test_util.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/tiff_stack.h"
#include "taupe/io/cellx.h"
#include "taupe/io/npz.h"
#include "taupe/io/segment.h"

namespace taupe::io {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::synthetic_glimpse;
using testing::TempDir;

void write_glimpses(const fs::path& p, const std::vector<GlimpseTrajectory>& trs) {
  GlimpseFileInfo info;
  info.world = "compression";
  info.seed = 7;
  info.source = "test";
  info.frame_interval_min = 4.0;
  GlimpseWriter w(p, info);
  for (const auto& t : trs) w.append(t);
  w.close();
}

/// A minimal cellx folder with one glimpse: data/<label>/<name>.tif + metadata npz.
void cellx_glimpse(const fs::path& root, const std::string& label, const std::string& name, int T, std::int64_t cutoff,
                   const TiffShape* shape_override = nullptr) {
  const auto tr = synthetic_glimpse(1, Fate::kMitosis, T, 3);
  const TiffShape shape = shape_override ? *shape_override : tcyx(T, 2, 64, 64);
  std::vector<std::uint16_t> img(shape.values(), 0);
  std::copy_n(tr.images.begin(), std::min(img.size(), tr.images.size()), img.begin());
  write_tiff(root / "data" / label / (name + ".tif"), img, shape);
  NpzArrays m;
  m["cutoff"] = NpyArray::from<std::int64_t>({cutoff}, {});
  write_npz(root / "metadata" / label / (name + ".npz"), m);
}

TEST(Cellx, ExportImportRoundTripIsExact) {
  TempDir dir("cellx_rt");
  std::vector<GlimpseTrajectory> trs = {synthetic_glimpse(3, Fate::kMitosis, 12, 1),
                                        synthetic_glimpse(1, Fate::kApoptosis, 9, 2),
                                        synthetic_glimpse(2, Fate::kMitosis, 5, 3)};
  write_glimpses(dir / "in.h5", trs);
  export_cellx(dir / "in.h5", dir / "cellx");
  EXPECT_TRUE(fs::exists(dir / "cellx" / "data" / "mitosis"));
  EXPECT_TRUE(fs::exists(dir / "cellx" / "metadata" / "apoptosis"));
  const IoSummary s = import_cellx(dir / "cellx", dir / "out.h5");
  EXPECT_EQ(s.counts.at("trajectories"), 3u);
  GlimpseReader r(dir / "out.h5");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.file_info().world, "compression");
  EXPECT_EQ(r.file_info().seed, 7);
  for (std::size_t i = 0; i < r.size(); ++i) {
    const GlimpseTrajectory got = r.read(i);
    const auto& want = *std::find_if(trs.begin(), trs.end(), [&](const auto& t) { return t.id == got.id; });
    EXPECT_EQ(got.images, want.images) << got.id;
    EXPECT_EQ(got.masks, want.masks) << got.id;
    EXPECT_EQ(got.cutoff, want.cutoff);
    EXPECT_EQ(got.fate, want.fate);
    EXPECT_EQ(got.central_type, want.central_type);
    EXPECT_EQ(got.frames, want.frames);
    EXPECT_EQ(got.movie, want.movie);
    EXPECT_EQ(got.track_id, want.track_id);
    EXPECT_EQ(got.features, want.features);
  }
}

TEST(Cellx, PlainCellxFolderWithAliasesAndDerivedMasks) {
  TempDir dir("cellx_plain");
  cellx_glimpse(dir.path(), "MIT", "GV0804_Pos12_18_RFP_mit", 6, 4);
  cellx_glimpse(dir.path(), "apoptotic", "GV0800_Pos3_7_GFP_apop", 4, 0);
  cellx_glimpse(dir.path(), "dividing", "x_1", 3, 2);
  CellxImportOptions o;
  expect_error<DataError>([&] { import_cellx(dir.path(), dir / "g.h5", o); },
                          (dir / "data" / "dividing").string() +
                              ": label 'dividing': unknown fate label (expected mitosis/mit/mitotic or "
                              "apoptosis/apop/apoptotic; map others with --label-map dividing=mitosis|apoptosis|censored)");
  EXPECT_FALSE(fs::exists(dir / "g.h5"));
  o.label_map = parse_label_map({"dividing=mitosis"});
  const IoSummary s = import_cellx(dir.path(), dir / "g.h5", o);
  EXPECT_EQ(s.counts.at("mitosis"), 2u);
  EXPECT_EQ(s.counts.at("apoptosis"), 1u);
  GlimpseReader r(dir / "g.h5");
  bool saw_named = false;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const auto tr = r.read(i);
    if (tr.movie == "GV0804_Pos12") {
      saw_named = true;
      EXPECT_EQ(tr.track_id, 18);
      EXPECT_EQ(tr.central_type, CellType::kScrib);
      EXPECT_EQ(tr.cutoff, 4);
      EXPECT_EQ(tr.fate, Fate::kMitosis);
    }
    if (tr.movie == "GV0800_Pos3") {
      EXPECT_EQ(tr.central_type, CellType::kWildType);
    }
    // Derived masks: the bright central blob (radius 10) is the central cell.
    const std::size_t centre = 32 * 64 + 32;
    EXPECT_TRUE(mask_is_central(tr.masks[centre]));
    EXPECT_EQ(tr.masks[0], kMaskBackground);
  }
  EXPECT_TRUE(saw_named);
}

TEST(Segment, SplitsTwoTouchingDisksAndTypesThemByChannelRatio) {
  // Two overlapping disks: left bright in GFP, right bright in RFP.
  std::vector<std::uint16_t> img(2 * 64 * 64, 10);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      if (std::hypot(x - 22, y - 32) < 10) img[std::size_t(y * 64 + x)] = 1000;
      if (std::hypot(x - 40, y - 32) < 10) img[std::size_t(4096 + y * 64 + x)] = 1000;
    }
  std::uint32_t n = 0;
  const auto lab = segment_frame(img.data(), 2, 64, 64, SegmentOptions{}, &n);
  ASSERT_EQ(n, 2u);
  const auto types = classify_labels(img.data(), 64, 64, 0, 1, lab, 1.0);
  EXPECT_EQ(types.at(lab[32 * 64 + 22]), CellType::kWildType);
  EXPECT_EQ(types.at(lab[32 * 64 + 40]), CellType::kScrib);
  EXPECT_NE(lab[32 * 64 + 22], lab[32 * 64 + 40]);
  EXPECT_EQ(lab[0], 0u);
}

TEST(Segment, CentralLabelCoversTheCentreElseIsNearest) {
  std::vector<std::uint32_t> lab(64 * 64, 0);
  lab[31 * 64 + 31] = 5;
  lab[32 * 64 + 32] = 5;
  lab[32 * 64 + 31] = 2;
  EXPECT_EQ(central_label(lab, 64, 64), 5u);   // covers 2 of the 4 centre pixels
  std::vector<std::uint32_t> off(64 * 64, 0);
  off[10 * 64 + 10] = 7;
  off[31 * 64 + 40] = 3;
  EXPECT_EQ(central_label(off, 64, 64), 3u);   // nearest to (31.5, 31.5)
  EXPECT_EQ(central_label(std::vector<std::uint32_t>(64 * 64, 0), 64, 64), 0u);
}

TEST(CellxMalformed, EachRuleHasItsMessage) {
  auto expect_import = [](const fs::path& root, const std::string& message) {
    expect_error<DataError>([&] { import_cellx(root, root / "out.h5"); }, message);
    EXPECT_FALSE(fs::exists(root / "out.h5")) << message;
  };
  {  // 1. empty data folder
    TempDir d("m_empty");
    fs::create_directories(d / "data");
    expect_import(d.path(), (d / "data").string() + ": empty folder: no label sub-folders (expected data/<label>/<name>.tif)");
  }
  {  // 2. empty label folder
    TempDir d("m_emptylabel");
    fs::create_directories(d / "data" / "mitosis");
    expect_import(d.path(), (d / "data" / "mitosis").string() + ": empty folder: no .tif glimpses");
  }
  {  // 3. cutoff beyond the last frame
    TempDir d("m_cutoff");
    cellx_glimpse(d.path(), "mitosis", "a", 5, 5);
    expect_import(d.path(), (d / "metadata" / "mitosis" / "a.npz").string() +
                                ": field 'cutoff' = 5: beyond the last frame 4 of " +
                                (d / "data" / "mitosis" / "a.tif").string());
  }
  {  // 4. negative cutoff
    TempDir d("m_negcut");
    cellx_glimpse(d.path(), "mitosis", "a", 5, -1);
    expect_import(d.path(), (d / "metadata" / "mitosis" / "a.npz").string() +
                                ": field 'cutoff' = -1: must be >= 0 (index of the last frame to use)");
  }
  {  // 5. three channels
    TempDir d("m_chan");
    const TiffShape s = tcyx(4, 3, 64, 64);
    cellx_glimpse(d.path(), "mitosis", "a", 4, 1, &s);
    expect_import(d.path(), (d / "data" / "mitosis" / "a.tif").string() +
                                ": axes: channel axis has 3 channels; expected 2 (GFP, RFP), found (4, 3, 64, 64)");
  }
  {  // 6. not 64 x 64
    TempDir d("m_size");
    const TiffShape s = tcyx(4, 2, 32, 64);
    cellx_glimpse(d.path(), "mitosis", "a", 4, 1, &s);
    expect_import(d.path(), (d / "data" / "mitosis" / "a.tif").string() +
                                ": axes: glimpse is 32 x 64 pixels; expected 64 x 64, found (4, 2, 32, 64)");
  }
  {  // 7. wrong axis count (T, Y, X)
    TempDir d("m_axes");
    const TiffShape s = tcyx(4, 1, 64, 64);
    cellx_glimpse(d.path(), "mitosis", "a", 4, 1, &s);
    expect_import(d.path(), (d / "data" / "mitosis" / "a.tif").string() +
                                ": axes: channel axis has 1 channels; expected 2 (GFP, RFP), found (4, 1, 64, 64)");
  }
  {  // 8. metadata missing
    TempDir d("m_meta");
    cellx_glimpse(d.path(), "mitosis", "a", 4, 1);
    fs::remove(d / "metadata" / "mitosis" / "a.npz");
    expect_import(d.path(), (d / "data" / "mitosis" / "a.tif").string() + ": metadata " +
                                (d / "metadata" / "mitosis" / "a.npz").string() +
                                " is missing (every glimpse needs a .npz with 'cutoff')");
  }
  {  // 9. npz without cutoff
    TempDir d("m_nocut");
    cellx_glimpse(d.path(), "mitosis", "a", 4, 1);
    NpzArrays m;
    m["label"] = NpyArray::from_strings({"mitosis"}, {});
    write_npz(d / "metadata" / "mitosis" / "a.npz", m);
    expect_import(d.path(), (d / "metadata" / "mitosis" / "a.npz").string() + ": member 'cutoff.npy': missing (required field)");
  }
  {  // 10. NaN pixels
    TempDir d("m_nan");
    cellx_glimpse(d.path(), "mitosis", "a", 2, 1);
    std::vector<float> v(2 * 2 * 64 * 64, 1.0f);
    v[4096 * 2 + 5] = std::nanf("");
    write_tiff(d / "data" / "mitosis" / "a.tif", v, tcyx(2, 2, 64, 64));
    expect_import(d.path(), (d / "data" / "mitosis" / "a.tif").string() +
                                ": frame 1: value #5 is NaN (NaN/Inf pixels are not allowed)");
  }
  {  // 11. duplicate trajectory ids from exported metadata
    TempDir d("m_dupid");
    cellx_glimpse(d.path(), "mitosis", "a", 3, 1);
    cellx_glimpse(d.path(), "mitosis", "b", 3, 1);
    for (const char* n : {"a", "b"}) {
      NpzArrays m;
      m["cutoff"] = NpyArray::from<std::int64_t>({1}, {});
      m["id"] = NpyArray::from<std::int64_t>({9}, {});
      write_npz(d / "metadata" / "mitosis" / (std::string(n) + ".npz"), m);
    }
    expect_import(d.path(), (d / "metadata" / "mitosis" / "b.npz").string() + ": field 'id' = 9: duplicate trajectory id");
  }
  {  // 12. cutoff that is not an integer
    TempDir d("m_fcut");
    cellx_glimpse(d.path(), "mitosis", "a", 3, 1);
    NpzArrays m;
    m["cutoff"] = NpyArray::from<double>({1.5}, {});
    write_npz(d / "metadata" / "mitosis" / "a.npz", m);
    expect_import(d.path(), (d / "metadata" / "mitosis" / "a.npz").string() +
                                ": field 'cutoff': element 0: non-integral value where an integer is expected");
  }
}

}  // namespace
}  // namespace taupe::io
