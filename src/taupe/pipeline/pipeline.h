#pragma once
// `taupe run`: runs the stage table (stage.h). One run directory holds everything; each stage
// owns the names of what it writes (<stage>/artifacts.h, composed in report/run_layout.h):
//
//   <out>/config.toml, manifest.json, taupe.log      run directory (core/run_dir.h)
//   <out>/data/            simulate: glimpses.h5, patches.h5, simulation.json, pictures/, fov_*/
//                          real data (--data): source.json (+ patches.h5 derived from glimpses)
//   <out>/model/           encoder.pt, decoder.pt, manifest.json, pca.h5, pc_meaning.{csv,json},
//                          encoder_training/ (checkpoint, loss.csv, montages), temporal/ (CV)
//   <out>/encodings.h5     every glimpse frame encoded once
//   <out>/perturb/         experiment CSVs/PNGs, perturb.json, verdicts.csv, summary_part.json
//   <out>/summary.json     the machine-readable contract (report/summary.h)
//   <out>/report.html      the self-contained report (report/run_report.h)
//   <out>/latent_traversal.svg  its decoded-walk figure
//
// Stages: simulate (or data) → encoder → projector → encode → temporal → perturb → report,
// declared as data in the stage table (stage.h, stages.cpp); run_pipeline loops over it. Each
// records status, seconds and its config hash in the manifest; rerunning the same command
// skips finished stages, resumes an interrupted one (the encoder and CV trainers continue from
// their checkpoints in the same work dirs) and reruns the stages whose configuration changed
// (stage_plan.h). Before skipping a finished stage its recorded files (size + SHA-256) are
// verified; a changed file reruns the stage. Before a stage starts its estimated memory is
// checked against what is available; between stages (and at the trainers' safe points) a
// SIGINT / SIGTERM stops the run (docs/reliability.md). Docs: docs/pipeline.md.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "taupe/pipeline/run_config.h"
#include "taupe/projector/projector.h"
#include "taupe/pipeline/stage.h"
#include "taupe/pipeline/stage_plan.h"
#include "taupe/report/run_layout.h"
#include "taupe/report/summary.h"

namespace taupe {

struct PipelineOptions {
  std::filesystem::path out;    ///< run directory (empty: cfg.run.out)
  /// Existing glimpse dataset instead of simulating: a directory with glimpses.h5 (and
  /// optionally patches.h5), or a glimpse file. Empty: simulate.
  std::filesystem::path data;
  std::string command_line;     ///< recorded in the manifest
  bool progress = true;         ///< progress bars / stage lines on stderr
  /// Testing aid: stop (throw) right before this stage would start; "" = never.
  std::string stop_before;
  /// Take the run directory's lock even from a holder on another host (--force-unlock).
  bool force_unlock = false;
  /// A multi-process run's ranks (dist/cluster.h), nullptr for one process. Rank 0 owns the run
  /// directory (lock, manifest, every rank-0 stage); the other ranks follow its plan and join the
  /// distributed stages (Stage::distributed). docs/distributed.md.
  Cluster* cluster = nullptr;
};

struct PipelineResult {
  std::filesystem::path run_dir, report_html, summary_json;
  std::vector<PlannedStage> plan;
  report::RunSummary summary;
  double seconds = 0;           ///< wall time of this invocation
  /// Terminal view: stages (ran / resumed / skipped, seconds), headline numbers, verdicts and
  /// where the report is.
  std::string brief() const;
};

/// Runs (or resumes) the whole pipeline. `cfg` must be resolved and validated; run.world
/// overrides simulate.world (the simulated world is the run's). Throws taupe::Error.
PipelineResult run_pipeline(RunConfig cfg, const PipelineOptions& opts);
/// The same over another stage table (e.g. pipeline_stages() with one more stage).
PipelineResult run_pipeline(RunConfig cfg, const PipelineOptions& opts, const StageTable& table);


/// Decodes walks along PC0–PC3 and the pc-shift experiment's top PC (−3 … +3 sd) with the run's
/// VAE and PCA and writes them as the report's latent traversal figure
/// (report_artifacts::latent_traversal_svg). Logs a warning when the models cannot be loaded.
void write_latent_traversal(const RunLayout& layout, const ReportConfig& cfg);

/// The projector stage (and `taupe train projector`): encodes the patches with the model
/// directory's VAE, fits the PCA (pca.h5) and writes the PC-meaning report; returns both.
struct ProjectorFit {
  std::int64_t samples = 0;  ///< patches the PCA was fitted on
  PcMeaningReport meaning;
};
ProjectorFit train_projector(const std::filesystem::path& model_dir, const std::filesystem::path& patches,
                             const ProjectorConfig& cfg);

/// `taupe report RUN_DIR`: with the run directory's config.toml, rewrites the latent traversal,
/// summary.json and report.html from the run's artifacts; returns the summary.
report::RunSummary regenerate_report(const std::filesystem::path& run_dir);

/// A --data source resolved: absolute glimpse file and patch file (empty when it has none).
struct DataSource {
  std::filesystem::path glimpses, patches;
  /// Paths, sizes and modification times: changes when the dataset changes.
  std::string identity() const;
};
/// Resolves --data (a directory with glimpses.h5 and optionally patches.h5, or a glimpse
/// file). Throws IoError naming the path.
DataSource resolve_data_source(const std::filesystem::path& data);

/// Derives encoder patches from glimpse frames (for --data without patches.h5): every
/// `stride`-th frame up to the cutoff of every trajectory, central cell type from the
/// trajectory, per-frame features carried over. Returns the number written.
std::size_t derive_patches_from_glimpses(const std::filesystem::path& glimpses, const std::filesystem::path& patches,
                                         int stride);

}  // namespace taupe
