// Faults a lab will hit, through the `taupe` binary (docs/reliability.md):
// - two `taupe run` on one directory started together (one through a symlink): exactly one
//   runs, the other exits at once with exit code 7 naming the holder;
// - SIGTERM during training: exit 143 within 5 s, the lock released; the same command resumes;
// - a flipped byte in a finished stage's file: the next `taupe run` reruns that stage saying
//   which file changed; `taupe verify` passes, then fails (exit 9) naming a changed file;
// - a file-size limit (RLIMIT_FSIZE): taupe's own error naming the file, exit 8, no temporary;
// - a memory limit below a stage's estimate: refused before the stage with the setting named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

namespace {

/// Small budgets on top of the tiny preset (as the in-process pipeline test).
std::vector<std::string> tiny_run(const fs::path& out) {
  std::vector<std::string> a = {"run", "--preset", "tiny", "--out", out.string()};
  for (const char* s : {"encoder.epochs=4", "temporal.epochs=2", "temporal.steps_per_epoch=4", "temporal.batch_size=16",
                        "cv.folds=2", "perturb.bootstrap_reps=50", "perturb.shift_min=-2", "perturb.shift_max=2",
                        "perturb.shift_step=1", "perturb.decode_shifts=[-2, 0, 2]", "perturb.window_lengths=[1, 4]",
                        "perturb.window_shifts=[-2, 2]", "perturb.shrink_factors=[0.8, 1.0]",
                        "perturb.max_image_trajectories=2", "perturb.example_count=1"}) {
    a.push_back("--set");
    a.push_back(s);
  }
  return a;
}

/// A `taupe` child with stdout + stderr in `log`; `fsize_limit` > 0 sets RLIMIT_FSIZE first.
struct Child {
  pid_t pid = -1;
  fs::path log;
  Clock::time_point started;
  int exit_code = -1;
  double seconds = 0;

  Child(const std::vector<std::string>& args, fs::path log_file, rlim_t fsize_limit = 0) : log(std::move(log_file)) {
    started = Clock::now();
    pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (fsize_limit > 0) {
        struct rlimit rl{fsize_limit, fsize_limit};
        ::setrlimit(RLIMIT_FSIZE, &rl);
      }
      const std::string bin = taupe::test::taupe_binary().string();
      std::vector<char*> argv{const_cast<char*>(bin.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
  }
  /// Non-blocking: true once the child has ended (exit_code / seconds set).
  bool done() {
    if (exit_code >= 0) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return false;
    seconds = std::chrono::duration<double>(Clock::now() - started).count();
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  int wait() {
    while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return exit_code;
  }
  std::string output() const { return taupe::test::slurp(log); }
};

void flip_byte(const fs::path& f) {
  std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
  char c = 0;
  io.seekg(0);
  io.get(c);
  io.seekp(0);
  io.put(static_cast<char>(c ^ 0x20));
}

std::vector<fs::path> temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path());
  return out;
}

TEST(Reliability, OneWriterSigtermResumeAndVerifiedArtifacts) {
  taupe::test::TempDir tmp("taupe-reliability");
  const fs::path dir = tmp / "run";
  fs::create_directories(dir);
  fs::create_directory_symlink(dir, tmp / "alias");

  // Start-up of two processes at once (loading LibTorch), for the refusal's time budget below.
  Child v1({"--version"}, tmp / "v1.log"), v2({"--version"}, tmp / "v2.log");
  ASSERT_EQ(v1.wait(), 0);
  ASSERT_EQ(v2.wait(), 0);
  const double startup_s = std::max(v1.seconds, v2.seconds);

  // Two writers started together, one through the symlink: exactly one runs.
  Child a(tiny_run(dir), tmp / "a.log");
  Child b(tiny_run(tmp / "alias"), tmp / "b.log");
  Child* loser = nullptr;
  Child* winner = nullptr;
  const auto t0 = Clock::now();
  while (!loser && Clock::now() - t0 < std::chrono::seconds(60)) {
    if (a.done()) loser = &a, winner = &b;
    else if (b.done()) loser = &b, winner = &a;
    else std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_NE(loser, nullptr) << "neither writer ended";
  const std::string refused = loser->output();
  EXPECT_EQ(loser->exit_code, 7) << refused;
  // Refused at once, not after waiting: while the winner still runs, and within 1 s of taupe's
  // own work after the dynamic loader and LibTorch's static initialisation, which `--version`
  // pays too (0.4 s on a quiet 2-core machine; more under load — the times are printed).
  EXPECT_FALSE(winner->done()) << "the refused writer ended only after the holder";
  EXPECT_LT(loser->seconds, startup_s + 1.0) << "the refused writer took " << loser->seconds << " s";
  std::cout << "[reliability] refused writer exited after " << loser->seconds << " s (two taupe --version together: " << startup_s
            << " s)" << std::endl;
  EXPECT_THAT(refused, HasSubstr("is in use by another taupe (host "));
  EXPECT_THAT(refused, HasSubstr("pid " + std::to_string(winner->pid)));
  EXPECT_THAT(refused, HasSubstr("command: "));
  EXPECT_THAT(refused, HasSubstr("started 20"));
  EXPECT_THAT(refused, HasSubstr(fs::canonical(dir).string()));

  // SIGTERM while the winner trains the encoder (its first epoch checkpointed, three to go):
  // out within 5 s, lock released.
  const fs::path first_epoch = dir / "model" / "encoder_training" / "checkpoint.pt";
  const auto t1 = Clock::now();
  while (!fs::exists(first_epoch) && !winner->done() && Clock::now() - t1 < std::chrono::seconds(300))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(first_epoch)) << winner->output();
  ::kill(winner->pid, SIGTERM);
  const auto t2 = Clock::now();
  winner->wait();
  const double stop_s = std::chrono::duration<double>(Clock::now() - t2).count();
  std::cout << "[reliability] SIGTERM during encoder training: exit after " << stop_s << " s" << std::endl;
  EXPECT_EQ(winner->exit_code, 143) << winner->output();
  EXPECT_LT(stop_s, 5.0);
  EXPECT_THAT(winner->output(), HasSubstr("stopped by SIGTERM"));
  EXPECT_FALSE(fs::exists(dir / "taupe.lock"));

  // The same command resumes the encoder and finishes.
  Child again(tiny_run(dir), tmp / "again.log");
  ASSERT_EQ(again.wait(), 0) << again.output();
  EXPECT_THAT(again.output(), HasSubstr("encoder: resume (interrupted"));
  EXPECT_TRUE(temporaries(dir).empty());

  auto verify = taupe::test::run_taupe({"verify", dir.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("every recorded file verified"));

  // A flipped byte in one of the report stage's files: that stage reruns, saying which file.
  const json m = json::parse(taupe::test::slurp(dir / "manifest.json"));
  std::string victim;
  for (const auto& st : m["stages"])
    if (st["name"] == "report")
      for (const auto& [rel, rec] : st["files"].items())
        if (rel == "report.html") victim = rel;
  ASSERT_FALSE(victim.empty());
  flip_byte(dir / victim);
  verify = taupe::test::run_taupe({"verify", dir.string()});
  EXPECT_EQ(verify.exit_code, 9) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr(victim + ": content changed (SHA-256 differs)"));

  Child repair(tiny_run(dir), tmp / "repair.log");
  ASSERT_EQ(repair.wait(), 0) << repair.output();
  EXPECT_THAT(repair.output(), HasSubstr("report: run (its files changed since it finished: " + victim +
                                         ": content changed (SHA-256 differs)"));
  EXPECT_THAT(repair.output(), HasSubstr("perturb: skip"));
  verify = taupe::test::run_taupe({"verify", dir.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(Reliability, FileSizeLimitGivesTaupesOwnErrorAndExitCode) {
  taupe::test::TempDir tmp("taupe-fsize");
  const fs::path dir = tmp / "run";
  std::vector<std::string> args = tiny_run(dir);
  args.push_back("--stop-before");
  args.push_back("encoder");
  Child c(args, tmp / "log.txt", 256 * 1024);
  EXPECT_EQ(c.wait(), 8) << c.output();
  const std::string out = c.output();
  EXPECT_THAT(out, HasSubstr("error: cannot write " + dir.string() + "/data/"));
  EXPECT_THAT(out, HasSubstr("the file-size limit of this process (262144 bytes) was reached"));
  EXPECT_THAT(out, HasSubstr("hint: raise the limit"));
  EXPECT_TRUE(temporaries(dir).empty());
  EXPECT_FALSE(fs::exists(dir / "taupe.lock"));
}

TEST(Reliability, StageNeedingMoreMemoryThanAvailableIsRefusedNamingTheSetting) {
  taupe::test::TempDir tmp("taupe-memory");
  std::vector<std::string> args = tiny_run(tmp / "run");
  args.push_back("--set");
  args.push_back("run.memory_limit_mb=64");
  const auto r = taupe::test::run_taupe(args);
  EXPECT_EQ(r.exit_code, 8) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: stage simulate needs about"));
  EXPECT_THAT(r.err, HasSubstr("only 64 MiB is available (run.memory_limit_mb = 64)"));
  EXPECT_THAT(r.err, HasSubstr("hint: lower simulate.fovs"));
  EXPECT_FALSE(fs::exists(tmp / "run" / "data"));
}

}  // namespace
