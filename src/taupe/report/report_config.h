#pragma once
// Options of the report stage (`[report]`): figure sizes and how many PCs the small multiples
// show. Defaults give figures readable at 100 % zoom on a laptop and printable on A4.
#include "taupe/core/config.h"

namespace taupe {

struct ReportConfig {
  double figure_width = 640;     ///< width of single line plots / histograms (SVG user units ≈ CSS px)
  double wide_figure_width = 980;  ///< width of per-PC bar charts (slopes, explained variance)
  int small_multiple_columns = 8;  ///< panels per row in per-PC small multiples
  int max_pcs = 32;              ///< PCs shown in small multiples / per-PC charts (0 = all)
  int montage_cell_px = 64;      ///< displayed size of one glimpse in montages
  int montage_max_frames = 12;   ///< frames per montage row (evenly subsampled when longer)

  template <class V>
  void visit(V& v) {
    v("figure_width", figure_width, "width of single plots (px)");
    v("wide_figure_width", wide_figure_width, "width of per-PC bar charts (px)");
    v("small_multiple_columns", small_multiple_columns, "panels per row in per-PC small multiples");
    v("max_pcs", max_pcs, "PCs shown in per-PC figures (0 = all)");
    v("montage_cell_px", montage_cell_px, "displayed size of one glimpse in montages (px)");
    v("montage_max_frames", montage_max_frames, "frames per montage row (subsampled when longer)");
  }
  void validate() const {
    check_range("report.figure_width", figure_width, 240.0, 4000.0);
    check_range("report.wide_figure_width", wide_figure_width, 240.0, 6000.0);
    check_range("report.small_multiple_columns", small_multiple_columns, 1, 16);
    check_ge("report.max_pcs", max_pcs, 0);
    check_range("report.montage_cell_px", montage_cell_px, 16, 512);
    check_range("report.montage_max_frames", montage_max_frames, 1, 200);
  }
};

}  // namespace taupe
