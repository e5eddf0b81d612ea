// Atomic writes: content, cleanup on exceptions, and SIGKILL in the middle of a write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace taupe {
namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFile, WritesContentAndLeavesNoTemporary) {
  test::TempDir dir;
  const fs::path f = dir / "sub/dir/out.txt";  // parents are created
  write_text_atomic(f, "hello\n");
  EXPECT_EQ(read_text_file(f), "hello\n");
  write_text_atomic(f, "replaced");
  EXPECT_EQ(read_text_file(f), "replaced");
  EXPECT_EQ(names_in(dir / "sub/dir"), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, TempPathIsASiblingWithPid) {
  const fs::path t = temp_path_for("/a/b/c.h5");
  EXPECT_EQ(t.parent_path(), fs::path("/a/b"));
  EXPECT_EQ(t.filename().string(), "c.h5.tmp." + std::to_string(::getpid()));
}

TEST(AtomicFile, ExceptionInWriterRemovesTemporaryAndKeepsOldFile) {
  test::TempDir dir;
  const fs::path f = dir / "model.bin";
  write_text_atomic(f, "old");
  EXPECT_THROW(write_atomic(f,
                            [](const fs::path& tmp) {
                              std::ofstream(tmp) << "partial";
                              throw DataError("writer failed");
                            }),
               DataError);
  EXPECT_EQ(read_text_file(f), "old");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"model.bin"});
}

TEST(AtomicFile, WriterThatProducesNothingIsAnIoError) {
  test::TempDir dir;
  EXPECT_THROW(write_atomic(dir / "x", [](const fs::path&) {}), IoError);
  EXPECT_FALSE(fs::exists(dir / "x"));
}

TEST(AtomicFile, ReadMissingFileNamesIt) {
  try {
    read_text_file("/nonexistent/taupe/file.txt");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/taupe/file.txt"));
  }
}

/// Forks a child that writes a large file slowly through write_atomic; kills it with SIGKILL
/// once the temporary has grown; returns the child's pid (reaped).
pid_t kill_child_mid_write(const fs::path& final_path) {
  const fs::path dir = final_path.parent_path();
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      write_atomic(final_path, [](const fs::path& tmp) {
        std::ofstream out(tmp, std::ios::binary);
        const std::string chunk(1 << 20, 'x');
        for (int i = 0; i < 2000; ++i) {  // 2 GB if never killed: it will be
          out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
          out.flush();
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      });
    } catch (...) {
    }
    _exit(0);
  }
  // Wait until the child's temporary holds at least 4 MB: it is in the middle of the write.
  const fs::path tmp = dir / (final_path.filename().string() + ".tmp." + std::to_string(pid));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::error_code ec;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(tmp, ec) && fs::file_size(tmp, ec) >= (4u << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(fs::exists(tmp)) << "child never started writing";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  return pid;
}

TEST(AtomicFile, SigkillMidWriteLeavesNoFileUnderFinalName) {
  test::TempDir dir;
  const fs::path f = dir / "glimpses.h5";
  const pid_t pid = kill_child_mid_write(f);
  EXPECT_FALSE(fs::exists(f));
  // At most the child's temporary remains, and it is recognisably temporary.
  for (const auto& name : names_in(dir.path()))
    EXPECT_EQ(name, "glimpses.h5.tmp." + std::to_string(pid));
  // The next run cleans it up (its writer is dead).
  remove_stale_temporaries(dir.path());
  EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(AtomicFile, SigkillMidRewriteKeepsPreviousCompleteFile) {
  test::TempDir dir;
  const fs::path f = dir / "manifest.json";
  write_text_atomic(f, "{\"complete\": true}\n");
  kill_child_mid_write(f);
  EXPECT_EQ(read_text_file(f), "{\"complete\": true}\n");
}

TEST(AtomicFile, StaleTemporaryCleanupKeepsLiveWritersAndOtherFiles) {
  test::TempDir dir;
  dir.write("a.txt", "a");
  dir.write("b.txt.tmp." + std::to_string(::getpid()), "ours, live");
  dir.write("c.txt.tmp.notapid", "not a temporary of ours");
  // pid 1 is alive (init): its temporaries are never touched.
  dir.write("d.txt.tmp.1", "live");
  dir.write("e.txt.tmp.999999999", "dead writer");
  remove_stale_temporaries(dir.path());
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"a.txt", "b.txt.tmp." + std::to_string(::getpid()), "c.txt.tmp.notapid",
                                      "d.txt.tmp.1"}));
}

}  // namespace
}  // namespace taupe
