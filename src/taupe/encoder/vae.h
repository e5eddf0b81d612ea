#pragma once
// The β-VAE of the τ-VAE (reference §1), layer for layer:
//   ConvBlock = Conv2d 3x3 (no bias) -> BatchNorm (eps 1e-3, momentum 0.01) -> swish
//   Encoder: ConvBlock per `layers` entry, MaxPool 2 after all but the last; flatten in
//            channels-last (H, W, C) order as Keras does; two separate Dense(4096 -> 256, swish)
//            branches -> z_mean (linear) and z_log_var (softplus); z = mu + exp(lv/2) * eps.
//   Decoder: Dense(D -> 8*8*64, swish) -> reshape (8, 8, 64) HWC -> ConvBlocks 64, 32, 16, 8
//            with nearest x2 upsampling between -> Conv 1x1 8 -> 2 (linear, bias).
// Init: glorot_uniform kernels, zero biases (Keras defaults). Tensors are NCHW (B, 2, 64, 64);
// the HWC flatten order keeps dense weights in Keras order. BatchNorm mode: docs/models.md.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <ATen/core/Generator.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/encoder/encoder_config.h"

namespace taupe {

/// Conv 3x3 (no bias) -> BatchNorm -> swish. With `frozen_bn` the BatchNorm always runs in
/// inference mode (moving statistics stay at their initial 0 / 1), also under train().
class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(int in_channels, int out_channels, bool frozen_bn);
  /// x: (B, in, H, W) -> (B, out, H, W)
  torch::Tensor forward(const torch::Tensor& x);
  void train(bool on = true) override;

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  bool frozen_bn_;
};
TORCH_MODULE(ConvBlock);

/// The encoder's three outputs, each (B, D).
struct EncoderOutput {
  torch::Tensor z_mean;
  torch::Tensor z_log_var;   ///< softplus output: always > 0
  torch::Tensor z;           ///< sampled z_mean + exp(0.5 z_log_var) * eps (undefined if not sampled)
};

class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const EncoderConfig& cfg = {});
  /// x: (B, 2, 64, 64) normalised float -> z_mean, z_log_var, z (B, D); eps from the global
  /// generator (the reference samples on every call).
  EncoderOutput forward(const torch::Tensor& x);
  /// Same with eps drawn from `gen` (training: seeded, checkpointed).
  EncoderOutput forward_sampled(const torch::Tensor& x, at::Generator gen);
  /// Deterministic part only (z undefined): x (B, 2, 64, 64) -> z_mean, z_log_var (B, D).
  EncoderOutput forward_mean(const torch::Tensor& x);
  int latent_dims() const { return latent_dims_; }

  std::vector<ConvBlock> blocks;
  torch::nn::Linear fc_mean{nullptr}, fc_log_var{nullptr};   ///< intermediate_FC1 / _FC2
  torch::nn::Linear z_mean{nullptr}, z_log_var{nullptr};

 private:
  int latent_dims_;
};
TORCH_MODULE(Encoder);

class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const EncoderConfig& cfg = {});
  /// z: (B, D) -> reconstruction (B, 2, 64, 64) in normalised units (unbounded).
  torch::Tensor forward(const torch::Tensor& z);

  torch::nn::Linear reshape_fc{nullptr};
  std::vector<ConvBlock> blocks;
  torch::nn::Conv2d output{nullptr};

 private:
  int bottleneck_size_;      ///< 64 / 2^(blocks-1)
  int bottleneck_channels_;  ///< filters of the first decoder block
};
TORCH_MODULE(Decoder);

/// Parameters as Keras counts them: trainable weights + BatchNorm moving mean / variance
/// (PyTorch's num_batches_tracked is not counted).
struct ParamCount {
  std::int64_t total = 0;
  std::int64_t trainable = 0;
};
ParamCount count_parameters(const torch::nn::Module& m);

/// Named tensors (parameters + buffers, "block0.conv.weight", ...) for weight files.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& m);
/// Saves / loads named tensors with torch::serialize archives (portable across LibTorch 1.13
/// and 2.x). Loading checks that every tensor exists with the expected shape; throws ModelError
/// naming the file, the tensor and both shapes.
void save_module_weights(const torch::nn::Module& m, const std::string& path);
void load_module_weights(torch::nn::Module& m, const std::string& path);

/// Writes <model_dir>/encoder.pt, decoder.pt and the model manifest's "encoder" section (config,
/// file names, input shape, latent dims, Keras-style parameter counts, and `training`: how the
/// weights came about: a training run's record, or the files they were imported from).
void save_vae_model_files(const EncoderImpl& enc, const DecoderImpl& dec, const EncoderConfig& cfg,
                          const std::filesystem::path& model_dir, const nlohmann::json& training);

}  // namespace taupe
