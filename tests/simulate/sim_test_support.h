#pragma once
// Tiny-scale simulator settings shared by the simulate tests (mirror of configs/tiny.toml).
#include "taupe/dataset/extract.h"
#include "taupe/simulate/sim_config.h"

namespace taupe::testing_sim {

inline SimConfig tiny_sim(const std::string& world = "mechanical") {
  SimConfig c;
  c.world = world;
  c.fovs = 1;
  c.fov_width_px = 512;
  c.fov_height_px = 512;
  c.frames = 100;
  c.burn_in_frames = 60;
  c.threads = 1;
  return c;
}

inline ExtractConfig tiny_extract() {
  ExtractConfig e;
  e.max_frames_before_cutoff = 32;
  e.patch_frame_stride = 25;
  e.patches_per_frame = 20;
  return e;
}

}  // namespace taupe::testing_sim
