#pragma once
// What the encoder stage writes: the names and formats of its artifacts, owned here. Every
// reader (pipeline, report, CLI, export) asks this header rather than retyping a name.
// Dependency-free, so any stage may include it.
//   <model_dir>/encoder.pt, decoder.pt     β-VAE weights, named tensors (torch::serialize archive)
//   <model_dir>/manifest.json "encoder"     config, shapes, training metadata (projector/model_dir.h)
//   <work_dir>/checkpoint.pt                weights + optimiser + step + RNG state (resume)
//   <work_dir>/loss.csv                     per logged step: step, epoch, loss terms (report/csv.h)
//   <work_dir>/montage_epoch_NNN.png        inputs and reconstructions after epoch NNN
//   encodings.h5                            taupe.encodings: every glimpse frame encoded (encode.h)
#include <cstdio>
#include <filesystem>
#include <string>

namespace taupe::encoder_artifacts {

inline std::filesystem::path encoder_weights(const std::filesystem::path& model_dir) { return model_dir / "encoder.pt"; }
inline std::filesystem::path decoder_weights(const std::filesystem::path& model_dir) { return model_dir / "decoder.pt"; }
/// The training work directory inside a model directory (when none is given).
inline std::filesystem::path work_dir(const std::filesystem::path& model_dir) { return model_dir / "encoder_training"; }
inline std::filesystem::path checkpoint(const std::filesystem::path& work) { return work / "checkpoint.pt"; }
inline std::filesystem::path loss_csv(const std::filesystem::path& work) { return work / "loss.csv"; }

/// The encodings file of a run or model directory.
inline std::filesystem::path encodings(const std::filesystem::path& dir) { return dir / "encodings.h5"; }

inline constexpr const char* kMontagePrefix = "montage_epoch_";
inline std::filesystem::path montage(const std::filesystem::path& work, long long epoch) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%03lld.png", kMontagePrefix, epoch);
  return work / name;
}
/// True for a file name written by montage().
inline bool is_montage(const std::filesystem::path& p) {
  const std::string n = p.filename().string();
  return p.extension() == ".png" && n.rfind(kMontagePrefix, 0) == 0;
}

}  // namespace taupe::encoder_artifacts
