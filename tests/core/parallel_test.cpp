// parallel_for: every index exactly once, the per-thread set-up, and the first exception.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "taupe/core/parallel.h"

namespace taupe {
namespace {

TEST(ParallelFor, RunsEveryIndexOnceWithSetupOncePerThread) {
  for (int threads : {1, 2, 5}) {
    std::vector<std::atomic<int>> hits(37);
    std::atomic<int> setups{0};
    std::mutex m;
    std::set<std::thread::id> ids;
    parallel_for(
        37, threads,
        [&](int i) {
          hits[static_cast<std::size_t>(i)]++;
          std::lock_guard<std::mutex> l(m);
          ids.insert(std::this_thread::get_id());
        },
        [&] { setups++; });
    for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
    // One set-up per worker thread (none inline), at most `threads` workers.
    if (threads == 1) EXPECT_EQ(setups.load(), 0);
    else EXPECT_EQ(setups.load(), threads);
    EXPECT_LE(static_cast<int>(ids.size()), threads);
  }
}

TEST(ParallelFor, RethrowsTheFirstExceptionAndStopsTakingIndices) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(1000, 2,
                            [&](int i) {
                              ran++;
                              if (i == 3) throw std::runtime_error("boom");
                              // Real work per index: without it the other thread can take all
                              // 1000 trivial indices before the throwing one records its error.
                              std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 1000);
  EXPECT_THROW(parallel_for(3, 1, [](int) { throw std::logic_error("inline"); }), std::logic_error);
  EXPECT_NO_THROW(parallel_for(0, 4, [](int) { FAIL(); }));
}

}  // namespace
}  // namespace taupe
