#pragma once
// Ground truth of simulated fields of view: the per-cell per-frame table (written as HDF5)
// and the trajectory-level statistics the acceptance tests and plots use.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/core/stats.h"
#include "taupe/dataset/extract.h"
#include "taupe/simulate/model.h"

namespace taupe {

/// Writes `ground_truth.h5` ("taupe.ground_truth" v1): one 1-d dataset per column, one row
/// per cell per frame (docs/simulator.md lists the columns).
void write_ground_truth(const std::filesystem::path& path, const FovHistory& h);

/// One labelled trajectory summarised over the last `window` frames up to its cutoff.
struct TrajectoryStat {
  int fov = 0;
  std::int64_t track_id = 0;
  Fate fate = Fate::kCensored;
  std::int32_t cutoff = 0;         ///< absolute frame
  int frames = 0;                  ///< frames averaged
  double compression = 0, wt_neighbours = 0, scrib_neighbours = 0, local_density = 0, nuclear_area_um2 = 0;
};
/// Labelled scrib trajectories exactly as extraction plans them (plan_glimpses).
std::vector<TrajectoryStat> trajectory_stats(const FovHistory& h, const ExtractConfig& ex, int window = 32);

/// World-level summary: the numbers in the acceptance criteria.
struct WorldStats {
  std::size_t mitosis = 0, apoptosis = 0;
  double auc_compression = 0, auc_wt = 0;  ///< AUC of mean over last 32 frames: apoptosis vs mitosis
  /// The same for the true nuclear area, negated: how well a smaller nucleus ranks apoptosis above
  /// mitosis. Above 0.5 in every world, the neutral one included: a cell divides at the end of
  /// its cycle, at its largest, and dies anywhere from `apoptosis_min_phase` on.
  double auc_small_nucleus = 0;
  stats::LogisticFit logit;                ///< apoptosis ~ 1 + z(compression) + z(wt_neighbours)
  double spearman_area_density = 0;        ///< nuclear area vs local density, all cells
  double scrib_fraction_first = 0, scrib_fraction_last = 0;
  double scrib_apoptosis_per_h = 0;        ///< scrib apoptoses per scrib cell-hour
  double gfp_over_rfp = 0;                 ///< filled by the renderer-level check when measured
  std::string brief() const;
};
WorldStats world_stats(const std::vector<const FovHistory*>& fovs, const ExtractConfig& ex, double frame_interval_min);

}  // namespace taupe
