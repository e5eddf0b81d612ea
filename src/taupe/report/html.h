#pragma once
// Self-contained HTML report builder: one file, no network (inline CSS, inline SVG figures,
// raster images as data URIs), numbered figures and tables with captions, sections with
// anchors and a table of contents, a headline box at the top. Every piece of text passed in is
// escaped; only `raw_html` and the SVG markup of `figure_svg` are inserted verbatim.
//
// The page carries a small inline self-check script: after the load event it verifies that
// every <img> decoded (naturalWidth > 0), every SVG <image> data URI decodes, every figure's
// <svg> is present with a non-zero size and no script/resource error occurred, and writes the
// result into <div id="taupe-check" data-status="ok|fail">ok N images, M svg images, K svgs</div>
// (checked by the headless-browser test).
//
//   HtmlReport r("taupe report", "preset quick · world mechanical · seed 1");
//   r.headline({{"CV accuracy", "0.91 ± 0.02"}, {"verdicts correct", "5/5", Status::Good}});
//   r.section("Run");
//   r.table(config_table);
//   r.section("Neighbour switching");
//   r.figure_svg(render(confusion_heatmap(...)), "Confusion matrix, unperturbed (mean ± sd over models).");
//   r.write(run_dir / "report.html");
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "taupe/report/image.h"

namespace taupe::report {

enum class Status { Neutral, Good, Bad, Warn };

struct HeadlineItem {
  HeadlineItem() = default;
  HeadlineItem(std::string label_, std::string value_, Status status_ = Status::Neutral)
      : label(std::move(label_)), value(std::move(value_)), status(status_) {}
  std::string label;
  std::string value;
  Status status = Status::Neutral;
};

struct TableCell {
  TableCell() = default;
  TableCell(std::string text_, Status status_ = Status::Neutral, bool numeric_ = false)  // NOLINT: implicit from text
      : text(std::move(text_)), status(status_), numeric(numeric_) {}
  TableCell(const char* text_) : text(text_) {}  // NOLINT
  std::string text;
  Status status = Status::Neutral;  ///< Good/Bad/Warn colour the cell green/red/amber
  bool numeric = false;             ///< right-aligned, tabular figures
};
/// Numeric cell with fixed decimals (typographic minus).
TableCell num_cell(double v, int decimals = 3);
/// Green "yes" / red "no" cell (e.g. "matches planted mechanism").
TableCell yes_no_cell(bool ok, std::string yes = "yes", std::string no = "no");

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<TableCell>> rows;
  Table& add_row(std::vector<TableCell> row) {
    rows.push_back(std::move(row));
    return *this;
  }
};

/// Lower-case ASCII slug for anchors: letters/digits kept, runs of anything else → '-'.
std::string slugify(const std::string& text);

class HtmlReport {
 public:
  explicit HtmlReport(std::string title, std::string subtitle = {});

  /// The headline box at the top (shown above the table of contents). Replaces any earlier one.
  void headline(std::vector<HeadlineItem> items, std::string note = {});
  /// Starts a section (level 2) or subsection (level 3); returns its anchor id (unique; derived
  /// from `id` or the title).
  std::string section(const std::string& title, int level = 2, const std::string& id = {});
  void paragraph(const std::string& text);
  /// Muted note (e.g. "not available for real data").
  void note(const std::string& text);
  /// A numbered figure from SVG markup (render(...) output) with caption.
  void figure_svg(const std::string& svg, const std::string& caption);
  /// Several SVGs side by side under one number and caption (e.g. before/after matrices).
  void figure_row(const std::vector<std::string>& svgs, const std::string& caption);
  /// A numbered figure from a raster image (PNG data URI in an <img>); display_width in CSS
  /// px (0: natural size, capped to the page width).
  void figure_image(const Image& img, const std::string& caption, double display_width = 0,
                    const std::string& alt = {});
  /// A numbered table with caption.
  void table(const Table& t);
  /// Two-column key/value table (config, versions, machine).
  void key_values(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& caption);
  /// Trusted markup inserted verbatim.
  void raw_html(const std::string& html);

  int figure_count() const { return figures_; }
  int table_count() const { return tables_; }
  /// The complete document.
  std::string html() const;
  /// Writes html() atomically (core/atomic_file.h).
  void write(const std::filesystem::path& path) const;

 private:
  struct TocEntry {
    std::string id, title;
    int level;
  };
  std::string title_, subtitle_, headline_, body_;
  std::vector<TocEntry> toc_;
  std::vector<std::string> ids_;
  int figures_ = 0, tables_ = 0, svgs_ = 0, imgs_ = 0;
};

}  // namespace taupe::report
