// Sweep members, their names and the job-array index (validate/sweep.h).
#include "taupe/validate/sweep.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/fixtures.h"
#include "taupe/core/errors.h"

namespace taupe::validate {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, MembersAreInputMajorSeedMinorNamedAfterTheirInputs) {
  test::TempDir t("taupe-sweep");
  fs::create_directories(t / "movies/a");
  t.write("movies/b.h5", "x");
  SweepSpec s;
  s.seeds = {2, 5};
  s.inputs = {t / "movies/a", t / "movies/b.h5"};
  const auto m = sweep_members(s, "OUT");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].name, "a/seed-2");
  EXPECT_EQ(m[1].name, "a/seed-5");
  EXPECT_EQ(m[2].name, "b/seed-2");
  EXPECT_EQ(m[3].dir, fs::path("OUT/b/seed-5"));
  EXPECT_EQ(m[3].seed, 5);
  EXPECT_EQ(m[3].data, t / "movies/b.h5");

  SweepSpec seeds_only;
  seeds_only.seeds = {1, 2, 3};
  EXPECT_EQ(sweep_members(seeds_only, "OUT")[2].name, "seed-3");
  EXPECT_TRUE(sweep_members(seeds_only, "OUT")[2].data.empty());
}

TEST(Sweep, CollidingInputNamesUseTheirPathsBelowTheCommonParent) {
  test::TempDir t("taupe-sweep");
  fs::create_directories(t / "lab/day1/data");
  fs::create_directories(t / "lab/day2/data");
  SweepSpec s;
  s.inputs = {t / "lab/day1/data", t / "lab/day2/data"};
  const auto m = sweep_members(s, "OUT");
  EXPECT_EQ(m[0].name, "day1-data");
  EXPECT_EQ(m[1].name, "day2-data");
  s.inputs = {t / "lab/day1/data", t / "lab/day1/data"};
  EXPECT_THROW(sweep_members(s, "OUT"), ConfigError);
}

TEST(Sweep, TheIndexComesFromTheFlagOrTheSlurmArrayAndMustBeInRange) {
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  EXPECT_EQ(sweep_index(-1, 4), -1);
  EXPECT_EQ(sweep_index(3, 4), 3);
  EXPECT_THROW(sweep_index(4, 4), ConfigError);
  ::setenv("SLURM_ARRAY_TASK_ID", "2", 1);
  EXPECT_EQ(sweep_index(-1, 4), 2);
  EXPECT_EQ(sweep_index(0, 4), 0);  // the flag wins
  ::setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  try {
    sweep_index(-1, 4);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("SLURM_ARRAY_TASK_ID = 7"), std::string::npos) << e.what();
  }
  ::setenv("SLURM_ARRAY_TASK_ID", "x", 1);
  EXPECT_THROW(sweep_index(-1, 4), ConfigError);
  ::unsetenv("SLURM_ARRAY_TASK_ID");
}

TEST(Sweep, TheRecordedSweepIsReusedAndAnotherIsRefused) {
  test::TempDir t("taupe-sweep");
  SweepSpec s;
  s.seeds = {1, 2};
  EXPECT_THROW(resolve_sweep(t.path(), {}, true), IoError);
  (void)resolve_sweep(t.path(), s, true);
  EXPECT_EQ(resolve_sweep(t.path(), {}, false).seeds, s.seeds);
  SweepSpec other;
  other.seeds = {3};
  EXPECT_THROW(resolve_sweep(t.path(), other, true), ConfigError);
}

}  // namespace
}  // namespace taupe::validate
