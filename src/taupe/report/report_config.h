#pragma once
// Options of the report stage (`[report]`): figure sizes and how many PCs the small multiples
// show. Defaults give figures readable at 100 % zoom on a laptop and printable on A4.
#include "taupe/core/config.h"

namespace taupe {

struct ReportConfig {
  static constexpr const char* kSection = "report";
  double figure_width = 640;     ///< width of single line plots / histograms (SVG user units ≈ CSS px)
  double wide_figure_width = 980;  ///< width of per-PC bar charts (slopes, explained variance)
  int small_multiple_columns = 8;  ///< panels per row in per-PC small multiples
  int max_pcs = 32;              ///< PCs shown in small multiples / per-PC charts (0 = all)
  int montage_cell_px = 64;      ///< displayed size of one glimpse in montages
  int montage_max_frames = 12;   ///< frames per montage row (evenly subsampled when longer)

  template <class V>
  void visit(V& v) {
    v("figure_width", figure_width, "width of single plots (px)", in_range(240.0, 4000.0));
    v("wide_figure_width", wide_figure_width, "width of per-PC bar charts (px)", in_range(240.0, 6000.0));
    v("small_multiple_columns", small_multiple_columns, "panels per row in per-PC small multiples", in_range(1, 16));
    v("max_pcs", max_pcs, "PCs shown in per-PC figures (0 = all)", at_least(0));
    v("montage_cell_px", montage_cell_px, "displayed size of one glimpse in montages (px)", in_range(16, 512));
    v("montage_max_frames", montage_max_frames, "frames per montage row (subsampled when longer)", in_range(1, 200));
  }
  void validate() const {
    check_fields(*this);
  }
};

}  // namespace taupe
