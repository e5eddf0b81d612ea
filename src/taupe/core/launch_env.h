#pragma once
// Where this process sits in a multi-process job, read from the variables the launchers set:
//   torchrun (and torch.distributed.launch): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
//   Slurm srun: SLURM_PROCID, SLURM_STEP_NUM_TASKS (else SLURM_NTASKS), SLURM_LOCALID, and the
//               first host of SLURM_STEP_NODELIST (else SLURM_JOB_NODELIST, SLURM_NODELIST) as the
//               rendezvous host; only inside an srun step (SLURM_STEP_ID set): the batch script
//               itself is a single process even though it sees SLURM_PROCID and SLURM_NTASKS
// torchrun's variables win when RANK is set (torchrun inside a Slurm allocation); MASTER_ADDR and
// MASTER_PORT override the Slurm defaults. Without either launcher the process is rank 0 of 1.
//
//   const LaunchEnv env = read_launch_env();
//   if (env.world_size > 1) ... env.rank, env.master_addr, env.master_port
#include <functional>
#include <string>

namespace taupe {

inline constexpr int kDefaultMasterPort = 29500;  ///< torchrun's default rendezvous port

struct LaunchEnv {
  std::string launcher = "none";  ///< "none" | "torchrun" | "slurm"
  int rank = 0;                   ///< global rank, 0 .. world_size - 1
  int world_size = 1;
  int local_rank = 0;             ///< rank on this host (which GPU it takes)
  std::string master_addr = "127.0.0.1";
  int master_port = kDefaultMasterPort;

  bool distributed() const { return world_size > 1; }
  /// The CUDA device this rank takes when `visible` devices are visible: its local rank, modulo
  /// the devices (so that one rank per GPU gets its own GPU; NCCL needs that); 0 without devices.
  int cuda_device(int visible) const { return visible > 0 ? local_rank % visible : 0; }
  /// "torchrun rank 2 of 8 (local 2), rendezvous node01:29500" / "single process".
  std::string describe() const;
};

/// Reads the variables through `get` (std::getenv when empty). ConfigError naming the variable
/// and its value when one is not an integer in range (a rank outside [0, world size), a world
/// size below 1, a port outside 1..65535) or when a launcher's set is incomplete.
LaunchEnv read_launch_env(const std::function<const char*(const char*)>& get = {});

/// First host of a Slurm node list: "node[07-09,12],gpu3" -> "node07", "a,b" -> "a",
/// "gpu-[1-2]-x" -> "gpu-1-x". ConfigError on an empty list or an unbalanced bracket.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace taupe
