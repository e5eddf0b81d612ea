#pragma once
// The ranks of a multi-process run and how they talk, on PyTorch's c10d: a TCPStore hosted by
// rank 0 at MASTER_ADDR:MASTER_PORT (core/launch_env.h) carries the coordination (who has
// joined, which stage may start, who failed, who is alive), and process groups over that store
// carry the tensor collectives (gradient all-reduce, gathers): Gloo for CPU tensors, NCCL for
// CUDA tensors in a CUDA LibTorch built with it. docs/distributed.md.
//
//   auto cluster = Cluster::connect(read_launch_env(), ClusterOptions{});
//   cluster->all_reduce_sum(grads);          // every rank, same tensors in the same order
//   cluster->barrier("temporal/trained");    // every rank, same name
//
// Failure is part of the contract: a rank that catches an error publishes it
// (publish_failure); every wait and collective of the others then throws DistributedError
// naming that rank. A rank that dies silently (SIGKILL, a lost node) stops its heartbeat and is
// named the same way; a rank that loses rank 0 (which hosts the store) says so. Nothing here
// waits forever: the rendezvous and every collective are bounded by ClusterOptions::timeout;
// the stage waits (a rank waiting while rank 0 simulates) are unbounded but watch heartbeats.
// Torch-free header (tensors are forward-declared).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "taupe/core/launch_env.h"

namespace at {
class Tensor;
}

namespace taupe {

/// A collective started without waiting (Cluster::start_all_reduce_sum). Its tensor must stay
/// untouched until wait() returns; a handle dropped without wait() leaves the collective to finish
/// on the process group's own threads.
class PendingCollective {
 public:
  PendingCollective() = default;
  explicit PendingCollective(std::function<void()> wait) : wait_(std::move(wait)) {}
  /// Blocks until the collective is done. Fails like Cluster's own collectives (DistributedError
  /// naming a failed or silent rank, bounded by ClusterOptions::timeout). A second call returns.
  void wait() {
    if (!wait_) return;
    auto w = std::move(wait_);
    wait_ = nullptr;
    w();
  }
  bool pending() const { return static_cast<bool>(wait_); }

 private:
  std::function<void()> wait_;
};

struct ClusterOptions {
  /// The rendezvous (every rank joined) and each collective must finish within this time.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  /// A rank whose heartbeat (one per second) has not advanced for this long is reported dead.
  std::chrono::milliseconds heartbeat_stale{std::chrono::seconds(30)};
};

class Cluster {
 public:
  /// Joins the job described by `env` (which must be distributed): rank 0 hosts the store, every
  /// rank connects, waits until all `world_size` ranks have joined and creates the Gloo group.
  /// DistributedError naming MASTER_ADDR:MASTER_PORT, the ranks that did not join and the
  /// timeout when the rendezvous is not complete in time or cannot be reached.
  static std::unique_ptr<Cluster> connect(const LaunchEnv& env, const ClusterOptions& opts = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int rank() const;
  int world_size() const;
  bool leader() const { return rank() == 0; }
  const LaunchEnv& env() const;
  /// "rank 1 of 2".
  std::string describe() const;

  // ---- coordination (strings through the store) ------------------------------------------------
  /// Makes `value` available under `key` to every rank.
  void publish(const std::string& key, const std::string& value);
  /// Waits until `key` is published and returns its value. No time limit (rank 0 may run a long
  /// stage meanwhile), but throws DistributedError as soon as a rank has published a failure or
  /// stopped its heartbeat, or rank 0 is unreachable.
  std::string await(const std::string& key);
  /// Returns when every rank has called barrier(name); watches the ranks like await().
  void barrier(const std::string& name);
  /// Tells the other ranks that this one failed (`what` is shown by them). Never throws. On rank 0
  /// it also waits briefly (a few seconds at most) until the others have seen it, because the
  /// store lives in rank 0's process.
  void publish_failure(const std::string& what) noexcept;
  /// Ends the job cleanly: a last barrier, so that rank 0 (the store) outlives every other rank's
  /// last wait.
  void finish();

  // ---- tensor collectives (Gloo; same tensors, same order on every rank) ----------------------
  /// In place: every tensor becomes the sum over the ranks. Dense tensors; they are bucketed by
  /// device and dtype, CPU buckets go through Gloo, CUDA buckets through NCCL where this LibTorch
  /// has it (else Gloo).
  void all_reduce_sum(std::vector<at::Tensor>& tensors);
  /// Starts summing `flat` (one contiguous dense tensor) over the ranks in place and returns at
  /// once; the reduction runs on the process group's threads (Gloo) or stream (NCCL). Started
  /// collectives follow the same rule as the others: every rank starts the same tensors in the
  /// same order.
  PendingCollective start_all_reduce_sum(const at::Tensor& flat);
  /// In place: every rank's tensors become `root`'s.
  void broadcast(std::vector<at::Tensor>& tensors, int root);
  /// Every rank's `t` (same shape and dtype everywhere), in rank order.
  std::vector<at::Tensor> all_gather(const at::Tensor& t);

 private:
  struct Impl;
  explicit Cluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Whether work item `index` (a fold, a model) belongs to `rank` of `world`: round robin.
inline bool rank_owns(int index, int rank, int world) { return world <= 1 || index % world == rank; }

}  // namespace taupe
