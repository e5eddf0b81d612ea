#pragma once
// A tiny trained model set (2 folds, small TCNs, a few optimiser steps) on synthetic encodings,
// built once per test binary: enough to exercise the PC engine end to end in seconds.
#include <filesystem>
#include <map>
#include <memory>
#include <vector>
#include <unistd.h>

#include "taupe/core/rng.h"
#include "taupe/dataset/encodings.h"
#include "taupe/perturb/perturb.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/pca.h"
#include "taupe/temporal/cross_validation.h"

namespace taupe::test {

struct TinyModels {
  std::filesystem::path dir;
  EncodingSet set;
};

/// Mitosis trajectories drift down in latent 0, apoptosis up; lengths 6..30 so that some inputs
/// carry padding (max_len 16). One model per fold (2 unless asked). Cached under /tmp per
/// process and fold count.
inline const TinyModels& tiny_models(int folds = 2) {
  static std::map<int, std::unique_ptr<TinyModels>> cache;
  if (auto& c = cache[folds]) return *c;
  auto t = std::make_unique<TinyModels>();
  t->dir = std::filesystem::temp_directory_path() /
           ("taupe-perturb-fixture-" + std::to_string(::getpid()) + "-" + std::to_string(folds));
  std::filesystem::remove_all(t->dir);
  // The model directories live as long as the test binary, then go.
  static struct Cleanup {
    std::vector<std::filesystem::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  } cleanup;
  cleanup.dirs.push_back(t->dir);
  const int D = 8;
  t->set.latent_dims = D;
  t->set.glimpse_file = "synthetic";
  Rng rng(5);
  std::vector<float> all;
  for (int i = 0; i < 40; ++i) {
    EncodedTrajectory e;
    e.id = 100 + i;
    e.fate = i % 2 == 0 ? Fate::kMitosis : Fate::kApoptosis;
    const int T = 6 + (i * 7) % 25;
    e.cutoff = T - 1;
    const double drift = e.fate == Fate::kMitosis ? -0.15 : 0.15;
    for (int f = 0; f < T; ++f)
      for (int d = 0; d < D; ++d) {
        const double v = (d == 0 ? drift * f : 0.0) + rng.normal(0, 0.5);
        e.z_mean.push_back(static_cast<float>(v));
        e.z_log_var.push_back(0.f);
        all.push_back(static_cast<float>(v));
      }
    t->set.trajectories.push_back(e);
  }
  const Pca pca = pca_fit(all, D);
  // The projector part of the model directory, as `taupe train projector` writes it.
  std::filesystem::create_directories(t->dir);
  write_pca(model_files::pca(t->dir), pca);
  update_model_manifest(t->dir, "projector", {{"dims", pca.dims}});
  TemporalConfig cfg;
  cfg.max_len = 16;
  cfg.filters = 8;
  cfg.dilations = {1, 2, 4};
  cfg.head_units = 8;
  cfg.batch_size = 16;
  cfg.steps_per_epoch = 3;
  cfg.epochs = 2;
  cfg.crop_max = 8;
  cfg.cutoff_jitter = 1;
  CvConfig cv;
  cv.folds = folds;
  cv.seed = 3;
  run_cross_validation(t->set, pca, cfg, cv, t->dir);
  cache[folds] = std::move(t);
  return *cache[folds];
}

inline PerturbContext tiny_context(int folds = 2) {
  const auto& t = tiny_models(folds);
  return PerturbContext::from_parts(ModelSet::load(t.dir), t.set);
}

}  // namespace taupe::test
