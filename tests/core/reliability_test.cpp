// Resource and number faults: a write past the file-size limit (RLIMIT_FSIZE, in a child
// process) is one ResourceError naming the file, with its temporary removed; the memory check
// names the stage and the setting; non-finite losses / weights stop training with the step and
// the last good checkpoint; a stop request surfaces as Interrupted with 128 + signal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <vector>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/numeric_guard.h"
#include "taupe/core/resources.h"
#include "taupe/core/runtime.h"
#include "taupe/core/signals.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace taupe {
namespace {

TEST(WriteLimits, FileSizeLimitIsOneResourceErrorNamingTheFileAndNoTemporaryIsLeft) {
  test::TempDir tmp;
  const fs::path target = tmp / "big.bin";
  const fs::path report = tmp / "child.txt";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // as the taupe binary does (install_signal_handlers)
    struct rlimit rl{64 * 1024, 64 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    int code = 1;
    std::string what;
    try {
      write_text_atomic(target, std::string(1 << 20, 'x'));
    } catch (const ResourceError& e) {
      code = 0;
      what = e.what();
    } catch (const std::exception& e) {
      code = 2;
      what = e.what();
    }
    std::ofstream(report) << what;
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << WTERMSIG(status);
  const std::string what = test::slurp(report);
  EXPECT_EQ(WEXITSTATUS(status), 0) << what;
  EXPECT_THAT(what, HasSubstr("cannot write " + target.string() + ": the file-size limit"));
  EXPECT_THAT(what, HasSubstr("65536 bytes"));
  EXPECT_FALSE(fs::exists(target));
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_FALSE(is_temporary_name(e.path().filename().string())) << e.path();
}

TEST(WriteLimits, OrdinaryWriteFailureIsNotMistakenForAFullDisk) {
  test::TempDir tmp;
  EXPECT_NO_THROW(throw_if_out_of_space(tmp / "x.txt"));  // plenty of room, no size limit hit
}

TEST(TemporaryNames, RecogniseBothTemporaryForms) {
  EXPECT_TRUE(is_temporary_name("a.h5.tmp.123"));
  EXPECT_TRUE(is_temporary_name("a.h5.tmp.123.part"));
  EXPECT_FALSE(is_temporary_name("a.h5"));
  EXPECT_FALSE(is_temporary_name("a.tmp.x"));
}

TEST(MemoryCheck, RefusesNamingStageAmountsAndSetting) {
  AvailableMemory avail{512ull << 20, "MemAvailable"};
  MemoryEstimate need{2.0 * (1ull << 30), "encoder.max_patches", "120000 patches held in memory"};
  try {
    check_memory("encoder", need, avail);
    FAIL() << "not refused";
  } catch (const ResourceError& e) {
    EXPECT_EQ(e.exit_code(), kExitResource);
    EXPECT_THAT(e.what(), HasSubstr("stage encoder needs about 2.0 GiB"));
    EXPECT_THAT(e.what(), HasSubstr("only 512 MiB is available (MemAvailable)"));
    EXPECT_THAT(e.what(), HasSubstr("120000 patches"));
    EXPECT_THAT(e.hint(), HasSubstr("lower encoder.max_patches"));
  }
  need.bytes = 100.0 * (1 << 20);
  EXPECT_NO_THROW(check_memory("encoder", need, avail));
  EXPECT_NO_THROW(check_memory("encoder", MemoryEstimate{1e18, "x", "y"}, AvailableMemory{}));  // unknown: no check
}

TEST(MemoryCheck, AvailableMemoryIsReadAndCappedBySetting) {
  const AvailableMemory m = available_memory();
  EXPECT_GT(m.bytes, 0u);
  EXPECT_FALSE(m.source.empty());
  const AvailableMemory capped = available_memory(1);
  EXPECT_EQ(capped.bytes, 1u << 20);
  EXPECT_EQ(capped.source, "run.memory_limit_mb = 1");
}

TEST(PeakMemory, APeakIsMeasuredAndCanBeStartedAgain) {
  // 200 MiB mapped, touched and unmapped (directly, so no allocator keeps it): the peak stays
  // until it is reset (where the kernel allows).
  ASSERT_GT(peak_rss_bytes(), 0) << "no VmHWM in /proc/self/status";
  const std::size_t bytes = 200u << 20;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  for (std::size_t i = 0; i < bytes; i += 4096) static_cast<char*>(p)[i] = 1;
  EXPECT_GE(peak_rss_bytes(), 190.0 * (1 << 20));
  munmap(p, bytes);
  const double high = peak_rss_bytes();
  EXPECT_GE(high, 190.0 * (1 << 20)) << "the peak outlives the memory";
  if (!reset_peak_rss()) GTEST_SKIP() << "/proc/self/clear_refs is not writable here";
  EXPECT_LT(peak_rss_bytes(), high - 150.0 * (1 << 20));
}

TEST(PeakMemory, FreedHeapIsGivenBackBetweenStages) {
  // taupe's malloc tuning (never trim, never mmap): 160 MiB of heap blocks, touched and freed,
  // stay resident until release_free_heap() returns them.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  const double before = resident_bytes();
  ASSERT_GT(before, 0) << "no VmRSS in /proc/self/status";
  std::vector<char*> blocks;
  for (int i = 0; i < 40; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(4u << 20)));
    ASSERT_NE(blocks.back(), nullptr);
    for (std::size_t k = 0; k < (4u << 20); k += 4096) blocks.back()[k] = 1;
  }
  for (char* b : blocks) std::free(b);
  const double kept = resident_bytes();
  if (kept < before + 120.0 * (1 << 20)) GTEST_SKIP() << "this allocator returned the memory by itself";
  ASSERT_TRUE(release_free_heap());
  EXPECT_LT(resident_bytes(), kept - 120.0 * (1 << 20));
}

TEST(NumericGuard, NonFiniteLossNamesStepAndLastGoodCheckpoint) {
  EXPECT_NO_THROW(require_finite_loss(1.5, "encoder training", 3, {}, "lower x"));
  try {
    require_finite_loss(std::nan(""), "encoder training", 37, {"/run/model/checkpoint.pt", 30}, "lower encoder.learning_rate");
    FAIL() << "NaN accepted";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("encoder training: loss is nan at step 37"));
    EXPECT_THAT(e.what(), HasSubstr("last good checkpoint: /run/model/checkpoint.pt (step 30)"));
    EXPECT_EQ(e.hint(), "lower encoder.learning_rate");
  }
  try {
    require_finite_loss(std::numeric_limits<double>::infinity(), "TCN training of fold_01", 0, {}, "h");
    FAIL() << "Inf accepted";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), HasSubstr("loss is inf at step 0"));
    EXPECT_THAT(e.what(), HasSubstr("none yet"));
  }
  EXPECT_NO_THROW(require_finite_weights({}, "w", {}, "h"));
  EXPECT_THROW(require_finite_weights({"encoder.conv1.weight"}, "w", {}, "h"), ModelError);
}

TEST(StopFlag, RequestSurfacesAsInterruptedWithSignalExitCode) {
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
  EXPECT_NO_THROW(throw_if_stop_requested("nothing"));
  request_stop(SIGTERM);
  EXPECT_TRUE(stop_requested());
  try {
    throw_if_stop_requested("checkpoint saved at step 4");
    FAIL() << "no Interrupted";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.exit_code(), 143);
    EXPECT_EQ(e.signal_number(), SIGTERM);
    EXPECT_THAT(e.what(), HasSubstr("stopped by SIGTERM; checkpoint saved at step 4"));
  }
  clear_stop_request();
  request_stop(SIGINT);
  try {
    throw_if_stop_requested("");
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.exit_code(), kExitInterrupted);
  }
  clear_stop_request();
}

}  // namespace
}  // namespace taupe
