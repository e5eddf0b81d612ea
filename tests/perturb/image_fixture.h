#pragma once
// A tiny image world for the image-space experiments, built once per test binary (seconds):
//   - a glimpse file of 16 labelled trajectories (6..10 frames, 64x64, 2 channels): a central
//     scrib nucleus (channel 1) whose radius shrinks over time for apoptosis and grows for
//     mitosis, two wild-type neighbours (channel 0) and one scrib neighbour, per-frame ground truth
//     "nuclear_area_um2", world "mechanical";
//   - an untrained small β-VAE (latent 8) written as a model directory (manifest + encoder.pt /
//     decoder.pt), the glimpses encoded with it (uint16 path, rotation 0);
//   - a 2-fold tiny TCN set trained through run_cross_validation on those encodings.
// Enough to run normalise -> switch -> re-encode -> predict and shrink -> re-encode -> predict
// end to end; says nothing about what a trained model learns.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "taupe/core/rng.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/types.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/config_json.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/vae.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/pca.h"
#include "taupe/temporal/cross_validation.h"

namespace taupe::test {

struct ImageWorld {
  std::filesystem::path root, model_dir, glimpses, encodings;
  EncoderConfig vae_cfg;
  ~ImageWorld() { std::filesystem::remove_all(root); }
};

inline void paint_disk(GlimpseTrajectory& g, int frame, double cy, double cx, double r, int channel,
                       std::uint16_t value, std::uint8_t code) {
  const int S = kGlimpseSize;
  const std::size_t px = static_cast<std::size_t>(S) * S;
  for (int y = 0; y < S; ++y)
    for (int x = 0; x < S; ++x) {
      const double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
      if (d2 > r * r) continue;
      const std::size_t o = static_cast<std::size_t>(y) * S + static_cast<std::size_t>(x);
      g.images[static_cast<std::size_t>(frame) * 2 * px + static_cast<std::size_t>(channel) * px + o] = value;
      g.masks[static_cast<std::size_t>(frame) * px + o] = code;
    }
}

inline const ImageWorld& image_world() {
  static std::unique_ptr<ImageWorld> cache;
  if (cache) return *cache;
  auto w = std::make_unique<ImageWorld>();
  w->root = std::filesystem::temp_directory_path() / ("taupe-perturb-images-" + std::to_string(::getpid()));
  std::filesystem::remove_all(w->root);
  std::filesystem::create_directories(w->root);
  w->model_dir = w->root / "model";
  w->glimpses = w->root / "glimpses.h5";
  w->encodings = w->root / "encodings.h5";

  // ---- glimpses -------------------------------------------------------------------------------
  const int S = kGlimpseSize;
  const std::size_t px = static_cast<std::size_t>(S) * S;
  Rng rng(17);
  GlimpseFileInfo info;
  info.world = "mechanical";
  info.seed = 17;
  info.source = "perturb image fixture";
  {
    GlimpseWriter writer(w->glimpses, info);
    for (int i = 0; i < 16; ++i) {
      GlimpseTrajectory g;
      g.id = 500 + i;
      g.fate = i % 2 == 0 ? Fate::kMitosis : Fate::kApoptosis;
      g.central_type = CellType::kScrib;
      g.movie = "fixture";
      g.track_id = i;
      const int T = 6 + (i * 3) % 5;
      g.cutoff = T - 1;
      g.images.assign(static_cast<std::size_t>(T) * 2 * px, 0);
      g.masks.assign(static_cast<std::size_t>(T) * px, 0);
      std::vector<float> area;
      for (int f = 0; f < T; ++f) {
        g.frames.push_back(f);
        for (std::size_t k = 0; k < 2 * px; ++k)
          g.images[static_cast<std::size_t>(f) * 2 * px + k] = static_cast<std::uint16_t>(100 + rng.integer(0, 40));
        const double r = g.fate == Fate::kMitosis ? 7.0 + 0.3 * f : 9.0 - 0.4 * f;
        paint_disk(g, f, 12, 14, 7, 0, 900, mask_code(CellType::kWildType, false));
        paint_disk(g, f, 50, 46, 6, 0, 800, mask_code(CellType::kWildType, false));
        paint_disk(g, f, 14, 50, 6, 1, 700, mask_code(CellType::kScrib, false));
        paint_disk(g, f, 32 + 0.2 * f, 32, r, 1, 1000, mask_code(CellType::kScrib, true));
        area.push_back(static_cast<float>(M_PI * r * r * 0.1));
      }
      g.features["nuclear_area_um2"] = area;
      writer.append(g);
    }
    writer.close();
  }

  // ---- untrained VAE written as a model directory ------------------------------------------------
  w->vae_cfg.latent_dims = 8;
  w->vae_cfg.layers = {4, 8, 8, 8};
  w->vae_cfg.intermediate_dims = 16;
  w->vae_cfg.encode_batch_size = 64;
  w->vae_cfg.seed = 3;
  std::filesystem::create_directories(w->model_dir);
  {
    VaeModel vae(w->vae_cfg);
    save_module_weights(*vae.encoder(), encoder_artifacts::encoder_weights(w->model_dir).string());
    save_module_weights(*vae.decoder(), encoder_artifacts::decoder_weights(w->model_dir).string());
    nlohmann::json sec;
    sec["config"] = detail::encoder_config_to_json(w->vae_cfg);
    sec["files"] = {{"encoder", "encoder.pt"}, {"decoder", "decoder.pt"}};
    sec["latent_dims"] = w->vae_cfg.latent_dims;
    update_model_manifest(w->model_dir, "encoder", sec);
  }
  // Encode with the model as loaded back (exactly what the experiments will use).
  const VaeModel vae = VaeModel::load(w->model_dir);
  const EncodingSet set = encode_glimpse_file(vae, w->glimpses, w->encodings);

  // ---- 2-fold tiny TCN set --------------------------------------------------------------------
  std::vector<float> all;
  for (const auto& t : set.trajectories) all.insert(all.end(), t.z_mean.begin(), t.z_mean.end());
  const Pca pca = pca_fit(all, set.latent_dims);
  write_pca(model_files::pca(w->model_dir), pca);
  update_model_manifest(w->model_dir, "projector", {{"dims", pca.dims}});
  TemporalConfig tcfg;
  tcfg.max_len = 8;  // shorter than the longest trajectories: trimming at the cutoff is exercised
  tcfg.filters = 8;
  tcfg.dilations = {1, 2, 4};
  tcfg.head_units = 8;
  tcfg.batch_size = 16;
  tcfg.steps_per_epoch = 10;
  tcfg.epochs = 4;
  tcfg.crop_max = 4;
  tcfg.cutoff_jitter = 1;
  CvConfig cv;
  cv.folds = 2;
  cv.seed = 4;
  run_cross_validation(set, pca, tcfg, cv, w->model_dir);
  cache = std::move(w);
  return *cache;
}

}  // namespace taupe::test
