#pragma once
// `taupe simulate`: simulates the fields of view in parallel and writes, under `out`:
//   fov_NNN/tracks.h5        taupe.tracks (parents, fates, event onsets)
//   fov_NNN/ground_truth.h5  per cell per frame ground truth (docs/simulator.md)
//   fov_NNN/movie.h5         full-frame movie + masks (only with SimConfig::movies)
//   glimpses.h5              labelled trajectories rendered straight from the simulation
//   patches.h5               encoder patches (both cell types)
//   simulation.json          config, counts and the world's ground-truth statistics
//   pictures/*.png           a frame, a glimpse montage, ground-truth plots (SimConfig::pictures)
// Output bytes depend only on the configuration and the seed, not on the thread count.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "taupe/dataset/extract.h"
#include "taupe/simulate/ground_truth.h"
#include "taupe/simulate/model.h"
#include "taupe/simulate/sim_config.h"

namespace taupe {

struct SimulateResult {
  int fovs = 0;
  std::size_t cells_first_frame = 0, cell_frames = 0, frames = 0;
  std::size_t trajectories = 0, mitosis = 0, apoptosis = 0, patches = 0;
  double seconds_simulate = 0, seconds_glimpses = 0, seconds_patches = 0, seconds_total = 0;
  double gfp_mean = 0, rfp_mean = 0;  ///< mean nuclear pixel intensity per channel (ADU, frame of fov 0)
  WorldStats world;
  std::string brief() const;
};

/// Ground-truth features of a cell at a frame (glimpse / patch features).
std::map<std::string, float> snapshot_features(const CellSnap& c);

/// Runs the whole simulation. `threads` <= 0: SimConfig::threads, then cores available.
SimulateResult run_simulate(const SimConfig& cfg, const ExtractConfig& ex, std::uint64_t seed,
                            const std::filesystem::path& out);

/// Simulates all fields of view in parallel (no files).
std::vector<FovHistory> simulate_all(const SimConfig& cfg, std::uint64_t seed, int threads);

/// PNG pictures (pictures.cpp).
void write_pictures(const std::filesystem::path& dir, const SimConfig& cfg, const ExtractConfig& ex,
                    const std::vector<FovHistory>& fovs, SimulateResult& result);

}  // namespace taupe
