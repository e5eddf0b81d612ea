#pragma once
// What the temporal stage (cross-validated TCNs) writes: the names and formats of its
// artifacts, owned here; every reader asks this header. Dependency-free.
//   <model_dir>/temporal/fold_XX.pt        one TCN per fold (tcn_io.h) with its typicality gate
//   <model_dir>/temporal/fold_XX.json      the finished fold's outcome (resume)
//   <model_dir>/temporal/checkpoints/      per-fold epoch checkpoints (resume)
//   <model_dir>/temporal/probabilities.csv held-out predictions of every fold
//   <model_dir>/temporal/curves.csv        per-epoch training curves
//   <model_dir>/temporal/confusion.csv     per-fold normalised confusion + "mean" / "sd" rows
//   <model_dir>/temporal/cv_summary.json   fold count, confusion mean/sd, per-fold matrices
//   <model_dir>/folds.csv                  trajectory -> fold assignment
//   <model_dir>/manifest.json "temporal"   (projector/model_dir.h)
#include <cstdio>
#include <filesystem>
#include <string>

namespace taupe::temporal_artifacts {

inline std::filesystem::path dir(const std::filesystem::path& model_dir) { return model_dir / "temporal"; }
/// "fold_03" for fold 3.
inline std::string fold_name(int fold) {
  char name[32];
  std::snprintf(name, sizeof name, "fold_%02d", fold);
  return name;
}
inline std::filesystem::path fold_weights(const std::filesystem::path& model_dir, int fold) {
  return dir(model_dir) / (fold_name(fold) + ".pt");
}
inline std::filesystem::path fold_outcome(const std::filesystem::path& model_dir, int fold) {
  return dir(model_dir) / (fold_name(fold) + ".json");
}
inline std::filesystem::path checkpoints(const std::filesystem::path& model_dir) { return dir(model_dir) / "checkpoints"; }
inline std::filesystem::path fold_checkpoint(const std::filesystem::path& model_dir, int fold) {
  return checkpoints(model_dir) / (fold_name(fold) + ".ckpt");
}
inline std::filesystem::path probabilities_csv(const std::filesystem::path& model_dir) {
  return dir(model_dir) / "probabilities.csv";
}
inline std::filesystem::path curves_csv(const std::filesystem::path& model_dir) { return dir(model_dir) / "curves.csv"; }
inline std::filesystem::path confusion_csv(const std::filesystem::path& model_dir) {
  return dir(model_dir) / "confusion.csv";
}
inline std::filesystem::path cv_summary_json(const std::filesystem::path& model_dir) {
  return dir(model_dir) / "cv_summary.json";
}
inline std::filesystem::path folds_csv(const std::filesystem::path& model_dir) { return model_dir / "folds.csv"; }

}  // namespace taupe::temporal_artifacts
