#include "taupe/io/export.h"

#include <iomanip>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/io/tiff_io.h"

namespace fs = std::filesystem;

namespace taupe::io {

IoSummary export_glimpse_tiffs(const fs::path& glimpses, const fs::path& out_dir, bool overwrite) {
  GlimpseReader reader(glimpses);
  check_output(out_dir / "index.csv", overwrite);
  std::ostringstream index;
  index << "id,fate,central_type,cutoff,movie,track_id,frames,images,masks\n";
  const std::size_t g = kGlimpseSize;
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const GlimpseTrajectory tr = reader.read(i);
    const std::size_t T = std::size_t(tr.num_frames());
    std::ostringstream stem;
    stem << std::setw(6) << std::setfill('0') << tr.id << "_" << to_string(tr.fate);
    const std::string images = stem.str() + "_images.tif", masks = stem.str() + "_masks.tif";
    tiff_write_u16(out_dir / images, {T, 2, g, g}, tr.images);
    tiff_write_u8(out_dir / masks, {T, g, g}, tr.masks);
    std::string movie = tr.movie;
    for (char& c : movie)
      if (c == ',' || c == '\n' || c == '"') c = '_';
    index << tr.id << ',' << to_string(tr.fate) << ',' << to_string(tr.central_type) << ',' << tr.cutoff << ','
          << movie << ',' << tr.track_id << ',' << T << ',' << images << ',' << masks << '\n';
  }
  write_text_atomic(out_dir / "index.csv", index.str());
  IoSummary s;
  s.what = "export tiff";
  s.outputs = {out_dir};
  s.counts["trajectories"] = reader.size();
  return s;
}

}  // namespace taupe::io
