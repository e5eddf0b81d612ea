#pragma once
// Sums a model's gradients over the ranks while its backward pass is still running: the
// parameters are grouped into buckets of about `bucket_bytes`, filled from the last parameter of
// the forward pass (whose gradient autograd produces first); a bucket whose every gradient has
// arrived starts its all-reduce at once (Cluster::start_all_reduce_sum), and finish() waits for
// the rest. The buckets start in a fixed order, the same on every rank, whatever order the
// gradients arrive in. docs/distributed.md.
//
//   GradientReducer reducer(cluster, params, 2 << 20);
//   reducer.arm();            // before the step's backward pass
//   loss.backward();          // full buckets start their all-reduce here
//   reducer.finish();         // p.grad() = sum over the ranks, for every parameter
//
// One backward pass per step: the hooks see each parameter's gradient once (autograd sums the
// contributions of a module used twice before the hook), and a second backward pass before
// finish() is reported, not summed. A parameter that receives no gradient in a step counts as a
// zero gradient on that rank. Torch-free header.
#include <cstdint>
#include <memory>
#include <vector>

namespace at {
class Tensor;
}

namespace taupe {

class Cluster;

class GradientReducer {
 public:
  /// `params` in the order the forward pass uses them; those that do not require a gradient are
  /// left alone. Every trainable parameter must be dense and of one device and dtype.
  GradientReducer(Cluster& cluster, const std::vector<at::Tensor>& params, std::int64_t bucket_bytes);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// From now until finish(), each gradient autograd produces is copied into its bucket.
  void arm();
  /// Starts the buckets still waiting (missing gradients as zeros), waits for every bucket and
  /// writes the sums into the parameters' gradients.
  void finish();
  /// Number of buckets.
  std::size_t buckets() const;
  /// Buckets that started their all-reduce before finish() in the last step (the overlap).
  std::size_t started_early() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
