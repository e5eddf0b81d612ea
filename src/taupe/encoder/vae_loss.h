#pragma once
// Capacity-annealed β-VAE loss (reference §2), as pure functions:
//   reconstruction = mean_b  Σ_{c,h,w} (x - x̂)²          (optionally Σ w_hw (x - x̂)², below)
//   KL            = mean_b  -½ Σ_d (1 + lv - μ² - exp(lv))
//   C(i)          = clip(capacity / max_iterations · i, 0, capacity)
//   total         = reconstruction + γ · |KL - C(i)|
#include <torch/types.h>

#include <cstdint>

namespace taupe {

/// x, x_hat: (B, C, H, W) -> scalar: per-image summed squared error, mean over the batch.
torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat);
/// x, x_hat: (B, C, H, W), weight: (H, W) -> scalar: per-image weighted summed squared error,
/// mean over the batch. An undefined weight means all ones (the function above).
torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat, const torch::Tensor& weight);

/// (size, size) map 1 + peak·exp(-r²/2σ²), r measured from the patch centre ((size-1)/2, so
/// the map is symmetric under the flips and quarter turns of the augmentation), divided by its
/// mean (mean 1). peak = 0 gives all ones.
torch::Tensor centre_weight_map(int size, double peak, double sigma_px);

/// z_mean, z_log_var: (B, D) -> scalar: KL(N(μ, e^lv) ‖ N(0, 1)) summed over D, mean over B.
torch::Tensor kl_divergence(const torch::Tensor& z_mean, const torch::Tensor& z_log_var);
/// Steps over which C rises: int(total_steps · fraction) (reference: max_iterations).
std::int64_t capacity_max_iterations(std::int64_t total_steps, double fraction);
/// C(i); if max_iterations <= 0, C = capacity from step 0.
double capacity_at(double capacity, std::int64_t max_iterations, std::int64_t step);

struct VaeLoss {
  torch::Tensor total;            ///< scalar, differentiable: weighted reconstruction + capacity_loss
  torch::Tensor reconstruction;   ///< scalar, unweighted (comparable across weightings)
  torch::Tensor kl;               ///< scalar
  torch::Tensor capacity_loss;    ///< scalar γ·|KL - C|
  double capacity = 0.0;          ///< C used
};
/// x, x_hat: (B, 2, 64, 64); z_mean, z_log_var: (B, D); pixel_weight: (64, 64) or undefined
/// (the reference loss).
VaeLoss vae_loss(const torch::Tensor& x, const torch::Tensor& x_hat, const torch::Tensor& z_mean,
                 const torch::Tensor& z_log_var, double capacity_now, double gamma,
                 const torch::Tensor& pixel_weight = {});

}  // namespace taupe
