// Loss: closed forms for KL, reconstruction and the capacity schedule.
#include <gtest/gtest.h>
#include <torch/nn.h>

#include <cmath>

#include "taupe/encoder/vae_loss.h"

namespace taupe {
namespace {

// KL(N(μ, σ²) ‖ N(0, 1)) = ln(1/σ) + (σ² + μ²)/2 − 1/2 per dimension.
double kl_closed(double mu, double sigma) { return std::log(1.0 / sigma) + (sigma * sigma + mu * mu) / 2.0 - 0.5; }

TEST(VaeLoss, KlMatchesTheGaussianClosedForm) {
  const torch::Tensor mu = torch::tensor({{0.5, -1.0}, {0.0, 2.0}}, torch::kFloat64);
  const torch::Tensor sigma = torch::tensor({{2.0, 0.5}, {1.0, 1.5}}, torch::kFloat64);
  const torch::Tensor lv = torch::log(sigma * sigma);
  const double expect = ((kl_closed(0.5, 2.0) + kl_closed(-1.0, 0.5)) + (kl_closed(0.0, 1.0) + kl_closed(2.0, 1.5))) / 2.0;
  EXPECT_NEAR(kl_divergence(mu, lv).item<double>(), expect, 1e-12);
  EXPECT_NEAR(kl_closed(0.5, 2.0), 0.931853, 1e-6);
  EXPECT_EQ(kl_divergence(torch::zeros({3, 32}), torch::zeros({3, 32})).item<float>(), 0.0f);
}

TEST(VaeLoss, ReconstructionIsPerImageSumMeanOverBatch) {
  const torch::Tensor x = torch::zeros({4, 2, 64, 64});
  torch::Tensor xh = torch::ones({4, 2, 64, 64});
  xh[3] *= 2.0;   // image 3 errs by 2 -> 4 per pixel
  EXPECT_NEAR(reconstruction_loss(x, xh).item<double>(), (3 * 8192.0 + 4 * 8192.0) / 4.0, 1e-3);
}

TEST(VaeLoss, CapacityScheduleRisesLinearlyOverNinetyPercentThenHolds) {
  // Reference: 1,030,766 images // 256 = 4026 steps/epoch, 50 epochs -> 181,170.
  EXPECT_EQ(capacity_max_iterations(4026 * 50, 0.9), 181170);
  const std::int64_t m = capacity_max_iterations(1000, 0.9);
  EXPECT_EQ(m, 900);
  EXPECT_DOUBLE_EQ(capacity_at(50, m, 0), 0.0);
  EXPECT_DOUBLE_EQ(capacity_at(50, m, 450), 25.0);
  EXPECT_DOUBLE_EQ(capacity_at(50, m, 900), 50.0);
  EXPECT_DOUBLE_EQ(capacity_at(50, m, 999), 50.0);
  EXPECT_DOUBLE_EQ(capacity_at(50, m, -5), 0.0);
  EXPECT_DOUBLE_EQ(capacity_at(50, 0, 0), 50.0);
}

TEST(VaeLoss, TotalIsReconstructionPlusGammaAbsKlMinusCapacity) {
  torch::Tensor mu = torch::full({2, 4}, 1.0, torch::requires_grad());
  const torch::Tensor lv = torch::zeros({2, 4});
  const torch::Tensor x = torch::zeros({2, 2, 64, 64});
  const torch::Tensor xh = torch::full({2, 2, 64, 64}, 0.5);
  // KL = 0.5 * 4 * 1 = 2 per image.
  const VaeLoss below = vae_loss(x, xh, mu, lv, 5.0, 1000.0);
  EXPECT_NEAR(below.kl.item<double>(), 2.0, 1e-6);
  EXPECT_NEAR(below.reconstruction.item<double>(), 2048.0, 1e-3);
  EXPECT_NEAR(below.capacity_loss.item<double>(), 3000.0, 1e-3);
  EXPECT_NEAR(below.total.item<double>(), 5048.0, 1e-2);
  below.total.backward();
  // KL < C: the loss pushes KL up; dKL/dmu = mu / B = 0.5 -> dtotal/dmu = -1000 * 0.5.
  EXPECT_NEAR(mu.grad()[0][0].item<double>(), -500.0, 1e-3);
  const VaeLoss above = vae_loss(x, xh, mu.detach(), lv, 0.5, 1000.0);
  EXPECT_NEAR(above.capacity_loss.item<double>(), 1500.0, 1e-3);
}

TEST(VaeLoss, CentreWeightMapHasMeanOneAGaussianProfileAndTheAugmentationSymmetries) {
  const torch::Tensor w = centre_weight_map(64, 4.0, 10.0).to(torch::kDouble);  // (64, 64)
  ASSERT_EQ(w.sizes(), (std::vector<std::int64_t>{64, 64}));
  EXPECT_NEAR(w.mean().item<double>(), 1.0, 1e-6);
  // Closed form: w(y, x) ∝ 1 + 4 exp(-r²/200), r from (31.5, 31.5).
  auto raw = [](double y, double x) {
    const double r2 = (y - 31.5) * (y - 31.5) + (x - 31.5) * (x - 31.5);
    return 1.0 + 4.0 * std::exp(-r2 / 200.0);
  };
  EXPECT_NEAR(w[31][31].item<double>() / w[0][0].item<double>(), raw(31, 31) / raw(0, 0), 1e-5);
  EXPECT_NEAR(w[31][40].item<double>() / w[10][5].item<double>(), raw(31, 40) / raw(10, 5), 1e-5);
  EXPECT_DOUBLE_EQ(w.max().item<double>(), w[32][32].item<double>());
  // Flips and quarter turns (the training augmentation) leave the map unchanged.
  EXPECT_TRUE(torch::allclose(w, torch::rot90(w, 1, {0, 1}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(w, torch::flip(w, {0}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(w, torch::flip(w, {1}), 0, 1e-6));
  EXPECT_TRUE(torch::equal(centre_weight_map(64, 0.0, 10.0), torch::ones({64, 64})));
}

TEST(VaeLoss, CentreWeightingWeighsEachPixelButReportsTheUnweightedError) {
  const torch::Tensor w = centre_weight_map(64, 9.0, 6.0);
  const torch::Tensor x = torch::zeros({2, 2, 64, 64});
  torch::Tensor xh = torch::zeros({2, 2, 64, 64});
  xh[0][1][32][32] = 2.0;  // squared error 4 at the centre of image 0
  xh[1][0][0][5] = 1.0;    // squared error 1 near a corner of image 1
  const double expect = (4.0 * w[32][32].item<double>() + 1.0 * w[0][5].item<double>()) / 2.0;
  EXPECT_NEAR(reconstruction_loss(x, xh, w).item<double>(), expect, 1e-5);
  EXPECT_NEAR(reconstruction_loss(x, xh, torch::Tensor()).item<double>(), 2.5, 1e-6);
  const torch::Tensor mu = torch::zeros({2, 4}), lv = torch::zeros({2, 4});
  const VaeLoss l = vae_loss(x, xh, mu, lv, 0.0, 10.0, w);
  EXPECT_NEAR(l.reconstruction.item<double>(), 2.5, 1e-6);  // logged: comparable across weightings
  EXPECT_NEAR(l.total.item<double>(), expect, 1e-5);         // optimised: the weighted error
}

}  // namespace
}  // namespace taupe
