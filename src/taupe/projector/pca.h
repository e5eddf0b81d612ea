#pragma once
// PCA projector, equivalent to scikit-learn's PCA(n_components=D) with default settings:
// centred on the empirical mean, no whitening, components sorted by decreasing explained
// variance, signs fixed by sklearn's svd_flip convention (the largest-|.| entry of each
// component's ... see docs/models.md for the exact rule used). Torch-free so every stage
// can hold one; the torch stages convert mean/components to tensors.
//   forward (eq. 2):  X_pc     = (X_latent - mean) · Cᵀ      C = components (D, D), row j = PC j
//   inverse (eq. 3):  X_latent = X_pc · C + mean
#include <cstdint>
#include <filesystem>
#include <vector>

namespace taupe {

struct Pca {
  int dims = 0;                              ///< D (latent dims = number of components)
  std::vector<double> mean;                  ///< (D,)
  std::vector<double> components;            ///< (D, D) row-major, row j = principal axis j
  std::vector<double> explained_variance;    ///< (D,) eigenvalues (ddof = 1, as sklearn)
  std::vector<double> explained_variance_ratio;  ///< (D,)
  std::int64_t samples = 0;                  ///< rows the fit used

  /// x: (n, D) row-major -> (n, D) PC coordinates.
  std::vector<float> forward(const std::vector<float>& x) const;
  /// pcs: (n, D) -> (n, D) latent vectors.
  std::vector<float> inverse(const std::vector<float>& pcs) const;
  /// Standard deviation of PC j over the fit data (sqrt of explained_variance[j]).
  double pc_sd(int j) const;
};

/// Fits PCA on x (n, D) row-major (n >= 2). Throws DataError on non-finite input.
Pca pca_fit(const std::vector<float>& x, int dims);

/// Saved as HDF5 "taupe.pca" v1 (mean, components, explained_variance(_ratio)).
void write_pca(const std::filesystem::path& path, const Pca& pca);
Pca read_pca(const std::filesystem::path& path);

}  // namespace taupe
