// β-VAE modules: parameter counts equal the reference, Keras layout (HWC flatten), init,
// BatchNorm mode (docs/models.md, ambiguity 1), weight files.
#include <gtest/gtest.h>
#include <torch/nn.h>
#include <torch/optim.h>
#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "taupe/core/errors.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/torch_runtime.h"
#include "taupe/encoder/vae.h"

namespace taupe {
namespace {

TEST(Vae, ParameterCountsEqualTheReference) {
  torch::manual_seed(0);
  Encoder enc(EncoderConfig{});
  Decoder dec(EncoderConfig{});
  const ParamCount e = count_parameters(*enc);
  const ParamCount d = count_parameters(*dec);
  EXPECT_EQ(e.total, 2138928);
  EXPECT_EQ(e.trainable, 2138688);
  EXPECT_EQ(d.total, 196722);
  EXPECT_EQ(d.trainable, 196722 - 240);
}

TEST(Vae, ShapesAndSoftplusLogVariance) {
  torch::manual_seed(1);
  Encoder enc(EncoderConfig{});
  Decoder dec(EncoderConfig{});
  const torch::Tensor x = torch::randn({3, 2, 64, 64});
  EncoderOutput o = enc(x);
  EXPECT_EQ(o.z_mean.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(o.z_log_var.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(o.z.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_GT(o.z_log_var.min().item<float>(), 0.0f);   // softplus: posterior variance > 1
  EXPECT_EQ(dec(o.z).sizes(), (std::vector<int64_t>{3, 2, 64, 64}));
  // Sampling with a seeded generator is reproducible; z_mean is deterministic.
  at::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Generator g2 = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(enc->forward_sampled(x, g1).z, enc->forward_sampled(x, g2).z));
  EXPECT_TRUE(torch::allclose(enc->forward_mean(x).z_mean, o.z_mean));
}

TEST(Vae, EncoderFlattensInKerasChannelsLastOrder) {
  torch::manual_seed(2);
  Encoder enc(EncoderConfig{});
  enc->eval();
  torch::NoGradGuard ng;
  // fc_mean reads only flat index (h=1, w=2, c=3) in HWC order; z_mean[0] copies it.
  const int64_t idx = (1 * 8 + 2) * 64 + 3;
  enc->fc_mean->weight.zero_();
  enc->fc_mean->bias.zero_();
  enc->fc_mean->weight[0][idx] = 1.0;
  enc->z_mean->weight.zero_();
  enc->z_mean->bias.zero_();
  enc->z_mean->weight[0][0] = 1.0;
  const torch::Tensor x = torch::randn({2, 2, 64, 64});
  torch::Tensor h = x;
  for (std::size_t i = 0; i < enc->blocks.size(); ++i) {
    h = enc->blocks[i](h);
    if (i + 1 < enc->blocks.size()) h = torch::max_pool2d(h, {2, 2}, {2, 2});
  }
  const torch::Tensor expect = torch::silu(h.index({torch::indexing::Slice(), 3, 1, 2}));
  const torch::Tensor got = enc->forward_mean(x).z_mean.index({torch::indexing::Slice(), 0});
  EXPECT_TRUE(torch::allclose(got, expect, 1e-5, 1e-6));
}

TEST(Vae, DecoderReshapesDenseOutputAsHwc) {
  torch::manual_seed(3);
  Decoder dec(EncoderConfig{});
  dec->eval();
  torch::NoGradGuard ng;
  // Only dense unit (h=1, w=2, c=3) is non-zero -> after reshape only channel 3 at (1, 2) of
  // the first block's input is non-zero, so block 0's conv output is zero far from it.
  dec->reshape_fc->weight.zero_();
  dec->reshape_fc->bias.zero_();
  dec->reshape_fc->bias[(1 * 8 + 2) * 64 + 3] = 5.0;
  const torch::Tensor h0 = torch::silu(dec->reshape_fc(torch::zeros({1, 32})))
                               .view({1, 8, 8, 64})
                               .permute({0, 3, 1, 2});
  EXPECT_NEAR(h0[0][3][1][2].item<float>(), 5.0f * (1.0f / (1.0f + std::exp(-5.0f))), 1e-5);
  EXPECT_NEAR(h0.abs().sum().item<float>(), h0[0][3][1][2].item<float>(), 1e-5);
  const torch::Tensor c = dec->blocks[0]->conv(h0);
  EXPECT_EQ(c.index({0, torch::indexing::Slice(), 5, 5}).abs().sum().item<float>(), 0.0f);
  EXPECT_GT(c.index({0, torch::indexing::Slice(), 1, 2}).abs().sum().item<float>(), 0.0f);
}

TEST(Vae, GlorotUniformInitAndZeroBiases) {
  torch::manual_seed(4);
  Encoder enc(EncoderConfig{});
  const torch::Tensor w = enc->fc_mean->weight;   // (256, 4096)
  const double bound = std::sqrt(6.0 / (4096 + 256));
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_NEAR(w.var().item<double>(), bound * bound / 3.0, 0.02 * bound * bound / 3.0);
  EXPECT_EQ(enc->fc_mean->bias.abs().sum().item<double>(), 0.0);
  const torch::Tensor cw = enc->blocks[1]->conv->weight;  // (16, 8, 3, 3): fans 72, 144
  EXPECT_LE(cw.abs().max().item<double>(), std::sqrt(6.0 / (72 + 144)));
}

// Decision (docs/models.md): BatchNorm "frozen" = inference mode while training, as the
// reference's train_step does -> moving statistics stay 0 / 1 and an image's encoding does
// not depend on the other images of its batch.
TEST(Vae, FrozenBatchNormKeepsMovingStatisticsAndIsBatchIndependent) {
  torch::manual_seed(5);
  EncoderConfig cfg;
  Encoder enc(cfg);
  Decoder dec(cfg);
  enc->train();
  dec->train();
  torch::optim::Adam opt(enc->parameters(), torch::optim::AdamOptions(1e-2));
  const torch::Tensor x = torch::randn({4, 2, 64, 64}) * 3 + 1;
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    enc->forward_mean(x).z_mean.pow(2).sum().backward();
    opt.step();
  }
  for (const auto& b : enc->blocks) {
    EXPECT_FALSE(b->bn->is_training());
    EXPECT_EQ(b->bn->running_mean.abs().max().item<float>(), 0.0f);
    EXPECT_EQ(b->bn->running_var.sub(1).abs().max().item<float>(), 0.0f);
  }
  // gamma / beta still learn.
  EXPECT_GT(enc->blocks[0]->bn->bias.abs().max().item<float>(), 0.0f);
  torch::NoGradGuard ng;
  const torch::Tensor alone = enc->forward_mean(x.slice(0, 0, 1)).z_mean;
  const torch::Tensor in_batch = enc->forward_mean(x).z_mean.slice(0, 0, 1);
  EXPECT_TRUE(torch::allclose(alone, in_batch, 1e-4, 1e-5));
}

TEST(Vae, BatchStatisticsModeUpdatesRunningAverages) {
  torch::manual_seed(6);
  EncoderConfig cfg;
  cfg.batchnorm = "batch";
  Encoder enc(cfg);
  enc->train();
  enc->forward_mean(torch::randn({4, 2, 64, 64}) * 3 + 1);
  EXPECT_TRUE(enc->blocks[0]->bn->is_training());
  EXPECT_GT(enc->blocks[0]->bn->running_mean.abs().max().item<float>(), 0.0f);
}

TEST(Vae, WeightFilesRoundTripAndShapeMismatchIsAModelError) {
  const auto dir = std::filesystem::temp_directory_path() / ("taupe_vae_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  torch::manual_seed(8);
  Encoder a(EncoderConfig{});
  torch::manual_seed(9);
  Encoder b(EncoderConfig{});
  save_module_weights(*a, (dir / "enc.pt").string());
  load_module_weights(*b, (dir / "enc.pt").string());
  a->eval();
  b->eval();
  torch::NoGradGuard ng;
  const torch::Tensor x = torch::randn({2, 2, 64, 64});
  EXPECT_TRUE(torch::equal(a->forward_mean(x).z_mean, b->forward_mean(x).z_mean));
  EncoderConfig small;
  small.latent_dims = 16;
  Encoder c(small);
  try {
    load_module_weights(*c, (dir / "enc.pt").string());
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("z_mean.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(32, 256)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_module_weights(*c, (dir / "missing.pt").string()), IoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace taupe

namespace taupe {
namespace {

/// z_mean, z_log_var of x (B, 2, 64, 64) by the module in eval mode.
std::pair<torch::Tensor, torch::Tensor> module_encoding(Encoder& enc, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  enc->eval();
  const EncoderOutput o = enc->forward_mean(x);
  return {o.z_mean, o.z_log_var};
}

/// The same through VaeModel::encode (BatchNorm folded into the convolutions), batches of 7.
std::pair<torch::Tensor, torch::Tensor> model_encoding(const VaeModel& m, const torch::Tensor& x) {
  const torch::Tensor c = x.contiguous();
  const EncodedBatch b = m.encode(c.data_ptr<float>(), c.size(0), /*normalized=*/true, 7);
  return {torch::from_blob(const_cast<float*>(b.z_mean.data()), {b.n, b.dims}).clone(),
          torch::from_blob(const_cast<float*>(b.z_log_var.data()), {b.n, b.dims}).clone()};
}

void expect_close(const std::pair<torch::Tensor, torch::Tensor>& a, const std::pair<torch::Tensor, torch::Tensor>& b) {
  EXPECT_TRUE(torch::allclose(a.first, b.first, 1e-4, 1e-5)) << (a.first - b.first).abs().max();
  EXPECT_TRUE(torch::allclose(a.second, b.second, 1e-4, 1e-5)) << (a.second - b.second).abs().max();
}

/// Moving statistics and affine parameters far from their initial values.
void perturb_batchnorm(Encoder& enc, const torch::Tensor& x, double scale) {
  torch::NoGradGuard ng;
  enc->train();
  for (int i = 0; i < 3; ++i) (void)enc->forward_mean(x * (scale + i));
  for (auto& b : enc->blocks) b->bn->weight.uniform_(0.5, 1.5), b->bn->bias.uniform_(-0.3, 0.3);
  enc->eval();
}

TEST(VaeInference, FoldedBatchNormEncoderEqualsTheModuleAndFollowsChangesMadeThroughIt) {
  torch::manual_seed(3);
  const VaeModel m{EncoderConfig{}};
  const torch::Tensor x = torch::randn({20, 2, 64, 64});  // batches 7, 7, 6
  perturb_batchnorm(m.encoder(), x, 1.0);
  const auto before = model_encoding(m, x);
  expect_close(before, module_encoding(m.encoder(), x));
  // Changing the weights through encoder() is seen by the next encode.
  perturb_batchnorm(m.encoder(), x, 3.0);
  {
    torch::NoGradGuard ng;
    m.encoder()->fc_mean->weight.mul_(1.5);
  }
  const auto after = model_encoding(m, x);
  EXPECT_FALSE(torch::allclose(after.first, before.first, 1e-3, 1e-3));
  expect_close(after, module_encoding(m.encoder(), x));
}

}  // namespace
}  // namespace taupe

namespace taupe {
namespace {

TEST(Precision, Bf16AutocastCoversTheScopeOnlyAndFp32IsUntouched) {
  // run.precision = bf16: inside an AutocastScope a convolution computes in bfloat16 on the
  // compute device (the CPU here); outside it, and with fp32, everything stays float32.
  const torch::Tensor x = torch::randn({2, 2, 16, 16}), w = torch::randn({4, 2, 3, 3});
  {
    const AutocastScope none;
    EXPECT_EQ(torch::conv2d(x, w).scalar_type(), torch::kFloat32);
  }
  set_compute_precision("bf16");
  {
    const AutocastScope amp;
    const torch::Tensor y = torch::conv2d(x, w);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  }
  const torch::Tensor after = torch::conv2d(x, w);
  EXPECT_EQ(after.scalar_type(), torch::kFloat32);
  set_compute_precision("fp32");
  // bf16 keeps ~3 significant digits: the same convolution differs from float32 by about 1e-2.
  set_compute_precision("bf16");
  torch::Tensor low;
  {
    const AutocastScope amp;
    low = torch::conv2d(x, w).to(torch::kFloat32);
  }
  set_compute_precision("fp32");
  const double rel = ((low - after).abs().max() / after.abs().max()).item<double>();
  EXPECT_GT(rel, 1e-4);
  EXPECT_LT(rel, 3e-2);
  EXPECT_THROW(set_compute_precision("fp16"), ConfigError);
}

}  // namespace
}  // namespace taupe
