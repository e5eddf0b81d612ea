#pragma once
// `taupe import keras-weights DIR`: the reference implementation's trained weights as a taupe
// model directory (encoder.pt, decoder.pt, pca.h5, temporal/fold_00.pt, manifest.json), usable
// by `taupe predict` and `taupe perturb`. The reference saves:
//   encoder_weights.h5, decoder_weights.h5, temporal_weights.h5   Keras 2 HDF5 (io/keras_h5.h)
//   projector_components.npz                                     `components` (D, D), column j =
//                                                                PC j, and `mean` (D,)
// Mapping (docs/import-export.md "Reference weights"): Conv2D kernels (kh, kw, in, out) ->
// (out, in, kh, kw); Dense (in, out) -> (out, in), flatten/reshape order HWC on both sides;
// BatchNorm gamma, beta, moving mean/variance -> weight, bias, running mean/var; weight-
// normalised Conv1D: v (k, in, out) -> (out, in, k), g, bias (tfa's data-init clone and its
// `initialized` flag are not needed); the last Dense's outputs are reordered from the
// reference's class order to taupe's (mitosis, apoptosis, synthetic).
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/io/common.h"

namespace taupe {

/// File names of the reference implementation's outputs (tau-vae-reference.md §0).
namespace keras_files {
inline std::filesystem::path encoder(const std::filesystem::path& dir) { return dir / "encoder_weights.h5"; }
inline std::filesystem::path decoder(const std::filesystem::path& dir) { return dir / "decoder_weights.h5"; }
inline std::filesystem::path temporal(const std::filesystem::path& dir) { return dir / "temporal_weights.h5"; }
inline std::filesystem::path projector(const std::filesystem::path& dir) { return dir / "projector_components.npz"; }
}  // namespace keras_files

struct KerasImportOptions {
  std::filesystem::path dir;        ///< folder holding the four reference files
  std::filesystem::path model_dir;  ///< taupe model directory to write
  /// Class of each output of the reference's last Dense layer, in order. The reference numbers
  /// its classes in the os.listdir order of its data folders; its confusion-matrix callback
  /// assumes this order.
  std::vector<std::string> class_order = {"apoptosis", "mitosis", "synthetic"};
  /// Patch container to measure the PCs' variance on (the npz holds none; perturbation shifts
  /// in sd units need it). Empty: the explained variance is recorded as unknown (NaN).
  std::filesystem::path patches;
  bool overwrite = false;           ///< replace an existing model directory
};

/// Writes the model directory whole (staged, renamed into place). ConfigError for a bad class
/// order or an existing directory without `overwrite`; IoError for a missing or unreadable file;
/// DataError naming the file and the weight when the Keras layout does not map onto taupe's
/// architecture (missing, extra or misshapen weights).
io::IoSummary import_keras_weights(const KerasImportOptions& opts);

}  // namespace taupe
