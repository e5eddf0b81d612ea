#include "taupe/io/export.h"

#include <iomanip>
#include <sstream>

#include "taupe/dataset/csv.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/io/tiff_io.h"

namespace fs = std::filesystem;

namespace taupe::io {

IoSummary export_glimpse_tiffs(const fs::path& glimpses, const fs::path& out_dir, bool overwrite) {
  GlimpseReader reader(glimpses);
  check_output(out_dir / "index.csv", overwrite);
  CsvTable index({"id", "fate", "central_type", "cutoff", "movie", "track_id", "frames", "images", "masks"});
  const std::size_t g = kGlimpseSize;
  // OME-TIFF: frame interval in seconds and channel names travel with the stacks.
  OmeMeta image_meta, mask_meta;
  image_meta.frame_interval_s = mask_meta.frame_interval_s = reader.file_info().frame_interval_min * 60.0;
  image_meta.channel_names = {"GFP", "RFP"};
  mask_meta.channel_names = {"mask"};
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const GlimpseTrajectory tr = reader.read(i);
    const std::size_t T = std::size_t(tr.num_frames());
    std::ostringstream stem;
    stem << std::setw(6) << std::setfill('0') << tr.id << "_" << to_string(tr.fate);
    const std::string images = stem.str() + "_images.tif", masks = stem.str() + "_masks.tif";
    tiff_write_u16(out_dir / images, {T, 2, g, g}, tr.images, &image_meta);
    tiff_write_u8(out_dir / masks, {T, g, g}, tr.masks, &mask_meta);
    index.add_row({cell(static_cast<long long>(tr.id)), to_string(tr.fate), to_string(tr.central_type), cell(tr.cutoff),
                   tr.movie, cell(static_cast<long long>(tr.track_id)), cell(static_cast<unsigned long long>(T)), images,
                   masks});
  }
  write_csv(out_dir / "index.csv", index);
  IoSummary s;
  s.what = "export tiff";
  s.outputs = {out_dir};
  s.counts["trajectories"] = reader.size();
  return s;
}

}  // namespace taupe::io
