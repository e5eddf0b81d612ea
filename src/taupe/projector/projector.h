#pragma once
// `taupe train projector`: PCA on the z_mean of all patches (reference §4), saved as
// <model_dir>/pca.h5 plus the manifest's "projector" section; and the PC-meaning report:
// for every PC, Spearman ρ of its per-patch value with the central cell's ground-truth nuclear
// area and with the central cell type. Torch-free: the encoding is done by the caller
// (encoder/encode.h) and handed in.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/dataset/types.h"
#include "taupe/projector/pca.h"
#include "taupe/projector/projector_config.h"

namespace taupe {

/// Fits the PCA on z_mean (n, D), writes pca.h5 and the manifest section; returns it.
Pca fit_projector(const std::vector<float>& z_mean, int dims, const std::filesystem::path& model_dir,
                  const ProjectorConfig& cfg = {});
/// Writes pca.h5 and the manifest's "projector" section (`config`: how the PCA was obtained, a
/// fit's settings or the file it was imported from; `sign_convention`: how component signs were
/// fixed). fit_projector calls it; importers of PCAs fitted elsewhere too.
void save_projector(const Pca& pca, const std::filesystem::path& model_dir, const nlohmann::json& config,
                    const std::string& sign_convention);
/// Loads <model_dir>/pca.h5 and checks its dims against the manifest; ModelError if not.
Pca load_projector(const std::filesystem::path& model_dir);

struct PcMeaning {
  int pc = 0;
  double explained_variance_ratio = 0;
  double rho_nuclear_area = 0;    ///< NaN when the feature is absent
  double rho_cell_type = 0;       ///< type coded WT = 0, scrib = 1 (unknown types left out)
};
struct PcMeaningReport {
  std::int64_t patches = 0;
  bool has_nuclear_area = false;
  std::vector<PcMeaning> pcs;
  /// Largest |ρ| with nuclear area among PC0..PC2 and its PC.
  double best_area_rho_top3 = 0;
  int best_area_pc_top3 = -1;
  /// R² of the least-squares fit nuclear area ~ 1 + all D PCs: how much of the area the latent
  /// holds linearly, whether or not one PC carries it (NaN without the feature).
  double area_r2_all_pcs = 0;
  std::string brief() const;
};
/// pcs: (n, D) PC coordinates; types (n,); features may hold "nuclear_area_um2" (n,).
PcMeaningReport pc_meaning(const std::vector<float>& pcs, int dims, const std::vector<CellType>& types,
                           const std::map<std::string, std::vector<float>>& features,
                           const std::vector<double>& explained_variance_ratio);
/// Writes the model directory's pc_meaning.csv (pc, explained_variance_ratio, rho_nuclear_area,
/// rho_cell_type) and pc_meaning.json (model_dir.h), atomically.
void write_pc_meaning(const PcMeaningReport& report, const std::filesystem::path& model_dir);

}  // namespace taupe
