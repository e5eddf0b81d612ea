// β-VAE encoder / decoder (reference §1). See vae.h for the layer list.
#include "taupe/encoder/vae.h"

#include <torch/nn.h>
#include <torch/serialize.h>

#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/config_json.h"
#include "taupe/projector/model_dir.h"

namespace taupe {
namespace F = torch::nn::functional;

namespace {
constexpr int kImageSize = 64;
constexpr int kInputChannels = 2;

void glorot_zero(torch::nn::Linear& l) {
  torch::NoGradGuard g;
  torch::nn::init::xavier_uniform_(l->weight);
  torch::nn::init::zeros_(l->bias);
}

std::string shape_text(at::IntArrayRef s) {
  std::ostringstream o;
  o << "(";
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ")";
  return o.str();
}
}  // namespace

// ---- ConvBlock ------------------------------------------------------------------------------
ConvBlockImpl::ConvBlockImpl(int in_channels, int out_channels, bool frozen_bn) : frozen_bn_(frozen_bn) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 3)
                                                        .stride(1)
                                                        .padding(1)
                                                        .bias(false)));
  // Keras BatchNormalization defaults: epsilon 1e-3, momentum 0.99 (= torch momentum 0.01).
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels)
                                                        .eps(1e-3)
                                                        .momentum(0.01)));
  {
    torch::NoGradGuard g;
    torch::nn::init::xavier_uniform_(conv->weight);  // glorot_uniform: fans = 9*in, 9*out
  }
  if (frozen_bn_) bn->eval();
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x) {
  return torch::silu(bn(conv(x)));
}

void ConvBlockImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (frozen_bn_) bn->eval();
}

// ---- Encoder --------------------------------------------------------------------------------
EncoderImpl::EncoderImpl(const EncoderConfig& cfg) : latent_dims_(cfg.latent_dims) {
  const bool frozen = cfg.batchnorm == "frozen";
  int in = kInputChannels;
  for (std::size_t i = 0; i < cfg.layers.size(); ++i) {
    blocks.push_back(register_module("block" + std::to_string(i), ConvBlock(in, cfg.layers[i], frozen)));
    in = cfg.layers[i];
  }
  const int s = kImageSize >> (cfg.layers.size() - 1);
  const int flat = s * s * cfg.layers.back();
  fc_mean = register_module("fc_mean", torch::nn::Linear(flat, cfg.intermediate_dims));
  fc_log_var = register_module("fc_log_var", torch::nn::Linear(flat, cfg.intermediate_dims));
  z_mean = register_module("z_mean", torch::nn::Linear(cfg.intermediate_dims, cfg.latent_dims));
  z_log_var = register_module("z_log_var", torch::nn::Linear(cfg.intermediate_dims, cfg.latent_dims));
  glorot_zero(fc_mean);
  glorot_zero(fc_log_var);
  glorot_zero(z_mean);
  glorot_zero(z_log_var);
}

EncoderOutput EncoderImpl::forward_mean(const torch::Tensor& x) {
  torch::Tensor h = x;  // (B, 2, 64, 64)
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    h = blocks[i](h);
    if (i + 1 < blocks.size()) h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2).stride(2));
  }
  // Keras Flatten of an NHWC tensor: (B, H, W, C) row-major.
  const torch::Tensor flat = h.permute({0, 2, 3, 1}).reshape({h.size(0), -1});  // (B, 4096)
  EncoderOutput out;
  out.z_mean = z_mean(torch::silu(fc_mean(flat)));                               // (B, D)
  out.z_log_var = F::softplus(z_log_var(torch::silu(fc_log_var(flat))));         // (B, D)
  return out;
}

EncoderOutput EncoderImpl::forward_sampled(const torch::Tensor& x, at::Generator gen) {
  EncoderOutput out = forward_mean(x);
  // eps from the CPU generator on every device: the same stream (and checkpoint) as on the CPU.
  const torch::Tensor eps =
      at::randn(out.z_mean.sizes(), gen, out.z_mean.options().device(torch::kCPU)).to(out.z_mean.device());
  out.z = out.z_mean + torch::exp(0.5 * out.z_log_var) * eps;
  return out;
}

EncoderOutput EncoderImpl::forward(const torch::Tensor& x) {
  EncoderOutput out = forward_mean(x);
  out.z = out.z_mean + torch::exp(0.5 * out.z_log_var) * torch::randn_like(out.z_mean);
  return out;
}

// ---- Decoder --------------------------------------------------------------------------------
DecoderImpl::DecoderImpl(const EncoderConfig& cfg)
    : bottleneck_size_(kImageSize >> (cfg.layers.size() - 1)), bottleneck_channels_(cfg.layers.back()) {
  const bool frozen = cfg.batchnorm == "frozen";
  std::vector<int> rev(cfg.layers.rbegin(), cfg.layers.rend());  // 64, 32, 16, 8
  reshape_fc = register_module(
      "reshape_fc",
      torch::nn::Linear(cfg.latent_dims, bottleneck_size_ * bottleneck_size_ * bottleneck_channels_));
  glorot_zero(reshape_fc);
  int in = bottleneck_channels_;
  for (std::size_t i = 0; i < rev.size(); ++i) {
    blocks.push_back(register_module("block" + std::to_string(i), ConvBlock(in, rev[i], frozen)));
    in = rev[i];
  }
  output = register_module("output", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, kInputChannels, 1).bias(true)));
  torch::NoGradGuard g;
  torch::nn::init::xavier_uniform_(output->weight);
  torch::nn::init::zeros_(output->bias);
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z) {
  const int64_t b = z.size(0);
  // Keras Reshape((8, 8, 64)) of the dense output: HWC, then to NCHW.
  torch::Tensor h = torch::silu(reshape_fc(z))
                        .view({b, bottleneck_size_, bottleneck_size_, bottleneck_channels_})
                        .permute({0, 3, 1, 2});  // (B, 64, 8, 8), channels-last strides
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    h = blocks[i](h);
    if (i + 1 < blocks.size())
      h = F::interpolate(h, F::InterpolateFuncOptions()
                                .scale_factor(std::vector<double>{2.0, 2.0})
                                .mode(torch::kNearest));
  }
  return output(h);  // (B, 2, 64, 64)
}

// ---- parameters and weight files ------------------------------------------------------------
ParamCount count_parameters(const torch::nn::Module& m) {
  ParamCount c;
  for (const auto& p : m.parameters(true)) {
    c.total += p.numel();
    if (p.requires_grad()) c.trainable += p.numel();
  }
  for (const auto& b : m.named_buffers(true)) {
    const std::string& k = b.key();
    const auto ends = [&](const std::string& s) {
      return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("running_mean") || ends("running_var")) c.total += b.value().numel();
  }
  return c;
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

void save_module_weights(const torch::nn::Module& m, const std::string& path) {
  torch::serialize::OutputArchive ar;
  for (const auto& kv : named_state(m)) ar.write(kv.first, kv.second.contiguous(), /*is_buffer=*/false);
  write_atomic(path, [&](const std::filesystem::path& tmp) { ar.save_to(tmp.string()); });
}

void load_module_weights(torch::nn::Module& m, const std::string& path) {
  if (!std::filesystem::exists(path)) throw IoError(path + ": weight file not found");
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": not a readable LibTorch archive (" + std::string(e.what_without_backtrace()) + ")");
  }
  torch::NoGradGuard g;
  for (auto& kv : named_state(m)) {
    torch::Tensor t;
    if (!ar.try_read(kv.first, t))
      throw ModelError(path + ": tensor '" + kv.first + "' missing (model built with another architecture?)");
    if (t.sizes() != kv.second.sizes())
      throw ModelError(path + ": tensor '" + kv.first + "' has shape " + shape_text(t.sizes()) + ", expected " +
                       shape_text(kv.second.sizes()));
    kv.second.copy_(t);
  }
}

void save_vae_model_files(const EncoderImpl& enc, const DecoderImpl& dec, const EncoderConfig& cfg,
                          const std::filesystem::path& model_dir, const nlohmann::json& training) {
  save_module_weights(enc, encoder_artifacts::encoder_weights(model_dir).string());
  save_module_weights(dec, encoder_artifacts::decoder_weights(model_dir).string());
  nlohmann::json sec;
  sec["config"] = detail::encoder_config_to_json(cfg);
  sec["files"] = {{"encoder", encoder_artifacts::encoder_weights({}).string()},
                  {"decoder", encoder_artifacts::decoder_weights({}).string()}};
  sec["input_shape"] = {2, 64, 64};
  sec["latent_dims"] = cfg.latent_dims;
  const ParamCount pe = count_parameters(enc), pd = count_parameters(dec);
  sec["parameters"] = {{"encoder", pe.total}, {"encoder_trainable", pe.trainable}, {"decoder", pd.total}};
  sec["training"] = training;
  update_model_manifest(model_dir, "encoder", sec);
}

}  // namespace taupe
