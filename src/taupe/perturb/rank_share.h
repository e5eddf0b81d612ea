#pragma once
// Virtual perturbation on several ranks (docs/distributed.md): the fold models are dealt out
// round robin (model m on rank m % world). Each rank predicts, and for the image-space experiments
// re-encodes, only the trajectories of its own models; every output slot belongs to exactly one
// model, so the other ranks leave it zero and summing the ranks' outputs (merge) gives each rank
// the complete result. Every rank then computes the same statistics; rank 0 writes them.
// Without a cluster every model is this process's and merge does nothing.
#include <cstdint>
#include <vector>

namespace taupe {

class Cluster;

struct RankShare {
  Cluster* cluster = nullptr;

  bool distributed() const { return cluster != nullptr; }
  /// Whether this rank predicts model `m`.
  bool owns_model(int m) const;
  /// Sums disjoint partial results over the ranks, in place (a collective: every rank calls it
  /// with vectors of the same length).
  void merge(std::vector<std::uint8_t>& v) const;
  void merge(std::vector<int>& v) const;
  void merge(std::vector<float>& v) const;
  void merge(std::vector<double>& v) const;
  void merge(std::vector<std::int64_t>& v) const;
};

}  // namespace taupe
