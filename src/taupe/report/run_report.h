#pragma once
// The report of a `taupe run` directory: assembles summary.json and report.html from the
// artifacts of the stages (each named by its stage's <stage>/artifacts.h; run_layout.h). Everything is read
// back from files, so a report can be regenerated from an existing run directory, and every
// number in summary.json comes from the CSV/JSON file that holds it:
//   data        <- data/glimpses.h5 (fates), patches.h5 (count)
//   cv          <- model/temporal/confusion.csv ("mean" / "sd" rows)
//   switch_*, pc_shift, ground_truth, extra sections <- perturb/summary_part.json, written by the
//                  perturb stage from the same results as perturb/*.csv
//   timings_s   <- manifest.json stage seconds (+ the report stage itself)
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "taupe/report/report_config.h"
#include "taupe/report/summary.h"

namespace taupe {

/// summary.json contents for a run directory. `manifest` supplies the stage timings (empty:
/// read <run_dir>/manifest.json); `extra_timings` are added/overridden (e.g. the report stage
/// while it runs). Throws IoError/DataError naming a missing or malformed file.
report::RunSummary build_run_summary(const std::filesystem::path& run_dir, const nlohmann::json& manifest = {},
                                     const std::map<std::string, double>& extra_timings = {});

/// report.html for a run directory and its summary (sections 1-7, docs/pipeline.md). The latent
/// traversal figure is the SVG the report stage decoded (report_artifacts::latent_traversal_svg).
void write_run_html(const std::filesystem::path& run_dir, const report::RunSummary& s, const ReportConfig& cfg);

/// Both: validates and writes <run_dir>/summary.json and <run_dir>/report.html; returns the summary.
report::RunSummary write_run_report(const std::filesystem::path& run_dir, const ReportConfig& cfg,
                                    const nlohmann::json& manifest = {},
                                    const std::map<std::string, double>& extra_timings = {});

}  // namespace taupe
