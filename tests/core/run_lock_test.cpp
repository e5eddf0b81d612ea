// Run directory lock: a second writer is refused naming the holder (also through a symlink),
// a stale lock of a dead process on this host is taken over, a holder on another host is
// reported with its heartbeat age and taken only with force_unlock; stage subcommands lock the
// enclosing run directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/run_lock.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace taupe {
namespace {

/// The pid of a process that has already ended (and been reaped).
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<long>(pid);
}

void write_holder(const fs::path& dir, const std::string& host, long pid) {
  fs::create_directories(dir);
  write_text_atomic(dir / kLockFileName, json{{"host", host}, {"pid", pid}, {"command", "taupe run --out old"},
                                              {"started", "2026-01-01T00:00:00Z"}}
                                             .dump());
}

TEST(RunLock, SecondWriterIsRefusedNamingTheHolderAlsoThroughASymlink) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  RunLock first(dir, "taupe run --out run");
  EXPECT_TRUE(fs::exists(dir / kLockFileName));
  EXPECT_TRUE(first.taken_over().empty());
  fs::create_directory_symlink(dir, tmp / "alias");
  for (const fs::path& p : {dir, tmp / "alias"}) {
    try {
      RunLock second(p, "taupe run --out alias");
      FAIL() << "second lock of " << p << " was granted";
    } catch (const RunLockedError& e) {
      EXPECT_EQ(e.exit_code(), kExitLocked);
      EXPECT_THAT(e.what(), HasSubstr("host " + host_name()));
      EXPECT_THAT(e.what(), HasSubstr("pid " + std::to_string(::getpid())));
      EXPECT_THAT(e.what(), HasSubstr("command: taupe run --out run"));
      EXPECT_THAT(e.what(), HasSubstr("started 20"));
      EXPECT_THAT(e.what(), HasSubstr(fs::canonical(dir).string()));
    }
  }
}

TEST(RunLock, ReleaseRemovesTheLockFileAndTheNextWriterGetsIt) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  { RunLock a(dir, "a"); }
  EXPECT_FALSE(fs::exists(dir / kLockFileName));
  RunLock b(dir, "b");
  EXPECT_TRUE(b.taken_over().empty());
  LockHolder h;
  ASSERT_TRUE(read_lock_holder(dir, h));
  EXPECT_EQ(h.command, "b");
  EXPECT_EQ(h.pid, static_cast<long>(::getpid()));
}

TEST(RunLock, StaleLockOfADeadProcessOnThisHostIsTakenOver) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  const long pid = dead_pid();
  write_holder(dir, host_name(), pid);
  RunLock lock(dir, "taupe run");
  EXPECT_THAT(lock.taken_over(), HasSubstr("pid " + std::to_string(pid)));
  EXPECT_THAT(lock.taken_over(), HasSubstr("no longer running"));
  LockHolder h;
  ASSERT_TRUE(read_lock_holder(dir, h));
  EXPECT_EQ(h.pid, static_cast<long>(::getpid()));
}

TEST(RunLock, HolderOnAnotherHostIsReportedWithItsAgeAndTakenOnlyWhenForced) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  write_holder(dir, "node-17.cluster", 4242);
  try {
    RunLock lock(dir, "taupe run");
    FAIL() << "a lock of another host was taken without force_unlock";
  } catch (const RunLockedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("another host"));
    EXPECT_THAT(e.what(), HasSubstr("host node-17.cluster, pid 4242"));
    EXPECT_THAT(e.what(), HasSubstr("heartbeat was last seen"));
    EXPECT_THAT(e.hint(), HasSubstr("--force-unlock"));
  }
  RunLock forced(dir, "taupe run", /*force_unlock=*/true);
  EXPECT_THAT(forced.taken_over(), HasSubstr("node-17.cluster"));
}

TEST(RunLock, EmptyLockFileOfAWriterKilledWhileLockingIsTakenOver) {
  test::TempDir tmp;
  tmp.write("run/taupe.lock", "");
  RunLock lock(tmp / "run", "taupe run");
  EXPECT_THAT(lock.taken_over(), HasSubstr("incomplete"));
}

TEST(RunLock, RunDirHoldsTheLockUntilDestroyed) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  {
    RunDirOptions o;
    o.command_line = "taupe run --preset tiny";
    o.log_to_file = false;
    RunDir rd(dir, o);
    EXPECT_THROW(RunLock(dir, "other"), RunLockedError);
    EXPECT_THROW(RunDir(dir, o), RunLockedError);
  }
  EXPECT_FALSE(fs::exists(dir / kLockFileName));
  EXPECT_NO_THROW(RunLock(dir, "other"));
}

TEST(RunLock, StageSubcommandsLockTheEnclosingRunDirectory) {
  test::TempDir tmp;
  const fs::path run = tmp / "run";
  {
    RunDirOptions o;
    o.log_to_file = false;
    RunDir rd(run, o);
    rd.finish(true);
  }
  fs::create_directories(run / "model");
  tmp.write("run/model/manifest.json", R"({"format": "taupe.model", "format_version": 1})");
  EXPECT_EQ(lock_root_for(run / "model"), fs::canonical(run));
  EXPECT_EQ(lock_root_for(run / "perturb"), fs::canonical(run));
  EXPECT_EQ(lock_root_for(run / "out.csv", /*output_is_file=*/true), fs::canonical(run));
  EXPECT_EQ(lock_root_for(tmp / "elsewhere" / "x"), fs::weakly_canonical(tmp / "elsewhere" / "x"));
}

TEST(RunLock, BareFileNameLocksTheWorkingDirectory) {
  test::TempDir tmp;
  const fs::path before = fs::current_path();
  fs::current_path(tmp.path());
  fs::path root;
  EXPECT_NO_THROW(root = lock_root_for("pred.csv", /*output_is_file=*/true));
  fs::current_path(before);
  EXPECT_EQ(root, fs::canonical(tmp.path()));
}

}  // namespace
}  // namespace taupe
