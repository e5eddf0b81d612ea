#pragma once
// A trained model directory as one language-neutral weight file (io/weights.h): the encoder and
// decoder tensors, the PCA, and every fold TCN with its record (architecture, max_len, typicality
// gate) as the group's `meta` attribute, so that a reader outside taupe (python/taupe/model.py)
// reproduces `taupe predict`.
//
//   io::IoSummary s = export_model_weights("runs/quick/model", "weights.h5");
#include <filesystem>

#include "taupe/io/common.h"

namespace taupe {

/// Writes `out` atomically. IoError when the directory holds none of encoder.pt, decoder.pt,
/// pca.h5, temporal/fold_XX.pt; ModelError naming the file when an archive is unreadable.
io::IoSummary export_model_weights(const std::filesystem::path& model_dir, const std::filesystem::path& out);

}  // namespace taupe
