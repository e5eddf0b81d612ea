#pragma once
// `taupe train encoder`: trains the β-VAE on a patch container (reference §2) with Adam and
// capacity annealing; checkpoints every epoch (atomic: weights + optimiser + step + RNG
// state) and resumes from the last checkpoint to the same final step count; logs every step
// to CSV and writes a reconstruction montage PNG per epoch. On success the model directory
// holds encoder.pt / decoder.pt and manifest.json's "encoder" section (docs/models.md).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <memory>

#include "taupe/encoder/encoder_config.h"

namespace taupe {

class Cluster;

struct PatchImages;

struct EncoderTrainOptions {
  std::filesystem::path patches;     ///< input patch container (taupe.patches)
  /// Pre-loaded patches (tests, benchmarks); when set, `patches` is not read, only recorded.
  std::shared_ptr<const PatchImages> images;
  std::filesystem::path model_dir;   ///< output model directory
  /// Checkpoints, loss CSV, montages; empty = <model_dir>/encoder_training.
  std::filesystem::path work_dir;
  bool resume = true;                ///< continue from <work_dir>/checkpoint.pt when present
  /// Stop (as if killed, without writing the final model) after this many steps in total;
  /// < 0 = never. For tests of interruption.
  std::int64_t stop_after_step = -1;
  /// Called after every step (progress display); may be empty.
  std::function<void(std::int64_t step, std::int64_t total_steps, double loss)> on_step;
  /// Data parallel over the ranks of a multi-process run (dist/cluster.h), nullptr = one
  /// process. Every rank calls train_encoder with the same configuration and patches: each draws
  /// the same global batch (same loader seed) and trains its encoder.replicas shards of it, the
  /// gradients and BatchNorm moving statistics are summed / averaged over the ranks, so every
  /// rank holds the same weights after each step; rank 0 alone writes the checkpoint (with every
  /// shard's noise generator), loss.csv, the montages and the model.
  Cluster* cluster = nullptr;
};

struct EncoderTrainResult {
  std::int64_t steps = 0;            ///< optimiser steps in total (incl. before a resume)
  std::int64_t total_steps = 0;      ///< epochs · batches_per_epoch
  std::int64_t resumed_from_step = 0;
  std::int64_t patches = 0;
  bool streamed = false;             ///< patches streamed in windows (encoder.patch_memory_mb)
  double final_loss = 0, final_reconstruction = 0, final_kl = 0;
  double seconds = 0;                ///< wall time of this invocation
  double images_per_second = 0;      ///< training throughput of this invocation
  bool completed = false;            ///< false when stopped by stop_after_step
  std::filesystem::path loss_csv, last_montage;
  std::string brief() const;
};

EncoderTrainResult train_encoder(const EncoderConfig& cfg, const EncoderTrainOptions& opts);

/// File names inside the work directory.

}  // namespace taupe
