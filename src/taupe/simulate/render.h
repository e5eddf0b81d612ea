#pragma once
// Microscope model: renders any rectangle of a recorded frame of a simulated field of view
// (nuclei as textured anti-aliased ellipses with mitotic / apoptotic morphology, Gaussian PSF,
// autofluorescence, photobleaching, shot + read noise, camera offset, uint16/uint8) together
// with the exact instance masks (optionally degraded). Every pixel is a pure function of the
// scene and of its global coordinates (the camera noise is a hash of seed, frame, pixel and
// channel), so a window rendered on its own is bit-identical to the same pixels of the full
// frame: glimpses rendered straight from the simulation equal glimpses cut from the movie.
#include <cstdint>
#include <memory>
#include <vector>

#include "taupe/dataset/extract.h"
#include "taupe/dataset/movie.h"
#include "taupe/simulate/model.h"
#include "taupe/simulate/sim_config.h"

namespace taupe {

class SceneRenderer : public WindowSource {
 public:
  SceneRenderer(const FovHistory& history, const SimConfig& cfg);
  ~SceneRenderer() override;
  int width() const override;
  int height() const override;
  double pixel_size_um() const override;
  /// Thread-safe (const scene, no shared mutable state).
  void window(int t, int x0, int y0, int w, int h, ImageWindow& out) override;
  /// Whole frame as a movie frame.
  MovieFrame frame(int t);
  MovieInfo movie_info() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
