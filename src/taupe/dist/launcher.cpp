// The local launcher (launcher.h): fork/exec with torchrun's variables, first-failure teardown.
#include "taupe/dist/launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/signals.h"

extern char** environ;

namespace taupe {
namespace {

using Clock = std::chrono::steady_clock;

/// The launcher's environment with the rank's variables set (replacing any inherited value) and
/// the Slurm rank variables removed, so that the child reads exactly this job.
std::vector<std::string> rank_environment(int rank, int nproc, int port) {
  const std::map<std::string, std::string> set = {
      {"RANK", std::to_string(rank)},       {"WORLD_SIZE", std::to_string(nproc)},
      {"LOCAL_RANK", std::to_string(rank)}, {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
      {"MASTER_ADDR", "127.0.0.1"},         {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (set.count(key) || key == "SLURM_PROCID" || key == "SLURM_NTASKS" || key == "SLURM_LOCALID") continue;
    env.push_back(kv);
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

pid_t spawn_rank(const std::vector<std::string>& command, int rank, int nproc, int port) {
  std::vector<std::string> args = command, env = rank_environment(rank, nproc, port);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) throw Error("--nproc: cannot start rank " + std::to_string(rank) + " (" + command[0] + "): " + std::strerror(rc));
  return pid;
}

std::string how(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("--nproc: no socket for a free port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) throw Error(std::string("--nproc: cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
  return ntohs(a.sin_port);
}

void launch_local(const LocalLaunchOptions& opts) {
  if (opts.nproc < 1 || opts.command.empty()) throw ConfigError("--nproc: needs at least one rank and a command");
  const int port = free_local_port();
  std::map<pid_t, int> running;  // pid -> rank
  for (int r = 0; r < opts.nproc; ++r) running[spawn_rank(opts.command, r, opts.nproc, port)] = r;
  log_info("--nproc: started " + std::to_string(opts.nproc) + " ranks on 127.0.0.1:" + std::to_string(port));
  int failed_rank = -1, failed_status = 0;
  bool terminating = false;
  Clock::time_point kill_at = Clock::time_point::max();
  auto stop_all = [&](int signal) {
    for (const auto& [pid, r] : running) ::kill(pid, signal);
  };
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const int r = running.at(pid);
      running.erase(pid);
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && failed_rank < 0) failed_rank = r, failed_status = status;
      if (!ok) log_warn("--nproc: rank " + std::to_string(r) + " " + how(status));
      continue;
    }
    if (pid < 0 && errno != EINTR) throw Error(std::string("--nproc: waitpid failed: ") + std::strerror(errno));
    if (!terminating && (failed_rank >= 0 || stop_requested())) {  // first failure or a stop: everyone stops
      terminating = true;
      stop_all(SIGTERM);
      kill_at = Clock::now() + opts.grace;
    }
    if (terminating && Clock::now() > kill_at) {
      stop_all(SIGKILL);
      kill_at = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (stop_requested()) throw_if_stop_requested("every rank stopped at its safe point");
  if (failed_rank >= 0)
    throw DistributedError("--nproc: rank " + std::to_string(failed_rank) + " " + how(failed_status) +
                               "; the other ranks were stopped",
                           "its own message above says why; rerun the same command to resume");
}

}  // namespace taupe
