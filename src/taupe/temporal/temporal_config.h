#pragma once
// Configuration of the temporal stage: the TCN (reference §5), its training data (trim, jitter,
// crop, synthetic random walks: §5.7, §6) and the K-fold cross-validation. Sections [temporal]
// and [cv] of the presets. Defaults follow the reference's TemporalConfig dataclass
// (batch 128, 100 steps per epoch, 100 epochs); the presets pick the step budget.
#include <cstdint>
#include <string>
#include <vector>

#include "taupe/core/config.h"

namespace taupe {

struct TemporalConfig {
  static constexpr const char* kSection = "temporal";
  // ---- network (reference §5.1) ----
  int max_len = 128;                                   ///< frames per model input
  int filters = 64;                                    ///< TCN filters per conv
  int kernel_size = 2;                                 ///< causal conv kernel
  std::vector<int> dilations = {1, 2, 4, 8, 16, 32, 64};  ///< one residual block each
  int head_units = 128;                                ///< Dense 64 -> head_units -> 3
  double dropout = 0.3;                                ///< spatial dropout (whole channels)
  std::string wn_init = "unit";                        ///< weight-norm data init: "unit" | "tfa"
  // ---- optimisation (reference §5.6) ----
  int batch_size = 128;
  int steps_per_epoch = 100;
  int epochs = 100;
  double learning_rate = 1e-3;                         ///< RMSprop
  double rho = 0.9;                                    ///< RMSprop decay (Keras rho = torch alpha)
  double eps = 1e-7;                                   ///< RMSprop epsilon
  // ---- training data (reference §5.7, §6) ----
  int cutoff_jitter = 4;                               ///< cutoff' = max(0, cutoff - U{0..jitter})
  double crop_prob = 0.5;                              ///< probability of the random crop
  int crop_max = 117;                                  ///< crop r = U{1..crop_max}: frames [0, r) -> padding
  double synthetic_noise = 0.2;                        ///< random-walk step sd per frame and dim
  /// > 0: each *training* walk draws its step sd log-uniformly in [synthetic_noise_min,
  /// synthetic_noise], so the synthetic class also holds walks that stay near the data (hard
  /// negatives) and the TCN learns to flag moderate departures from it; held-out synthetic test
  /// trajectories keep synthetic_noise. 0 = every walk uses synthetic_noise (reference).
  double synthetic_noise_min = 0.0;
  int synthetic_extra_frames = 10;                     ///< walk length = max_len + this
  /// How many frames of a synthetic input are walk (the rest is padding, like a short real
  /// trajectory): "reference" = all max_len frames (§6); "real" = as many frames as the real
  /// trajectory the walk starts from has after trimming, so that the synthetic class cannot be
  /// told from real inputs by length alone (docs/models.md).
  std::string synthetic_length = "reference";
  /// What a synthetic input walks from: "frame" = one real frame, a pure random walk after it
  /// (reference §6: smooth, so the class can be told apart by its smoothness alone when real
  /// encodings vary from frame to frame); "trajectory" = a whole real trajectory (its kept frames,
  /// its length) plus a random walk starting at 0, so the class differs from real inputs only by
  /// how far it drifts from them (docs/models.md). synthetic_length does not apply to it.
  std::string synthetic_base = "frame";
  /// Typicality gate (temporal/typicality.h; not in the reference): inputs scoring above this
  /// quantile of the model's training trajectories are predicted synthetic. 0 = no gate (reference).
  double typicality_quantile = 0.99;
  bool use_probabilistic_encoder = false;              ///< sample z ~ N(mean, exp(logvar)) per batch
  double posterior_noise = 1.0;                        ///< scale of that sample's std
  double validation_fraction = 0.1;                    ///< of the smallest class (per class), monitoring only

  template <class V>
  void visit(V& v) {
    v("max_len", max_len, "frames per TCN input (trim + pre-pad)", in_range(2, 4096));
    v("filters", filters, "TCN filters per causal conv", above(0));
    v("kernel_size", kernel_size, "causal conv kernel size", in_range(1, 16));
    v("dilations", dilations, "dilation of each residual block", above(0));
    v("head_units", head_units, "hidden units of the last-step head", above(0));
    v("dropout", dropout, "spatial dropout rate (whole channels) during training", in_range(0.0, 0.95));
    v("wn_init", wn_init, "weight-norm data init: unit (unit-variance pre-activations) | tfa (reference quirk)", one_of({"unit", "tfa"}));
    v("batch_size", batch_size, "trajectories per training batch", above(0));
    v("steps_per_epoch", steps_per_epoch, "optimiser steps per epoch", above(0));
    v("epochs", epochs, "epochs per fold", above(0));
    v("learning_rate", learning_rate, "RMSprop learning rate", above(0.0));
    v("rho", rho, "RMSprop decay rate (Keras rho)", in_range(0.0, 1.0));
    v("eps", eps, "RMSprop epsilon", above(0.0));
    v("cutoff_jitter", cutoff_jitter, "training drops 0..cutoff_jitter frames before the cutoff", at_least(0));
    v("crop_prob", crop_prob, "probability of the random crop augmentation", in_range(0.0, 1.0));
    v("crop_max", crop_max, "crop replaces frames [0, r) by padding, r uniform in 1..crop_max");
    v("synthetic_noise", synthetic_noise, "synthetic random-walk step sd", at_least(0.0));
    v("synthetic_noise_min", synthetic_noise_min,
      "> 0: training walks draw their step sd log-uniformly in [this, synthetic_noise] (test walks keep synthetic_noise); 0 = off (reference)");
    v("synthetic_extra_frames", synthetic_extra_frames, "synthetic walk length = max_len + this", at_least(0));
    v("synthetic_base", synthetic_base,
      "synthetic input: frame (reference: random walk from one real frame) | trajectory (a real trajectory plus a random walk)", one_of({"frame", "trajectory"}));
    v("synthetic_length", synthetic_length,
      "frames of walk per synthetic input: reference (all max_len) | real (as many as the real trajectory it starts from)", one_of({"reference", "real"}));
    v("typicality_quantile", typicality_quantile,
      "typicality gate: inputs beyond this quantile of the training trajectories' whitened distance are synthetic (0 = off, reference)", in_range(0.0, 1.0));
    v("use_probabilistic_encoder", use_probabilistic_encoder, "train on posterior samples instead of z_mean");
    v("posterior_noise", posterior_noise, "scale of the posterior sample's std", at_least(0.0));
    v("validation_fraction", validation_fraction, "monitoring split per class (fraction of the smallest class)", in_range(0.0, 0.5));
  }

  void validate() const {
    check_fields(*this);
    if (dilations.empty()) throw ConfigError("temporal.dilations = []: must list at least one dilation");
    check_range("temporal.crop_max", crop_max, 1, max_len - 1);
    check_range("temporal.synthetic_noise_min", synthetic_noise_min, 0.0, synthetic_noise);
  }

  /// Receptive field of the TCN in frames: 1 + 2 (k-1) sum(dilations) (255 for the reference).
  int receptive_field() const {
    int s = 0;
    for (int d : dilations) s += d;
    return 1 + 2 * (kernel_size - 1) * s;
  }
};

struct CvConfig {
  static constexpr const char* kSection = "cv";
  int folds = 10;                       ///< K: one TCN per fold, tested on its held-out fold
  std::int64_t seed = -1;               ///< fold assignment, batches, init, dropout; -1 = from run.seed
  int synthetic_test_per_fold = -1;     ///< synthetic test trajectories per fold; -1 = as many as real ones
  std::int64_t predict_memory_mb = 256; ///< activation budget of batched prediction
  /// Folds trained at once, each on its own thread; the intra-op threads are shared among the
  /// folds still to finish (the last fold gets them all). The small TCN scales poorly with
  /// intra-op threads; folds are independent. Not part of the
  /// result fingerprint (every fold draws from its own seeded generators).
  int parallel_folds = 2;
  /// Unit kept whole in one fold: "auto" (field of view when the glimpses come from at least as
  /// many fields as there are folds, else lineage), "fov", "lineage" (a mother and her daughters:
  /// sister cells are correlated) or "trajectory". Lineage and field come from the glimpse file.
  std::string group_by = "auto";

  template <class V>
  void visit(V& v) {
    v("folds", folds, "number of cross-validation folds (one TCN each)", in_range(2, 100));
    v("group_by", group_by,
      "unit kept whole in one fold: auto (fov when fields >= folds, else lineage) | fov | lineage | trajectory",
      one_of({"auto", "fov", "lineage", "trajectory"}));
    v("seed", seed, "seed of fold assignment, batches, weight init and dropout (-1 = derived from run.seed)",
      at_least(-1));
    v("synthetic_test_per_fold", synthetic_test_per_fold,
      "synthetic test trajectories per fold (-1 = as many as the fold's real ones)", at_least(-1));
    v("predict_memory_mb", predict_memory_mb, "memory budget of batched prediction (MB)", above(0), speed_only);
    v("parallel_folds", parallel_folds, "folds trained at once, one thread each", in_range(1, 64));
  }

  void validate() const {
    check_fields(*this);
  }
};

}  // namespace taupe
