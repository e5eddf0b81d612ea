#pragma once
// The layout of a `taupe run` directory (pipeline/pipeline.h lists what each stage writes).
// Every path comes from the artifact contract of the stage that writes it
// (<stage>/artifacts.h), so a name is written once.
#include <filesystem>

#include "taupe/encoder/artifacts.h"
#include "taupe/perturb/artifacts.h"
#include "taupe/projector/model_dir.h"
#include "taupe/report/artifacts.h"
#include "taupe/temporal/artifacts.h"

namespace taupe {

/// Files of a run directory.
struct RunLayout {
  std::filesystem::path root;
  explicit RunLayout(std::filesystem::path r) : root(std::move(r)) {}
  std::filesystem::path data() const { return root / "data"; }
  std::filesystem::path data_source() const { return data() / "source.json"; }
  std::filesystem::path model() const { return root / "model"; }
  std::filesystem::path encoder_work() const { return encoder_artifacts::work_dir(model()); }
  std::filesystem::path temporal() const { return temporal_artifacts::dir(model()); }
  std::filesystem::path encodings() const { return encoder_artifacts::encodings(root); }
  std::filesystem::path perturb() const { return perturb_artifacts::dir(root); }
  std::filesystem::path summary_part() const { return perturb() / perturb_artifacts::kSummaryPartJson; }
  std::filesystem::path summary() const { return report_artifacts::summary_json(root); }
  std::filesystem::path report() const { return report_artifacts::report_html(root); }
  /// The glimpse file the run uses (data/glimpses.h5, or the --data source recorded in
  /// data/source.json).
  std::filesystem::path glimpses() const;
  /// The patch file (data/patches.h5, or the --data source's patches.h5).
  std::filesystem::path patches() const;
  /// True for a --data run (data/source.json exists).
  bool real_data() const;
};

}  // namespace taupe
