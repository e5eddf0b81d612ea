// Capacity-annealed β-VAE loss (reference §2).
#include "taupe/encoder/vae_loss.h"

#include <torch/nn.h>

#include <algorithm>
#include <cmath>

namespace taupe {

torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat) {
  return (x - x_hat).pow(2).flatten(1).sum(1).mean();
}

torch::Tensor reconstruction_loss(const torch::Tensor& x, const torch::Tensor& x_hat, const torch::Tensor& weight) {
  if (!weight.defined()) return reconstruction_loss(x, x_hat);
  return ((x - x_hat).pow(2) * weight).flatten(1).sum(1).mean();
}

torch::Tensor centre_weight_map(int size, double peak, double sigma_px) {
  const double c = (size - 1) / 2.0;
  const torch::Tensor d = torch::arange(size, torch::kDouble) - c;  // (size,)
  const torch::Tensor r2 = d.pow(2).unsqueeze(1) + d.pow(2).unsqueeze(0);  // (size, size)
  const torch::Tensor w = 1.0 + peak * torch::exp(-r2 / (2.0 * sigma_px * sigma_px));
  return (w / w.mean()).to(torch::kFloat);
}

torch::Tensor kl_divergence(const torch::Tensor& z_mean, const torch::Tensor& z_log_var) {
  return (-0.5 * (1.0 + z_log_var - z_mean.pow(2) - torch::exp(z_log_var)).sum(1)).mean();
}

std::int64_t capacity_max_iterations(std::int64_t total_steps, double fraction) {
  return static_cast<std::int64_t>(static_cast<double>(total_steps) * fraction);
}

double capacity_at(double capacity, std::int64_t max_iterations, std::int64_t step) {
  if (max_iterations <= 0) return capacity;
  const double c = capacity / static_cast<double>(max_iterations) * static_cast<double>(step);
  return std::clamp(c, 0.0, capacity);
}

VaeLoss vae_loss(const torch::Tensor& x, const torch::Tensor& x_hat, const torch::Tensor& z_mean,
                 const torch::Tensor& z_log_var, double capacity_now, double gamma,
                 const torch::Tensor& pixel_weight) {
  VaeLoss l;
  l.capacity = capacity_now;
  l.reconstruction = reconstruction_loss(x, x_hat);
  l.kl = kl_divergence(z_mean, z_log_var);
  l.capacity_loss = gamma * (l.kl - capacity_now).abs();
  const torch::Tensor fit = pixel_weight.defined() ? reconstruction_loss(x, x_hat, pixel_weight) : l.reconstruction;
  l.total = fit + l.capacity_loss;
  return l;
}

}  // namespace taupe
