#pragma once
// What the report stage writes into a run directory: the names of its artifacts, owned here;
// every reader asks this header. Dependency-free.
//   summary.json   the machine-readable contract (report/summary.h)
//   report.html    the self-contained report (report/run_report.h)
//   latent_traversal.svg   decoded walks along single PCs (the pipeline's report stage decodes
//                          them with the VAE; report.html embeds the figure)
#include <filesystem>

namespace taupe::report_artifacts {

inline std::filesystem::path summary_json(const std::filesystem::path& run_dir) { return run_dir / "summary.json"; }
inline std::filesystem::path report_html(const std::filesystem::path& run_dir) { return run_dir / "report.html"; }
inline std::filesystem::path latent_traversal_svg(const std::filesystem::path& run_dir) {
  return run_dir / "latent_traversal.svg";
}

}  // namespace taupe::report_artifacts
