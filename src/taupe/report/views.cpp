#include "taupe/report/views.h"

#include <algorithm>
#include <cmath>

#include "taupe/report/svg.h"

namespace taupe::report {

namespace {
std::string est_text(const Estimate& e, int d = 2) {
  return fmt_label(e.mean, d) + " [" + fmt_label(e.ci_lo, d) + ", " + fmt_label(e.ci_hi, d) + "]";
}
std::size_t shown_pcs(const PcShiftSummary& ps, const ReportConfig& cfg) {
  return cfg.max_pcs > 0 ? std::min<std::size_t>(ps.per_pc.size(), static_cast<std::size_t>(cfg.max_pcs))
                         : ps.per_pc.size();
}
}  // namespace

double headline_recall(const Matrix& confusion) {
  double sum = 0;
  int n = 0;
  for (std::size_t c = 0; c < 2 && c < confusion.size(); ++c)
    if (c < confusion[c].size() && std::isfinite(confusion[c][c])) {
      sum += confusion[c][c];
      ++n;
    }
  return n ? sum / n : std::nan("");
}

std::string model_and_gate_text(const CvSummary& cv) {
  const auto& g = cv.typicality_gate;
  std::string t = "Held-out recall of mitosis and apoptosis (mean of the two): " + fmt_fixed(headline_recall(cv.confusion_mean), 2) +
                  " with the typicality gate";
  if (!cv.confusion_mean_raw.empty()) {
    t += ", " + fmt_fixed(headline_recall(cv.confusion_mean_raw), 2) + " for the TCN alone";
    if (cv.confusion_mean_raw.size() == 3 && cv.confusion_mean.size() == 3)
      t += "; synthetic recall " + fmt_fixed(cv.confusion_mean[2][2], 2) + " with the gate, " +
           fmt_fixed(cv.confusion_mean_raw[2][2], 2) + " for the TCN alone";
  }
  t += ". ";
  if (g.enabled)
    t += "The typicality gate (temporal.typicality_quantile = " + fmt_label(g.quantile, 3) + ") rejected " +
         std::to_string(g.rejected_real) + " held-out real and " + std::to_string(g.rejected_synthetic) +
         " synthetic test trajectories (predicted synthetic whatever the TCN said).";
  else
    t += "The typicality gate was off (temporal.typicality_quantile = 0): every prediction is the TCN's own.";
  return t;
}

std::string switch_centre_text(const SwitchCentreSummary& sc) {
  std::string t = "Switching the central cell's own channel makes " + fmt_fixed(100.0 * sc.synthetic_fraction, 0) +
                  " % of real trajectories come out synthetic (out-of-distribution)";
  if (std::isfinite(sc.synthetic_fraction_raw))
    t += "; the TCN alone predicts synthetic for " + fmt_fixed(100.0 * sc.synthetic_fraction_raw, 0) + " %, and the typicality gate rejected " +
         std::to_string(sc.gate_rejected) + " of " + std::to_string(sc.trajectories) + " switched trajectories";
  if (!sc.recognised_by.empty()) t += ". Recognised by: " + sc.recognised_by;
  return t + ".";
}

std::string subtitle_of(const RunSummary& s) {
  return "preset " + s.preset + " \u00b7 " + (s.world ? "world " + *s.world : std::string("real data")) +
         " \u00b7 seed " + std::to_string(s.seed) + " \u00b7 taupe " + s.taupe_version;
}

void add_headline(HtmlReport& r, const RunSummary& s) {
  std::vector<HeadlineItem> items;
  items.emplace_back("CV recall, mitosis & apoptosis (" + std::to_string(s.cv.folds) + " folds)",
                     fmt_fixed(headline_recall(s.cv.confusion_mean), 2));
  // The neighbour verdict's statistic when the run has it; older runs show the recall change.
  if (auto p = s.switch_neighbours.delta_probability.find("apoptosis"); p != s.switch_neighbours.delta_probability.end())
    items.emplace_back("\u0394 P(apoptosis), neighbours switched", est_text(p->second));
  else if (auto it = s.switch_neighbours.delta_recall.find("apoptosis"); it != s.switch_neighbours.delta_recall.end())
    items.emplace_back("\u0394 apoptosis recall, neighbours switched", est_text(it->second));
  items.emplace_back("central cell switched \u2192 synthetic",
                     fmt_fixed(100.0 * s.switch_centre.synthetic_fraction, 0) + "%");
  std::string top = "PC " + std::to_string(s.pc_shift.top_pc);
  for (const auto& e : s.pc_shift.per_pc)
    if (e.pc == s.pc_shift.top_pc && std::isfinite(e.rho_nuclear_area))
      top += " (\u03c1 nuclear area " + fmt_label(e.rho_nuclear_area, 2) + ")";
  items.emplace_back("top PC by |apoptosis slope|", top);
  std::string note;
  if (s.ground_truth) {
    const auto& vs = s.ground_truth->verdicts;
    const auto ok = std::count_if(vs.begin(), vs.end(), [](const VerdictEntry& v) { return v.correct; });
    const auto open = std::count_if(vs.begin(), vs.end(), [](const VerdictEntry& v) { return v.outcome == "inconclusive"; });
    const auto n = vs.size();
    items.emplace_back("verdicts matching the planted mechanism",
                       std::to_string(ok) + "/" + std::to_string(n) +
                           (open > 0 ? " (" + std::to_string(open) + " inconclusive)" : std::string()),
                       static_cast<std::size_t>(ok) == n ? Status::Good : open > 0 && ok + open == static_cast<long>(n) ? Status::Warn : Status::Bad);
    note = "Simulated data: world \u201c" + s.ground_truth->world + "\u201d, whose cause of death is known.";
  } else {
    note = "Real data: no ground truth, so conclusions are not checked.";
  }
  r.headline(std::move(items), note);
}

Heatmap cv_confusion(const CvSummary& cv, std::string title) {
  return confusion_heatmap(cv.confusion_mean, cv.confusion_std, cv.class_names, std::move(title));
}

Heatmap switch_confusion(const SwitchNeighboursSummary& sn, std::string title) {
  return confusion_heatmap(sn.confusion_mean, sn.confusion_std, summary_class_names(), std::move(title));
}

Heatmap confusion_difference(const Matrix& after, const Matrix& before, std::string title) {
  Heatmap h;
  h.title = std::move(title);
  h.row_labels = h.col_labels = summary_class_names();
  h.values = after;
  double m = 0.05;
  for (std::size_t i = 0; i < h.values.size() && i < before.size(); ++i)
    for (std::size_t k = 0; k < h.values[i].size() && k < before[i].size(); ++k) {
      h.values[i][k] -= before[i][k];
      if (std::isfinite(h.values[i][k])) m = std::max(m, std::fabs(h.values[i][k]));
    }
  const Ticks t = nice_ticks(0, m, 2);
  h.vmin = -t.hi;
  h.vmax = t.hi;
  h.diverging = true;
  h.colorbar_label = "\u0394 fraction";
  return h;
}

BarChart delta_recall_chart(const SwitchNeighboursSummary& sn, const ReportConfig& cfg) {
  BarChart b;
  b.title = "Change in recall after neighbour switching";
  b.x_label = "true class";
  b.y = Axis("\u0394 recall (switched \u2212 unperturbed)");
  BarSeries s;
  s.name = "mean over models";
  s.color = "#0072B2";
  double m = 0.1;
  for (const auto& c : summary_class_names()) {
    auto it = sn.delta_recall.find(c);
    if (it == sn.delta_recall.end()) continue;
    b.categories.push_back(c);
    s.values.push_back(it->second.mean);
    s.ci_lo.push_back(it->second.ci_lo);
    s.ci_hi.push_back(it->second.ci_hi);
    for (double v : {it->second.mean, it->second.ci_lo, it->second.ci_hi})
      if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  }
  const Ticks t = nice_ticks(0, m, 2);
  b.y.min = -t.hi;  // symmetric: "no effect" sits in the middle
  b.y.max = t.hi;
  b.series = {s};
  b.width = std::min(cfg.figure_width, 560.0);
  return b;
}

BarChart slope_chart(const PcShiftSummary& ps, const ReportConfig& cfg) {
  BarChart b;
  b.title = "Slopes of the prediction curves inside the realistic range";
  b.x_label = "principal component";
  b.y = Axis("OLS slope", "fraction per unit shift");
  BarSeries mit, apo;
  mit.name = "mitosis";
  apo.name = "apoptosis";
  const std::size_t n = shown_pcs(ps, cfg);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& e = ps.per_pc[i];
    b.categories.push_back(std::to_string(e.pc));
    mit.values.push_back(e.slope_mitosis);
    apo.values.push_back(e.slope_apoptosis);
    apo.ci_lo.push_back(e.slope_ci_apoptosis[0]);
    apo.ci_hi.push_back(e.slope_ci_apoptosis[1]);
    if (e.pc == ps.top_pc) b.highlight.push_back(static_cast<int>(i));
  }
  b.series = {mit, apo};
  b.highlight_note = "top PC (largest |apoptosis slope|)";
  b.width = cfg.wide_figure_width;
  return b;
}

BarChart rho_chart(const PcShiftSummary& ps, const ReportConfig& cfg) {
  BarChart b;
  b.title = "Correlation of each PC with nuclear area";
  b.x_label = "principal component";
  b.y = Axis("\u03c1 (nuclear area)", "", -1.0, 1.0);
  BarSeries s;
  s.color = "#009E73";
  const std::size_t n = shown_pcs(ps, cfg);
  for (std::size_t i = 0; i < n; ++i) {
    b.categories.push_back(std::to_string(ps.per_pc[i].pc));
    s.values.push_back(ps.per_pc[i].rho_nuclear_area);
    if (ps.per_pc[i].pc == ps.top_pc) b.highlight.push_back(static_cast<int>(i));
  }
  b.series = {s};
  b.highlight_note = "top PC";
  b.width = cfg.wide_figure_width;
  b.height = 280;
  return b;
}

Table verdict_table(const GroundTruthSummary& gt) {
  Table t;
  t.caption = "Conclusions of the experiments and whether each matches the planted mechanism (world \u201c" +
              gt.world + "\u201d).";
  t.header = {"experiment", "outcome", "expected", "conclusion", "matches planted mechanism"};
  auto with_sign = [](const std::string& outcome, int direction) {
    return outcome == "effect" && direction != 0 ? outcome + (direction > 0 ? " (+)" : " (\u2212)") : outcome;
  };
  for (const auto& v : gt.verdicts) {
    const TableCell match = v.outcome == "inconclusive" ? TableCell("inconclusive", Status::Warn) : yes_no_cell(v.correct);
    t.add_row({TableCell(v.experiment), TableCell(with_sign(v.outcome, v.direction)),
               TableCell(with_sign(v.expected_outcome, v.expected_direction)), TableCell(v.conclusion), match});
  }
  return t;
}

Table timings_table(const std::map<std::string, double>& timings, const std::vector<std::string>& order,
                    const std::map<std::string, double>& peak_mb) {
  Table t;
  const bool peaks = !peak_mb.empty();
  t.caption = peaks ? "Wall time and peak resident memory per stage." : "Wall time per stage.";
  t.header = {"stage", "seconds"};
  if (peaks) t.header.push_back("peak memory (MiB)");
  std::vector<std::string> keys;
  for (const auto& k : order)
    if (timings.count(k)) keys.push_back(k);
  for (const auto& [k, v] : timings)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  double total = 0;
  for (const auto& k : keys) {
    const double v = timings.at(k);
    if (std::isfinite(v)) total += v;
    std::vector<TableCell> row{TableCell(k), num_cell(v, 1)};
    if (peaks) row.push_back(peak_mb.count(k) ? num_cell(peak_mb.at(k), 0) : TableCell(""));
    t.add_row(row);
  }
  std::vector<TableCell> last{TableCell("total"), num_cell(total, 1)};
  if (peaks) {
    double most = 0;
    for (const auto& kv : peak_mb) most = std::max(most, kv.second);
    last.push_back(num_cell(most, 0));  // the run's peak: the largest stage's
  }
  t.add_row(last);
  return t;
}

Table pc_table(const PcShiftSummary& ps) {
  Table t;
  t.caption = "Per-PC results of the PC-shift experiment (slopes in fraction per unit shift, 95% CI).";
  t.header = {"PC", "slope mitosis", "slope apoptosis", "95% CI apoptosis", "realistic range", "\u03c1 nuclear area"};
  for (const auto& e : ps.per_pc) {
    const bool excludes0 = std::isfinite(e.slope_ci_apoptosis[0]) && std::isfinite(e.slope_ci_apoptosis[1]) &&
                           (e.slope_ci_apoptosis[0] > 0 || e.slope_ci_apoptosis[1] < 0);
    auto pair = [](const std::array<double, 2>& p, int d) {
      if (!std::isfinite(p[0]) || !std::isfinite(p[1])) return std::string("n/a");
      return "[" + fmt_label(p[0], d) + ", " + fmt_label(p[1], d) + "]";
    };
    TableCell ci(pair(e.slope_ci_apoptosis, 3), excludes0 ? Status::Warn : Status::Neutral, true);
    TableCell pc(std::to_string(e.pc), e.pc == ps.top_pc ? Status::Good : Status::Neutral, true);
    t.add_row({pc, num_cell(e.slope_mitosis, 3), num_cell(e.slope_apoptosis, 3), ci,
               TableCell(pair(e.realistic_range, 1), Status::Neutral, true), num_cell(e.rho_nuclear_area, 2)});
  }
  return t;
}

Table data_table(const DataSummary& d) {
  Table t;
  t.caption = "Trajectories by fate and training patches.";
  t.header = {"item", "count"};
  t.add_row({TableCell("mitosis trajectories"), TableCell(std::to_string(d.trajectories_mitosis), Status::Neutral, true)});
  t.add_row({TableCell("apoptosis trajectories"), TableCell(std::to_string(d.trajectories_apoptosis), Status::Neutral, true)});
  t.add_row({TableCell("patches (encoder training)"), TableCell(std::to_string(d.patches), Status::Neutral, true)});
  return t;
}

}  // namespace taupe::report
