#pragma once
// Helpers of the end-to-end tests that drive the built `taupe` binary as a child process
// (pipeline_kill_slowtest.cpp, chaos_slowtest.cpp).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/run_dir.h"

namespace taupe::test {

/// Starts `args` (args[0] = program) with stdout and stderr in `log` and the variables `env`
/// ("NAME=value") added to its environment; returns the pid.
inline pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log,
                   const std::vector<std::string>& env = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& kv : env) {
      const auto eq = kv.find('=');
      ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    ::dup2(::fileno(stdout), 2);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

/// Waits for `pid`: its exit status, or 128 + the signal that killed it.
inline int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// A stage's status in the run directory's manifest ("" when unknown).
inline std::string stage_status(const std::filesystem::path& dir, const std::string& stage) {
  try {
    const nlohmann::json m = nlohmann::json::parse(read_text_file(dir / RunDir::kManifestName));
    for (const auto& st : m["stages"])
      if (st.value("name", "") == stage) return st.value("status", "");
  } catch (...) {
  }
  return "";
}

/// Removes wall-clock values: every "seconds" inside the sections.
inline void erase_seconds(nlohmann::json& j) {
  if (j.is_object()) {
    j.erase("seconds");
    for (auto& [k, v] : j.items()) erase_seconds(v);
  } else if (j.is_array()) {
    for (auto& v : j) erase_seconds(v);
  }
}

/// summary.json of a run directory without its timings ("timings_s" and every "seconds").
inline nlohmann::json summary_without_timings(const std::filesystem::path& dir) {
  nlohmann::json j = nlohmann::json::parse(read_text_file(dir / "summary.json"));
  j.erase("timings_s");
  erase_seconds(j);
  return j;
}

}  // namespace taupe::test
