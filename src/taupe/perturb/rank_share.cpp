// RankShare (rank_share.h): model ownership and the sum of disjoint partial results.
#include "taupe/perturb/rank_share.h"

#include <torch/torch.h>

#include "taupe/dist/cluster.h"

namespace taupe {
namespace {

/// Sums `v` over the ranks through a tensor of `dtype` (the vector's own type where Gloo has it).
template <class T>
void sum_over_ranks(Cluster& cluster, std::vector<T>& v, torch::Dtype dtype) {
  if (v.empty()) return;
  std::vector<torch::Tensor> t{torch::from_blob(v.data(), {static_cast<std::int64_t>(v.size())}, dtype).clone()};
  cluster.all_reduce_sum(t);
  const torch::Tensor c = t[0].contiguous();
  std::copy(c.data_ptr<T>(), c.data_ptr<T>() + v.size(), v.begin());
}

}  // namespace

bool RankShare::owns_model(int m) const {
  return !cluster || rank_owns(m, cluster->rank(), cluster->world_size());
}

void RankShare::merge(std::vector<std::uint8_t>& v) const {
  if (!cluster || v.empty()) return;
  std::vector<std::int32_t> wide(v.begin(), v.end());  // class ids: sum in a type with room
  sum_over_ranks(*cluster, wide, torch::kInt32);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(wide[i]);
}
void RankShare::merge(std::vector<int>& v) const {
  if (cluster) sum_over_ranks(*cluster, v, torch::kInt32);
}
void RankShare::merge(std::vector<float>& v) const {
  if (cluster) sum_over_ranks(*cluster, v, torch::kFloat32);
}
void RankShare::merge(std::vector<double>& v) const {
  if (cluster) sum_over_ranks(*cluster, v, torch::kFloat64);
}
void RankShare::merge(std::vector<std::int64_t>& v) const {
  if (cluster) sum_over_ranks(*cluster, v, torch::kInt64);
}

}  // namespace taupe
