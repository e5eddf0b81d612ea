#pragma once
// Configuration of the β-VAE stage (`[encoder]` in the presets): architecture, the
// capacity-annealed loss, Adam, augmentation, the data pipeline and checkpointing.
// Defaults follow the reference (tau-vae-reference.md §1-3); see docs/models.md.
#include <cstdint>
#include <string>
#include <vector>

#include "taupe/core/config.h"

namespace taupe {

struct EncoderConfig {
  static constexpr const char* kSection = "encoder";
  // ---- architecture (reference §1) -------------------------------------------------------
  int latent_dims = 32;                      ///< D, size of z
  std::vector<int> layers = {8, 16, 32, 64}; ///< filters of the encoder conv blocks
  int intermediate_dims = 256;               ///< width of the two dense branches
  /// BatchNorm during training: "frozen" = inference mode with the initial moving statistics
  /// (0, 1), i.e. a learned per-channel affine, as the reference effectively does (ambiguity 1);
  /// "batch" = ordinary batch statistics with running averages (momentum 0.01), re-estimated
  /// after training over `bn_recalibration_batches` batches (docs/models.md).
  std::string batchnorm = "frozen";
  int bn_recalibration_batches = 32;         ///< "batch" mode: batches that re-estimate the moving statistics

  // ---- loss (reference §2) -----------------------------------------------------------------
  double capacity = 50.0;                 ///< C_max in nats
  double gamma = 1000.0;                  ///< weight of |KL - C|
  double max_iterations_fraction = 0.9;   ///< C rises linearly over this fraction of all steps
  /// Centre-weighted reconstruction (not in the reference; 0 = the reference loss exactly): each
  /// pixel's squared error is weighted by 1 + centre_weight·exp(-r²/2σ²), r = distance from the
  /// patch centre, σ = centre_sigma_px, the map rescaled to mean 1 so the loss keeps its scale.
  /// It tells a briefly trained VAE that the patch is about its central cell (docs/models.md).
  double centre_weight = 0.0;
  double centre_sigma_px = 10.0;          ///< σ of the centre weighting (pixels)

  // ---- optimisation ----------------------------------------------------------------------
  int batch_size = 256;
  int epochs = 50;
  double learning_rate = 1e-3;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-7;
  std::int64_t seed = -1;                 ///< weights init, shuffling, augmentation, z sampling; -1 = from run.seed

  // ---- data (reference §3) ---------------------------------------------------------------
  bool augment_flips = true;              ///< left-right p 0.5, then up-down p 0.5
  bool augment_rot90 = true;              ///< k counter-clockwise quarter turns, k in {0, 1, 2}
  double normalization_clip = 4.0;        ///< per-image per-channel standardisation clip
  std::int64_t max_patches = 0;           ///< use at most this many patches (0 = all)
  /// Data-parallel replicas: each step's batch is split into this many shards, each run
  /// (forward, loss, backward) by its own model copy on its own thread with
  /// max(1, threads / replicas) intra-op threads; gradients are summed into the trained model.
  /// Small convolutions scale poorly with intra-op threads (2 threads: 1.16x one thread, measured
  /// on 2 cores), shards scale nearly linearly. The loss of each shard is the reference loss of
  /// that shard, weighted by its share of the batch (1 = the reference exactly).
  int replicas = 2;
  /// Memory for the training patches (MiB). A set that fits is held whole and shuffled
  /// globally; a larger one is streamed from its file in two windows of half this size each,
  /// shuffled by blocks and within windows (patch_pipeline.h). 0 = always hold the whole set.
  int patch_memory_mb = 1024;
  /// Several processes with one shard each (encoder.replicas = 1): the gradient all-reduce is cut
  /// into buckets of this size (MiB), each started as soon as the backward pass has produced its
  /// gradients, so communication overlaps computation. 0 = one all-reduce after the backward pass.
  double grad_bucket_mb = 2.0;
  int loader_threads = 1;                 ///< data-pipeline worker threads
  int prefetch_batches = 4;               ///< batches prepared ahead of the trainer
  bool channels_last = true;              ///< run convolutions in channels-last memory format

  // ---- outputs ---------------------------------------------------------------------------
  int montage_images = 16;                ///< inputs shown in the per-epoch reconstruction montage
  int encode_batch_size = 128;            ///< batch size when encoding (inference; 128 fastest on CPU)

  /// Bytes of one training patch in memory (uint16, 2 x 64 x 64).
  static constexpr std::int64_t kPatchBytes = 2 * 64 * 64 * 2;
  /// Patches per streaming window under patch_memory_mb (whole batches; two windows resident).
  std::int64_t patch_window() const {
    return (static_cast<std::int64_t>(patch_memory_mb) << 20) / 2 / kPatchBytes / batch_size * batch_size;
  }
  /// The pipeline's window for a set of n patches: 0 (hold all) when it fits the budget.
  std::int64_t patch_window(std::int64_t n) const {
    if (patch_memory_mb == 0 || n * kPatchBytes <= (static_cast<std::int64_t>(patch_memory_mb) << 20)) return 0;
    return patch_window();
  }

  template <class V>
  void visit(V& v) {
    v("latent_dims", latent_dims, "latent dimensions D", above(0));
    v("layers", layers, "filters of the encoder conv blocks (decoder mirrors them)", above(0));
    v("intermediate_dims", intermediate_dims, "width of the two dense branches (z_mean, z_log_var)", above(0));
    v("batchnorm", batchnorm, "BatchNorm while training: frozen (reference) | batch", one_of({"frozen", "batch"}));
    v("bn_recalibration_batches", bn_recalibration_batches,
      "batchnorm = batch: batches that re-estimate the BN moving statistics after training (0 = keep the running averages)", at_least(0));
    v("capacity", capacity, "KL capacity C_max (nats)", at_least(0.0));
    v("gamma", gamma, "weight of |KL - C|", at_least(0.0));
    v("max_iterations_fraction", max_iterations_fraction, "fraction of all steps over which C rises", in_range(0.0, 1.0));
    v("centre_weight", centre_weight,
      "extra reconstruction weight at the patch centre, 1 + w*exp(-r^2/2 sigma^2) rescaled to mean 1 (0 = reference loss)", at_least(0.0));
    v("centre_sigma_px", centre_sigma_px, "sigma (pixels) of the centre weighting", above(0.0));
    v("batch_size", batch_size, "training batch size", above(0));
    v("epochs", epochs, "training epochs", above(0));
    v("learning_rate", learning_rate, "Adam learning rate", above(0.0));
    v("adam_beta1", adam_beta1, "Adam beta1", in_range(0.0, 1.0));
    v("adam_beta2", adam_beta2, "Adam beta2", in_range(0.0, 1.0));
    v("adam_eps", adam_eps, "Adam epsilon", above(0.0));
    v("seed", seed, "seed of weights init, shuffling, augmentation and z sampling (-1 = derived from run.seed)",
      at_least(-1));
    v("augment_flips", augment_flips, "random left-right and up-down flips (p 0.5 each)");
    v("augment_rot90", augment_rot90, "random rot90 by k in {0,1,2} quarter turns");
    v("normalization_clip", normalization_clip, "clip of the per-channel standardised images", above(0.0));
    v("max_patches", max_patches, "use at most this many patches (0 = all)", at_least(0));
    v("replicas", replicas, "data-parallel shards per batch, one thread each (1 = one model, intra-op threads only)", in_range(1, 64));
    v("patch_memory_mb", patch_memory_mb,
      "memory for the training patches (MiB); a larger set streams from its file in two windows (0 = hold all)",
      at_least(0));
    v("grad_bucket_mb", grad_bucket_mb,
      "several processes, encoder.replicas = 1: gradient all-reduce buckets (MiB) started during the backward pass "
      "(0 = one all-reduce after it)",
      in_range(0.0, 1024.0), speed_only);
    v("loader_threads", loader_threads, "data-pipeline worker threads", in_range(1, 64), speed_only);
    v("prefetch_batches", prefetch_batches, "batches prepared ahead of the trainer", in_range(1, 256), speed_only);
    v("channels_last", channels_last, "channels-last memory format for the convolutions");
    v("montage_images", montage_images, "images in the per-epoch reconstruction montage", in_range(1, 256));
    v("encode_batch_size", encode_batch_size,
      "batch size when encoding (results equal up to float rounding; 128 is fastest on CPU, docs/decisions.md)",
      above(0), speed_only);
  }

  void validate() const {
    check_fields(*this);
    if (layers.empty()) throw ConfigError("encoder.layers = []: must list at least one filter count");
    check_range("encoder.layers (number of blocks)", static_cast<int>(layers.size()), 1, 6);
    if (patch_memory_mb > 0 && patch_window() < batch_size)
      throw ConfigError("encoder.patch_memory_mb = " + std::to_string(patch_memory_mb) +
                        ": two streaming windows of one batch (" + std::to_string(batch_size) + " patches) need at least " +
                        std::to_string((2 * static_cast<std::int64_t>(batch_size) * kPatchBytes + (1 << 20) - 1) >> 20) +
                        " MiB (or 0 to hold every patch)");
    if (replicas > batch_size)
      throw ConfigError("encoder.replicas = " + std::to_string(replicas) + ": must not exceed encoder.batch_size (" +
                        std::to_string(batch_size) + ")");
  }
};

}  // namespace taupe
