// TCN: parameter count, causality, receptive field, weight-norm init, pruned = full forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "taupe/projector/pca.h"
#include "taupe/temporal/tcn.h"
#include "taupe/temporal/tcn_io.h"

namespace taupe {
namespace {

// Per-channel mean / population variance over batch and time of (B, C, T).
torch::Tensor chan_mean(const torch::Tensor& y) {
  const std::vector<std::int64_t> bt{0, 2};
  return y.mean(torch::IntArrayRef(bt));
}
torch::Tensor chan_var(const torch::Tensor& y) {
  return (y - chan_mean(y).view({1, -1, 1})).pow(2).mean(torch::IntArrayRef(std::vector<std::int64_t>{0, 2}));
}

Tcn make_initialised(TcnOptions o, std::uint64_t seed, int T = 128) {
  torch::manual_seed(seed);
  Tcn tcn(o);
  tcn->eval();
  tcn->data_init(torch::randn({8, T, o.input_dims}) * 2.0 + 0.5);
  return tcn;
}

TEST(Tcn, TrainableParameterCountMatchesReference) {
  Tcn tcn(TcnOptions{});
  EXPECT_EQ(tcn->num_trainable_parameters(), 123203);
  EXPECT_EQ(TcnOptions{}.receptive_field(), 255);
  TemporalConfig cfg;
  EXPECT_EQ(cfg.receptive_field(), 255);
  EXPECT_EQ(TcnOptions::from_config(cfg, 32).filters, 64);
}

TEST(Tcn, OutputShapes) {
  auto tcn = make_initialised(TcnOptions{}, 1);
  auto x = torch::randn({3, 128, 32});
  auto out = tcn->forward_full(x);
  EXPECT_EQ(out.logits.sizes(), torch::IntArrayRef({3, 3}));
  EXPECT_EQ(out.features.sizes(), torch::IntArrayRef({3, 128, 64}));
  EXPECT_THROW(tcn->forward(torch::randn({3, 128, 31})), ModelError);
}

TEST(Tcn, IsCausal) {
  auto tcn = make_initialised(TcnOptions{}, 2);
  torch::NoGradGuard ng;
  auto x = torch::randn({2, 128, 32});
  for (int t : {0, 37, 64, 127}) {
    auto y = x.clone();
    y.select(1, t).add_(torch::randn({2, 32}));
    auto fa = tcn->forward_features(x), fb = tcn->forward_features(y);
    if (t > 0) {
      EXPECT_TRUE(torch::equal(fa.slice(1, 0, t), fb.slice(1, 0, t))) << "frames before " << t << " changed";
    }
    EXPECT_GT((fa.select(1, t) - fb.select(1, t)).abs().max().item<float>(), 1e-6) << "frame " << t;
  }
}

TEST(Tcn, ReceptiveFieldIs255) {
  auto tcn = make_initialised(TcnOptions{}, 3, 300);
  torch::NoGradGuard ng;
  const int T = 300;
  auto x = torch::randn({1, T, 32});
  auto base = tcn->forward_features(x).select(1, T - 1);
  auto perturbed_last = [&](int t) {
    auto y = x.clone();
    y.select(1, t).add_(5.0);
    return (tcn->forward_features(y).select(1, T - 1) - base).abs().max().item<float>();
  };
  EXPECT_GT(perturbed_last(T - 255), 1e-6);     // oldest frame inside the field
  EXPECT_EQ(perturbed_last(T - 256), 0.0f);     // just outside: no influence at all
  EXPECT_EQ(perturbed_last(0), 0.0f);
  // And in the pruned plan, block 0 reads exactly frames T-255 .. T-1.
  auto pos = tcn->pruned_input_positions(T);
  EXPECT_EQ(pos.front().front(), T - 255);
  EXPECT_EQ(pos.front().size(), 255u);
}

TEST(WeightNorm, EffectiveKernelIsGTimesUnitV) {
  torch::manual_seed(4);
  WeightNormConv1d conv(5, 7, 2, 3);
  conv->eval();  // no data init: g = 1, bias = 0
  auto w = conv->effective_weight();
  auto norms = w.pow(2).sum(torch::IntArrayRef(std::vector<std::int64_t>{1, 2})).sqrt();
  EXPECT_TRUE(torch::allclose(norms, conv->g.detach(), 1e-5, 1e-6));
  // Causal dilated conv closed form: out[t] = W0 x[t-d] + W1 x[t] + b.
  auto x = torch::randn({1, 5, 10});
  auto y = conv->forward(x).detach();
  auto W = w.detach();
  for (int t : {0, 2, 3, 9}) {
    auto expect = torch::matmul(W.select(2, 1), x[0].select(1, t));
    if (t >= 3) expect = expect + torch::matmul(W.select(2, 0), x[0].select(1, t - 3));
    EXPECT_TRUE(torch::allclose(y[0].select(1, t), expect, 1e-5, 1e-5)) << t;
  }
}

TEST(WeightNorm, UnitInitGivesUnitVariancePreactivations) {
  torch::manual_seed(5);
  WeightNormConv1d conv(32, 64, 2, 4);
  auto x = torch::randn({16, 32, 128}) * 3.0 + 1.5;
  conv->train();
  EXPECT_FALSE(conv->initialized());
  auto y = conv->forward(x).detach();  // first training forward initialises
  EXPECT_TRUE(conv->initialized());
  auto m = chan_mean(y);
  auto var = chan_var(y);
  EXPECT_LT(m.abs().max().item<float>(), 1e-4);
  EXPECT_LT((var - 1).abs().max().item<float>(), 1e-3);
  // A second forward does not re-initialise.
  auto g0 = conv->g.detach().clone();
  conv->forward(x * 10);
  EXPECT_TRUE(torch::equal(g0, conv->g.detach()));
}

TEST(WeightNorm, TfaInitUsesRawKernelStatistics) {
  torch::manual_seed(6);
  WeightNormConv1d conv(32, 64, 2, 1, /*tfa_init=*/true);
  auto x = torch::randn({16, 32, 64}) + 0.7;
  auto v = conv->v.detach().clone();
  auto raw = torch::conv1d(torch::constant_pad_nd(x, {1, 0}, 0.0), v);
  auto rm = chan_mean(raw);
  auto rvar = chan_var(raw);
  conv->data_init(x);
  EXPECT_TRUE(torch::allclose(conv->g.detach(), 1.0 / torch::sqrt(rvar + 1e-10), 1e-4, 1e-6));
  EXPECT_TRUE(torch::allclose(conv->bias.detach(), -rm / torch::sqrt(rvar + 1e-10), 1e-4, 1e-5));
  // Closed form of the quirk (reference ambiguity 14): pre-activation variance = 1 / ||v||^2.
  torch::NoGradGuard ng;
  auto y = conv->forward(x);
  auto ym = chan_mean(y);
  auto yvar = chan_var(y);
  auto vn2 = v.pow(2).sum(torch::IntArrayRef(std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(torch::allclose(yvar, 1.0 / vn2, 1e-3, 1e-5));
}

TEST(WeightNorm, WholeNetworkInitGivesUnitVarianceOnItsInitBatch) {
  TcnOptions o;
  o.dropout = 0.0;  // so the init batch's activations can be recomputed exactly
  torch::manual_seed(7);
  Tcn tcn(o);
  tcn->train();
  auto x = torch::randn({16, 128, 32}) * 2.0;
  tcn->data_init(x);
  EXPECT_TRUE(tcn->initialized());
  std::vector<torch::Tensor> pre;
  torch::NoGradGuard ng;
  tcn->forward_trace(x, &pre);
  ASSERT_EQ(pre.size(), 14u);
  for (std::size_t i = 0; i < pre.size(); ++i) {
    auto m = chan_mean(pre[i]);
    auto var = chan_var(pre[i]);
    EXPECT_LT(m.abs().max().item<float>(), 1e-3) << "layer " << i;
    EXPECT_LT((var - 1).abs().max().item<float>(), 1e-2) << "layer " << i;
  }
}

TEST(PrunedForward, EqualsFullForwardReferenceGeometry) {
  auto tcn = make_initialised(TcnOptions{}, 8);
  torch::NoGradGuard ng;
  for (int rep = 0; rep < 3; ++rep) {
    auto x = torch::randn({5, 128, 32});
    auto full = tcn->forward(x), pruned = tcn->forward_last(x);
    // float32: 1e-5 relative to the logits' scale (summation order differs between the paths)
    const float scale = std::max(1.0f, full.abs().max().item<float>());
    EXPECT_LT((full - pruned).abs().max().item<float>(), 1e-5 * scale) << "rep " << rep;
  }
  // In double precision the two paths agree to rounding.
  tcn->to(torch::kFloat64);
  auto xd = torch::randn({5, 128, 32}, torch::kFloat64) * 3.0;
  EXPECT_LT((tcn->forward(xd) - tcn->forward_last(xd)).abs().max().item<double>(), 1e-10);
  EXPECT_EQ(tcn->pruned_conv_positions(128), 381);  // of 2 * 7 * 128 = 1792
}

TEST(PrunedForward, AnInferenceCopyPredictsTheSame) {
  // ModelSet's accelerator copies (tcn_copy_on); on the CPU here. The copy owns its weights.
  auto tcn = make_initialised(TcnOptions{}, 8);
  tcn->eval();
  Tcn copy = tcn_copy_on(*tcn, torch::kCPU);
  torch::NoGradGuard ng;
  auto x = torch::randn({4, 128, 32});
  EXPECT_TRUE(torch::equal(copy->forward_last(x), tcn->forward_last(x)));
  EXPECT_FALSE(copy->is_training());
  tcn->head_b2.add_(1.0);
  EXPECT_FALSE(torch::equal(copy->forward_last(x), tcn->forward_last(x)));
}

TEST(PrunedForward, EqualsFullForwardOtherGeometries) {
  struct Case { int k; std::vector<int> dil; int T; };
  for (const auto& c : {Case{2, {1, 2, 4, 8, 16, 32, 64}, 60}, Case{2, {1, 2, 4, 8, 16, 32, 64}, 300},
                        Case{3, {1, 3, 9}, 50}, Case{2, {2, 5, 1}, 40}}) {
    TcnOptions o;
    o.kernel_size = c.k;
    o.dilations = c.dil;
    o.input_dims = 6;
    o.filters = 8;
    o.head_units = 5;
    auto tcn = make_initialised(o, 9, c.T);
    torch::NoGradGuard ng;
    auto x = torch::randn({3, c.T, 6});
    EXPECT_LT((tcn->forward(x) - tcn->forward_last(x)).abs().max().item<float>(), 1e-5) << "T " << c.T;
  }
}

TEST(PrunedForward, GradientsEqualFullForwardInTraining) {
  TcnOptions o;
  o.dropout = 0.0;  // dropout masks differ between the paths; without dropout they must agree
  auto tcn = make_initialised(o, 10);
  tcn->train();
  auto x = torch::randn({4, 128, 32});
  auto y = torch::tensor(std::vector<std::int64_t>{0, 1, 2, 1});
  auto grads = [&](bool pruned) {
    tcn->zero_grad();
    auto logits = pruned ? tcn->forward_last(x) : tcn->forward(x);
    torch::nn::functional::cross_entropy(logits, y).backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : tcn->parameters()) g.push_back(p.grad().clone());
    return g;
  };
  auto full = grads(false), pruned = grads(true);
  ASSERT_EQ(full.size(), pruned.size());
  for (std::size_t i = 0; i < full.size(); ++i)
    EXPECT_TRUE(torch::allclose(full[i], pruned[i], 1e-4, 1e-6)) << "parameter " << i;
  // With dropout the pruned training forward drops whole channels: outputs vary between calls.
  TcnOptions od;
  auto drop = make_initialised(od, 11);
  drop->train();
  EXPECT_FALSE(torch::equal(drop->forward_last(x), drop->forward_last(x)));
}

TEST(PcaTransform, PaddingAndRoundTrip) {
  Pca pca;
  pca.dims = 2;
  pca.mean = {1.0, -2.0};
  const double c = std::cos(0.3), s = std::sin(0.3);
  pca.components = {c, s, -s, c};
  PcaTransform t(pca);
  auto pad = t.forward(torch::zeros({1, 1, 2})).view({2});
  EXPECT_TRUE(torch::allclose(pad, t.padding_pc()));
  EXPECT_NEAR(pad[0].item<float>(), -(1.0 * c + -2.0 * s), 1e-6);
  auto x = torch::randn({4, 3, 2});
  EXPECT_TRUE(torch::allclose(t.inverse(t.forward(x)), x, 1e-5, 1e-5));
}

}  // namespace
}  // namespace taupe
