#include "taupe/core/launch_env.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

using Getter = std::function<const char*(const char*)>;

/// The variable as an integer in [lo, hi]; `fallback` when unset. ConfigError naming it otherwise.
int int_var(const Getter& get, const char* name, long lo, long hi, int fallback) {
  const char* v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || x < lo || x > hi)
    throw ConfigError(std::string("environment variable ") + name + " = \"" + v + "\": expected an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(x);
}

std::string str_var(const Getter& get, const char* name, const std::string& fallback) {
  const char* v = get(name);
  return v && *v ? std::string(v) : fallback;
}

void check_rank(const LaunchEnv& e, const char* rank_var, const char* world_var) {
  if (e.rank >= e.world_size)
    throw ConfigError(std::string("environment: ") + rank_var + " = " + std::to_string(e.rank) + " is not below " +
                      world_var + " = " + std::to_string(e.world_size));
}

}  // namespace

std::string LaunchEnv::describe() const {
  if (launcher == "none") return "single process";
  return launcher + " rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local " +
         std::to_string(local_rank) + "), rendezvous " + master_addr + ":" + std::to_string(master_port);
}

std::string first_slurm_host(const std::string& nodelist) {
  if (nodelist.empty()) throw ConfigError("Slurm node list is empty");
  std::string host;
  for (std::size_t i = 0; i < nodelist.size(); ++i) {
    const char c = nodelist[i];
    if (c == ',') break;
    if (c != '[') {
      host += c;
      continue;
    }
    const std::size_t close = nodelist.find(']', i);
    if (close == std::string::npos) throw ConfigError("Slurm node list \"" + nodelist + "\": unbalanced '['");
    const std::string range = nodelist.substr(i + 1, close - i - 1);
    host += range.substr(0, range.find_first_of(",-"));  // the first number of the first range
    i = close;
  }
  if (host.empty()) throw ConfigError("Slurm node list \"" + nodelist + "\": no host before ','");
  return host;
}

LaunchEnv read_launch_env(const Getter& given) {
  const Getter get = given ? given : Getter([](const char* n) -> const char* { return std::getenv(n); });
  constexpr long kMaxRanks = std::numeric_limits<int>::max();
  LaunchEnv e;
  if (get("RANK")) {
    e.launcher = "torchrun";
    if (!get("WORLD_SIZE")) throw ConfigError("environment: RANK is set but WORLD_SIZE is not (torchrun sets both)");
    e.world_size = int_var(get, "WORLD_SIZE", 1, kMaxRanks, 1);
    e.rank = int_var(get, "RANK", 0, kMaxRanks, 0);
    e.local_rank = int_var(get, "LOCAL_RANK", 0, kMaxRanks, 0);
    check_rank(e, "RANK", "WORLD_SIZE");
  } else if (get("SLURM_STEP_ID") && get("SLURM_PROCID") && (get("SLURM_STEP_NUM_TASKS") || get("SLURM_NTASKS"))) {
    // A task of an srun step. The batch script itself also carries SLURM_PROCID = 0 and the
    // job's SLURM_NTASKS but no step id: a plain `taupe run` there is one process, not rank 0
    // of ranks that will never come.
    e.launcher = "slurm";
    const char* world_var = get("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
    e.world_size = int_var(get, world_var, 1, kMaxRanks, 1);
    e.rank = int_var(get, "SLURM_PROCID", 0, kMaxRanks, 0);
    e.local_rank = int_var(get, "SLURM_LOCALID", 0, kMaxRanks, 0);
    check_rank(e, "SLURM_PROCID", world_var);
    // The step's nodes first: a step may run on part of the job's nodes, and its rank 0 is on
    // the first of them.
    const std::string nodes = str_var(get, "SLURM_STEP_NODELIST",
                                      str_var(get, "SLURM_JOB_NODELIST", str_var(get, "SLURM_NODELIST", "")));
    if (!nodes.empty()) e.master_addr = first_slurm_host(nodes);
  } else {
    return e;
  }
  e.master_addr = str_var(get, "MASTER_ADDR", e.master_addr);
  e.master_port = int_var(get, "MASTER_PORT", 1, 65535, kDefaultMasterPort);
  return e;
}

}  // namespace taupe
