#pragma once
// `taupe run --nproc N`: the local launcher. It starts N copies of the command as ranks 0..N-1 of
// one job on this machine, with the variables torchrun would set (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR = 127.0.0.1, MASTER_PORT = a free port), so the ranks meet through
// the same rendezvous as under torchrun or Slurm (dist/cluster.h). For tests and for one machine
// with several GPUs; across machines use torchrun or srun (docs/distributed.md).
#include <chrono>
#include <string>
#include <vector>

namespace taupe {

struct LocalLaunchOptions {
  int nproc = 2;
  /// The command of every rank; command[0] is the executable.
  std::vector<std::string> command;
  /// After the first rank fails, how long the others get after SIGTERM before SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(10)};
};

/// Runs the ranks and waits for all of them. When one exits non-zero or is killed, the others
/// get SIGTERM (they save a checkpoint at their next safe point) and then SIGKILL after `grace`;
/// a SIGINT / SIGTERM to the launcher is passed on the same way. Returns normally when every
/// rank exited 0; otherwise throws DistributedError naming the first rank that failed and how
/// (exit status or signal). Throws Error when a rank cannot be started.
void launch_local(const LocalLaunchOptions& opts);

/// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_local_port();

}  // namespace taupe
