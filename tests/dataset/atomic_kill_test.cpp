// A process killed with SIGKILL while writing a container leaves no file under the final name.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dataset_fixtures.h"
#include "taupe/dataset/glimpses.h"

namespace taupe {
namespace {

TEST(AtomicContainers, SigkillMidWriteLeavesNoFinalFile) {
  testing_data::TempDir dir;
  const auto path = dir / "glimpses.h5";
  const auto started = dir / "started";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      GlimpseWriter w(path, {});
      for (int k = 1;; ++k) {
        w.append(testing_data::make_glimpse(k, 8, false));
        if (k == 4) std::ofstream(started) << "1";
      }
    } catch (...) {
    }
    ::_exit(0);
  }
  for (int i = 0; i < 2000 && !std::filesystem::exists(started); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(path));
  bool temp_seen = false;
  for (const auto& name : dir.files()) temp_seen |= name.find("glimpses.h5.tmp.") == 0;
  EXPECT_TRUE(temp_seen);  // the partial file exists only under its temporary name
}

}  // namespace
}  // namespace taupe
