#pragma once
// The reference temporal convolutional network (tau-vae-reference.md §5), in LibTorch.
//
//   input  (B, T=128, 32)  PC coordinates (PcaTransform applied to raw latents first)
//   7 residual blocks, dilation d = 1, 2, ..., 64, each:
//       h  = SpatialDropout(swish(WNConv1D_d(x)))        (64 filters, kernel 2, causal)
//       h  = SpatialDropout(swish(WNConv1D_d(h)))
//       x1 = swish(h)                                    ("Act_Conv_Blocks")
//     x2 = Conv1x1(x) on block 0 (32 -> 64, no weight norm), else x
//     block output = swish(x1 + x2);  skip output = x1
//   features = sum of the 7 skip outputs                  (B, T, 64)
//   logits   = Dense(128 -> 3)(swish(Dense(64 -> 128)(features[:, T-1])))   (B, 3)
// Class order: mitosis, apoptosis, synthetic (FateClass).
//
// Weight norm: effective kernel = g * v / ||v|| (norm per output channel over (in, k)).
// Data-dependent init on the first training forward: per output channel, the pre-activation
// mean m and variance s^2 over batch and time of the init batch give g = 1/sqrt(s^2 + 1e-10),
// bias = -m/sqrt(s^2 + 1e-10). Where those statistics come from is ambiguity 14 of the
// reference (docs/models.md "Weight-norm initialisation"): wn_init "unit" computes them with the
// unit-norm kernel v/||v|| (what g actually scales), so the init batch's pre-activations have
// mean 0 and variance 1 exactly; "tfa" computes them with the raw initial kernel v and zero bias,
// as tensorflow-addons 0.19 does (pre-activation variance is then 1/||v||^2 per channel).
//
// forward_last() computes only the activations the last time step depends on (pruned forward).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "taupe/temporal/temporal_config.h"

namespace taupe {

struct Pca;

/// Architecture of a TCN (everything that shapes its parameters).
struct TcnOptions {
  int input_dims = 32;
  int filters = 64;
  int kernel_size = 2;
  std::vector<int> dilations = {1, 2, 4, 8, 16, 32, 64};
  int head_units = 128;
  int num_classes = 3;
  double dropout = 0.3;
  std::string wn_init = "unit";  ///< "unit" | "tfa" (see above)

  static TcnOptions from_config(const TemporalConfig& cfg, int input_dims);
  int receptive_field() const;   ///< 1 + 2 (k-1) sum(dilations)
};

/// Causal dilated Conv1D with weight normalisation (tfa WeightNormalization, data_init=True).
/// Parameters: v (out, in, k), g (out), bias (out). Buffer: initialized (scalar, 0/1).
class WeightNormConv1dImpl : public torch::nn::Module {
 public:
  WeightNormConv1dImpl(int in_channels, int out_channels, int kernel_size, int dilation,
                       bool tfa_init = false);
  /// x: (B, in, T) -> (B, out, T); out[t] = sum_j W[:, :, j] x[t - (k-1-j) d] + bias (zero left pad).
  /// If not yet initialised and the module is training, runs the data-dependent init on x first.
  torch::Tensor forward(const torch::Tensor& x);
  /// Data-dependent init on x (B, in, T); sets g and bias, marks initialised.
  void data_init(const torch::Tensor& x);
  /// g * v / ||v||: (out, in, k).
  torch::Tensor effective_weight() const;
  bool initialized() const;
  void reset_parameters();  ///< glorot_uniform v, g = 1, bias = 0, not initialised

  int in_channels, out_channels, kernel_size, dilation;
  bool tfa_init;
  bool init_on_forward = false;  ///< initialise on the next forward even in eval mode (TcnImpl::data_init)
  torch::Tensor v, g, bias, initialized_flag;
};
TORCH_MODULE(WeightNormConv1d);

/// One residual block (keras-tcn ResidualBlock, weight norm, no batch/layer norm).
class TcnBlockImpl : public torch::nn::Module {
 public:
  TcnBlockImpl(int in_channels, int filters, int kernel_size, int dilation, double dropout,
               bool tfa_init);
  struct Output {
    torch::Tensor residual;  ///< (B, filters, T): swish(x1 + x2), input of the next block
    torch::Tensor skip;      ///< (B, filters, T): x1
  };
  /// x: (B, in, T). `preacts` (optional) receives the two conv pre-activations (B, filters, T).
  Output forward(const torch::Tensor& x, std::vector<torch::Tensor>* preacts = nullptr);

  int dilation;
  double dropout;
  WeightNormConv1d conv0{nullptr}, conv1{nullptr};
  torch::Tensor shortcut_weight, shortcut_bias;  ///< (filters, in, 1), (filters); undefined if in == filters
};
TORCH_MODULE(TcnBlock);

/// Raw latent -> PC coordinates (reference PCATransform): X_pc = (X - mean) Cᵀ.
/// A padding frame (raw latent 0) maps to -mean Cᵀ, exactly as in the reference.
struct PcaTransform {
  torch::Tensor mean;        ///< (D,) float32
  torch::Tensor components;  ///< (D, D) float32, row j = PC j

  PcaTransform() = default;
  explicit PcaTransform(const Pca& pca);
  /// x: (..., D) raw latent -> (..., D) PC coordinates.
  torch::Tensor forward(const torch::Tensor& x) const;
  /// pcs: (..., D) -> (..., D) raw latent (eq. 3).
  torch::Tensor inverse(const torch::Tensor& pcs) const;
  /// PC coordinates of a padding frame: (D,) = -mean Cᵀ.
  torch::Tensor padding_pc() const;
  /// The same transform with its tensors on `device`.
  PcaTransform to(c10::Device device) const;
  int dims() const;
};

/// Routes the spatial-dropout masks drawn on this thread to `gen` while alive (default: the global
/// generator). Lets cross-validation train folds on parallel threads with per-fold randomness.
class DropoutGeneratorScope {
 public:
  explicit DropoutGeneratorScope(at::Generator& gen);
  ~DropoutGeneratorScope();
  DropoutGeneratorScope(const DropoutGeneratorScope&) = delete;
  DropoutGeneratorScope& operator=(const DropoutGeneratorScope&) = delete;

 private:
  at::Generator* previous_;
};

/// Everything the full forward computes.
struct TcnForward {
  torch::Tensor logits;    ///< (B, 3)
  torch::Tensor features;  ///< (B, T, filters): sum of skips (the reference's "TCN" model output)
};

class TcnImpl : public torch::nn::Module {
 public:
  explicit TcnImpl(const TcnOptions& options = TcnOptions());

  /// x: (B, T, input_dims) PC coordinates -> logits (B, 3).
  torch::Tensor forward(const torch::Tensor& x);
  /// Full-sequence features and logits.
  TcnForward forward_full(const torch::Tensor& x);
  /// x: (B, T, input_dims) -> (B, T, filters) sum of skip outputs.
  torch::Tensor forward_features(const torch::Tensor& x);
  /// features (B, T, filters) -> logits (B, 3) from the last step (the "Prediction_head").
  torch::Tensor head(const torch::Tensor& features);
  /// Pruned forward: x (B, T, input_dims) -> logits (B, 3), computing only the activations the
  /// last step depends on. Same result as forward() in eval mode; in training mode it applies
  /// spatial dropout too (same distribution as forward()) and is differentiable, so training uses
  /// it after the weight-norm init (the loss reads only the last step). Does not run the init.
  torch::Tensor forward_last(const torch::Tensor& x);
  /// Full forward that also returns every WN-conv pre-activation (B, filters, T), in order
  /// (block 0 conv0, block 0 conv1, block 1 conv0, ...). For tests and diagnostics.
  TcnForward forward_trace(const torch::Tensor& x, std::vector<torch::Tensor>* preacts);

  /// Runs the data-dependent init of every uninitialised WN conv on batch x (B, T, input_dims),
  /// layer by layer (each sees the output of already initialised layers), in the current mode.
  void data_init(const torch::Tensor& x);
  bool initialized() const;
  std::int64_t num_trainable_parameters() const;
  const TcnOptions& options() const { return options_; }

  /// Positions (0-based, ascending) whose block-b input the last step of a length-T input
  /// depends on (b = 0 .. blocks; b = blocks gives {T-1}). Exposed for tests/benchmarks.
  std::vector<std::vector<int>> pruned_input_positions(int T) const;
  /// Conv output positions evaluated by forward_last over all layers (full forward: 2 * blocks * T).
  std::int64_t pruned_conv_positions(int T) const;

  std::vector<TcnBlock> blocks;
  torch::Tensor head_w1, head_b1;  ///< (head_units, filters), (head_units)
  torch::Tensor head_w2, head_b2;  ///< (classes, head_units), (classes)

 private:
  struct PrunedPlan;
  const PrunedPlan& plan_for(int T, const c10::Device& device);
  TcnOptions options_;
  std::vector<std::shared_ptr<PrunedPlan>> plans_;  // cached per (T, device)
};
TORCH_MODULE(Tcn);

/// Positions {p - j·dilation : p in positions, j = 0..kernel-1} that are >= 0, ascending and
/// unique: the inputs a causal conv needs to compute the outputs at `positions` (the step of
/// the pruned last-step plan, shared with perturb's sweep engine).
std::vector<int> causal_input_positions(const std::vector<int>& positions, int dilation, int kernel);

}  // namespace taupe
