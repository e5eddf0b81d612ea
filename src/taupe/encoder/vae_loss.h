#pragma once
// Capacity-annealed β-VAE loss (reference §2), as pure functions:
//   reconstruction = mean_b  Σ_{c,h,w} (x - x̂)²
//   KL            = mean_b  -½ Σ_d (1 + lv - μ² - exp(lv))
//   C(i)          = clip(capacity / max_iterations · i, 0, capacity)
//   total         = reconstruction + γ · |KL - C(i)|
#include <torch/types.h>

#include <cstdint>

namespace taupe {

/// x, x_hat: (B, C, H, W) -> scalar: per-image summed squared error, mean over the batch.
torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat);
/// z_mean, z_log_var: (B, D) -> scalar: KL(N(μ, e^lv) ‖ N(0, 1)) summed over D, mean over B.
torch::Tensor kl_divergence(const torch::Tensor& z_mean, const torch::Tensor& z_log_var);
/// Steps over which C rises: int(total_steps · fraction) (reference: max_iterations).
std::int64_t capacity_max_iterations(std::int64_t total_steps, double fraction);
/// C(i); if max_iterations <= 0, C = capacity from step 0.
double capacity_at(double capacity, std::int64_t max_iterations, std::int64_t step);

struct VaeLoss {
  torch::Tensor total;            ///< scalar, differentiable
  torch::Tensor reconstruction;   ///< scalar
  torch::Tensor kl;               ///< scalar
  torch::Tensor capacity_loss;    ///< scalar γ·|KL - C|
  double capacity = 0.0;          ///< C used
};
/// x, x_hat: (B, 2, 64, 64); z_mean, z_log_var: (B, D).
VaeLoss vae_loss(const torch::Tensor& x, const torch::Tensor& x_hat, const torch::Tensor& z_mean,
                 const torch::Tensor& z_log_var, double capacity_now, double gamma);

}  // namespace taupe
