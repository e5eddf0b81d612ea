#pragma once
// Full (report) views of the summary objects: the figures and tables the report shows for each
// summary.json section, so that report.html and summary.json cannot disagree. The pipeline
// adds the raster figures (montages, frames) itself; these cover the numbers.
//
//   HtmlReport r("taupe report", subtitle_of(s));
//   add_headline(r, s);
//   r.section("Models");
//   r.figure_svg(render(cv_confusion(s.cv)), "...");
//   r.section("Verdicts");
//   r.table(verdict_table(*s.ground_truth));
#include <string>
#include <vector>

#include "taupe/report/html.h"
#include "taupe/report/plot.h"
#include "taupe/report/report_config.h"
#include "taupe/report/summary.h"

namespace taupe::report {

/// "preset quick · world mechanical · seed 1 · taupe 0.1.0" (world "real data" when null).
/// Headline recall of a 3×3 row-normalised confusion: the mean of the mitosis and apoptosis
/// recalls. The synthetic class is left out: it measures the out-of-distribution check, not fate.
double headline_recall(const Matrix& confusion);
/// The model and its gate side by side: headline recall with and without the typicality gate,
/// synthetic recall, and how many test inputs the gate rejected.
std::string model_and_gate_text(const CvSummary& cv);
/// The switch-centre control: gated and TCN-alone synthetic fractions and which component
/// recognised the switched inputs.
std::string switch_centre_text(const SwitchCentreSummary& sc);
std::string subtitle_of(const RunSummary& s);
/// Headline box: CV accuracy (mean recall), Δ apoptosis recall after switching with CI,
/// central-cell synthetic fraction, top PC (with ρ nuclear area), verdicts correct (simulated).
void add_headline(HtmlReport& r, const RunSummary& s);

/// CV confusion matrix (mean ± sd).
Heatmap cv_confusion(const CvSummary& cv, std::string title = "Cross-validated predictions");
/// Perturbed confusion matrix after neighbour switching.
Heatmap switch_confusion(const SwitchNeighboursSummary& sn, std::string title = "Neighbours switched");
/// Perturbed − unperturbed mean confusion (diverging colours).
Heatmap confusion_difference(const Matrix& after, const Matrix& before, std::string title);
/// Δ recall per class with CI whiskers.
BarChart delta_recall_chart(const SwitchNeighboursSummary& sn, const ReportConfig& cfg = {});
/// Slopes of the mitosis and apoptosis fractions per PC (apoptosis with CI); top PC highlighted.
BarChart slope_chart(const PcShiftSummary& ps, const ReportConfig& cfg = {});
/// Spearman/Pearson ρ of each PC with nuclear area (as in summary); top PC highlighted.
BarChart rho_chart(const PcShiftSummary& ps, const ReportConfig& cfg = {});
/// Verdicts: experiment, conclusion, green/red "matches planted mechanism".
Table verdict_table(const GroundTruthSummary& gt);
/// Stage timings in the given order (stages not listed follow alphabetically) plus a total;
/// with `peak_mb` (stage -> MiB, as recorded in the manifest) a column of each stage's peak
/// resident memory.
Table timings_table(const std::map<std::string, double>& timings, const std::vector<std::string>& order = {},
                    const std::map<std::string, double>& peak_mb = {});
/// Per-PC table: pc, slopes, CI, realistic range, ρ.
Table pc_table(const PcShiftSummary& ps);
/// Data counts table.
Table data_table(const DataSummary& d);

}  // namespace taupe::report
