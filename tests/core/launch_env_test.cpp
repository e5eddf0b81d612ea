// Rank, world size and rendezvous from the torchrun and Slurm variables.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/core/launch_env.h"

namespace taupe {
namespace {

/// A fake environment.
struct Env {
  std::map<std::string, std::string> vars;
  LaunchEnv read() const {
    return read_launch_env([this](const char* n) -> const char* {
      auto it = vars.find(n);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
  }
};

TEST(LaunchEnv, NoLauncherIsRankZeroOfOne) {
  const LaunchEnv e = Env{}.read();
  EXPECT_EQ(e.launcher, "none");
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.describe(), "single process");
}

TEST(LaunchEnv, TorchrunVariables) {
  const LaunchEnv e = Env{{{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.7"},
                           {"MASTER_PORT", "29611"}}}
                          .read();
  EXPECT_EQ(e.launcher, "torchrun");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29611);
  EXPECT_TRUE(e.distributed());
  EXPECT_EQ(e.describe(), "torchrun rank 5 of 8 (local 1), rendezvous 10.0.0.7:29611");
}

TEST(LaunchEnv, SlurmVariablesTakeTheFirstHostOfTheJob) {
  const LaunchEnv e = Env{{{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                           {"SLURM_JOB_NODELIST", "gpu[07-08,12],cpu3"}}}
                          .read();
  EXPECT_EQ(e.launcher, "slurm");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "gpu07");
  EXPECT_EQ(e.master_port, kDefaultMasterPort);
}

TEST(LaunchEnv, TorchrunWinsInsideASlurmAllocationAndMasterAddrOverridesSlurm) {
  const LaunchEnv t = Env{{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "9"}}}.read();
  EXPECT_EQ(t.launcher, "torchrun");
  EXPECT_EQ(t.world_size, 2);
  const LaunchEnv s = Env{{{"SLURM_STEP_ID", "1"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_NODELIST", "a,b"},
                           {"MASTER_ADDR", "login1"}, {"MASTER_PORT", "1234"}}}
                          .read();
  EXPECT_EQ(s.master_addr, "login1");
  EXPECT_EQ(s.master_port, 1234);
}

TEST(LaunchEnv, BadValuesNameTheVariable) {
  auto message = [](const Env& env) {
    try {
      env.read();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(Env{{{"RANK", "x"}, {"WORLD_SIZE", "2"}}}),
            "environment variable RANK = \"x\": expected an integer in [0, 2147483647]");
  EXPECT_EQ(message(Env{{{"RANK", "2"}, {"WORLD_SIZE", "2"}}}), "environment: RANK = 2 is not below WORLD_SIZE = 2");
  EXPECT_EQ(message(Env{{{"RANK", "0"}}}), "environment: RANK is set but WORLD_SIZE is not (torchrun sets both)");
  EXPECT_EQ(message(Env{{{"RANK", "0"}, {"WORLD_SIZE", "0"}}}),
            "environment variable WORLD_SIZE = \"0\": expected an integer in [1, 2147483647]");
  EXPECT_EQ(message(Env{{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}}),
            "environment variable MASTER_PORT = \"70000\": expected an integer in [1, 65535]");
  EXPECT_EQ(message(Env{{{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}}),
            "environment: SLURM_PROCID = 4 is not below SLURM_NTASKS = 4");
}

TEST(LaunchEnv, TheBatchScriptIsOneProcessAndAStepUsesItsOwnTasksAndNodes) {
  // sbatch --ntasks=4: the batch script sees SLURM_PROCID = 0 and SLURM_NTASKS = 4 but is no step.
  const LaunchEnv batch = Env{{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_NODELIST", "n[1-2]"}}}.read();
  EXPECT_EQ(batch.launcher, "none");
  EXPECT_FALSE(batch.distributed());
  // srun -n 2 inside that job: the step's task count and first node.
  const LaunchEnv step = Env{{{"SLURM_STEP_ID", "3"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"},
                              {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_JOB_NODELIST", "n[1-2]"},
                              {"SLURM_STEP_NODELIST", "n2"}}}
                             .read();
  EXPECT_EQ(step.world_size, 2);
  EXPECT_EQ(step.rank, 1);
  EXPECT_EQ(step.master_addr, "n2");
}

TEST(LaunchEnv, EachLocalRankTakesItsOwnGpu) {
  LaunchEnv e;
  EXPECT_EQ(e.cuda_device(0), 0);
  EXPECT_EQ(e.cuda_device(4), 0);
  e.local_rank = 3;
  EXPECT_EQ(e.cuda_device(4), 3);
  EXPECT_EQ(e.cuda_device(2), 1);  // more ranks than GPUs: shared round robin
  EXPECT_EQ(e.cuda_device(0), 0);
}

TEST(LaunchEnv, FirstSlurmHost) {
  EXPECT_EQ(first_slurm_host("node01"), "node01");
  EXPECT_EQ(first_slurm_host("a,b,c"), "a");
  EXPECT_EQ(first_slurm_host("node[07-09,12],gpu3"), "node07");
  EXPECT_EQ(first_slurm_host("node[3,1]"), "node3");
  EXPECT_EQ(first_slurm_host("gpu-[1-2]-x"), "gpu-1-x");
  EXPECT_THROW(first_slurm_host(""), ConfigError);
  EXPECT_THROW(first_slurm_host("node[1-2"), ConfigError);
  EXPECT_THROW(first_slurm_host(",a"), ConfigError);
}

}  // namespace
}  // namespace taupe
