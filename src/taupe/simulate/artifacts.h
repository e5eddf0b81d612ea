#pragma once
// What `taupe simulate` (the simulate stage) writes into its output directory: the names and
// formats of its artifacts, owned here; every reader asks this header. Dependency-free.
//   glimpses.h5, patches.h5        taupe.glimpses / taupe.patches (dataset/)
//   simulation.json                configuration, world statistics, timings
//   fov_NNN/tracks.h5              taupe.tracks (parents, fates, event onsets)
//   fov_NNN/ground_truth.h5        per cell per frame ground truth (docs/simulator.md)
//   fov_NNN/movie.h5               full-frame movie + masks (SimConfig::movies)
//   pictures/*.png                 a frame, a glimpse montage, ground-truth plots (SimConfig::pictures)
#include <cstdio>
#include <filesystem>
#include <string>

namespace taupe::simulate_artifacts {

inline std::filesystem::path glimpses(const std::filesystem::path& dir) { return dir / "glimpses.h5"; }
inline std::filesystem::path patches(const std::filesystem::path& dir) { return dir / "patches.h5"; }
inline std::filesystem::path simulation_json(const std::filesystem::path& dir) { return dir / "simulation.json"; }
/// simulation.json keys of the world's ground-truth statistics (simulate/ground_truth.h): AUCs of
/// apoptosis against mitosis over the frames up to the cutoff (numbers), and the coefficients of
/// apoptosis ~ z(compression) + z(WT neighbours) ([estimate, CI low, CI high]).
inline constexpr const char* kAucCompression = "auc_compression";
inline constexpr const char* kAucWtNeighbours = "auc_wt_neighbours";
inline constexpr const char* kAucSmallNucleus = "auc_small_nucleus";
inline constexpr const char* kLogitCompression = "logit_compression";
inline constexpr const char* kLogitWtNeighbours = "logit_wt_neighbours";
/// "fov_003" for field of view 3.
inline std::string fov_name(int fov) {
  char b[32];
  std::snprintf(b, sizeof b, "fov_%03d", fov);
  return b;
}
inline std::filesystem::path tracks(const std::filesystem::path& fov_dir) { return fov_dir / "tracks.h5"; }
inline std::filesystem::path ground_truth(const std::filesystem::path& fov_dir) { return fov_dir / "ground_truth.h5"; }
inline std::filesystem::path movie(const std::filesystem::path& fov_dir) { return fov_dir / "movie.h5"; }

inline std::filesystem::path pictures(const std::filesystem::path& dir) { return dir / "pictures"; }
inline constexpr const char* kFramePng = "frame.png";
inline constexpr const char* kGlimpseMontagePng = "glimpse_montage.png";
inline constexpr const char* kApoptosisVsCompressionPng = "gt_apoptosis_vs_compression.png";
inline constexpr const char* kApoptosisVsWtContactPng = "gt_apoptosis_vs_wt_contact.png";
inline constexpr const char* kPopulationPng = "gt_population.png";

}  // namespace taupe::simulate_artifacts
