#pragma once
// Model inputs of the temporal stage (tau-vae-reference.md §5.7, §6), torch-free:
//  - trim: keep frames 0..cutoff inclusive, keep the last max_len, pre-pad (at the start) with
//    padding frames (mean 0, log-var 1) in RAW latent space;
//  - cutoff jitter (training): cutoff' = max(0, cutoff - U{0..jitter});
//  - random crop (training, both kinds): with probability p, frames [0, r) become padding,
//    r = U{1..crop_max};
//  - synthetic trajectories: Gaussian random walk (step sd `noise`) of length max_len + extra
//    from a random frame of a random real trajectory (class, then trajectory, then frame, each
//    uniform), log-var 1 everywhere except frame 0; trimmed at cutoff = max_len (frame 0 dropped);
//  - training batches: labels uniform over the 3 classes, then as above.
// Layout of every sequence array: (max_len, D) row-major, frame max_len-1 = most recent.
// All randomness comes from taupe::Rng (same seed -> same bytes).
#include <cstdint>
#include <vector>

#include "taupe/core/rng.h"
#include "taupe/dataset/encodings.h"
#include "taupe/temporal/temporal_config.h"

namespace taupe {

inline constexpr float kPadMean = 0.0f;     ///< padding frame: raw latent mean
inline constexpr float kPadLogVar = 1.0f;   ///< padding frame: log-variance

/// Class of a fate (mitosis 0, apoptosis 1); -1 for fates the TCN does not learn.
int fate_class(Fate f);

/// One model input before sampling/PCA.
struct Sequence {
  int max_len = 0, dims = 0;
  std::vector<float> mean;       ///< (max_len, D)
  std::vector<float> log_var;    ///< (max_len, D)
  std::vector<std::uint8_t> real;  ///< (max_len): 1 = real frame, 0 = padding
};

/// Trim frames 0..cutoff (inclusive; cutoff clamped to the last frame) of a (T, D) trajectory,
/// keep the last max_len, pre-pad with padding frames.
Sequence trim_sequence(const float* mean, const float* log_var, int num_frames, int dims, int cutoff,
                       int max_len);
Sequence trim_sequence(const EncodedTrajectory& t, int dims, int cutoff, int max_len);

/// Jittered cutoff: max(0, cutoff - U{0..jitter}).
int jitter_cutoff(int cutoff, int jitter, Rng& rng);

/// Frames [0, r) become padding (r clamped to max_len).
void crop_sequence(Sequence& s, int r);
/// With probability crop_prob, crop at r = U{1..crop_max}; returns r (0 if not cropped).
int random_crop(Sequence& s, double crop_prob, int crop_max, Rng& rng);

/// Random walk (length, D) mean + log-var: frame 0 = (init_mean, init_log_var), every other
/// log-var = 1, mean increments N(0, noise^2) per frame and dim, cumulated over time.
struct Walk {
  std::vector<float> mean, log_var;  ///< (length, D)
};
Walk random_walk(const float* init_mean, const float* init_log_var, int dims, int length, double noise,
                 Rng& rng);

/// A synthetic model input: walk from a random real frame (class, trajectory, frame uniform over
/// `by_class` lists of indices into set.trajectories), trimmed at cutoff = max_len.
Sequence synthetic_sequence(const EncodingSet& set, const std::vector<std::vector<int>>& by_class,
                            const TemporalConfig& cfg, Rng& rng);

/// A batch of model inputs in raw latent space.
struct SequenceBatch {
  int n = 0, max_len = 0, dims = 0;
  std::vector<float> x;               ///< (n, max_len, D) raw latent fed to PCA + TCN
  std::vector<std::uint8_t> real;     ///< (n, max_len) 1 = real frame
  std::vector<int> labels;            ///< (n) class index (FateClass)
  std::vector<std::int64_t> source;   ///< (n) index into set.trajectories (-1 = synthetic)
};

/// Exact-cutoff, z_mean, unaugmented inputs of the given trajectories (indices into
/// set.trajectories) with their true labels: what prediction and PC shifts start from. Trajectories
/// whose fate has no class get label -1. `real` marks the non-padding frames (PC shifts add only there).
SequenceBatch build_inputs(const EncodingSet& set, const std::vector<int>& indices, int max_len);

/// n synthetic inputs (label 2), deterministic in seed, z_mean of the walk (no posterior sampling),
/// every walk with step sd cfg.synthetic_noise (synthetic_noise_min applies to training only).
SequenceBatch build_synthetic(const EncodingSet& set, const std::vector<int>& indices, int n,
                              const TemporalConfig& cfg, std::uint64_t seed);

/// Training batches over a fixed set of trajectories (reference TauVAEDataset.batch): labels drawn
/// uniformly over {mitosis, apoptosis, synthetic}; real: random trajectory of the class, jittered
/// cutoff, trim; synthetic: walk; then random crop (both); optional posterior sampling.
/// batch(step) depends only on (seed, step), so a resumed run draws the same batches.
class BatchSampler {
 public:
  BatchSampler(const EncodingSet& set, std::vector<int> indices, const TemporalConfig& cfg,
               std::uint64_t seed);
  SequenceBatch batch(std::int64_t step) const;
  const std::vector<std::vector<int>>& by_class() const { return by_class_; }

 private:
  const EncodingSet* set_;
  TemporalConfig cfg_;
  std::uint64_t seed_;
  std::vector<std::vector<int>> by_class_;  ///< class -> indices (mitosis, apoptosis)
};

}  // namespace taupe
