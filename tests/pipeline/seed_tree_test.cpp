// The seed tree: run.seed seeds the simulation and derives every other stage's seed from the
// stage's name; a stage seed set explicitly is kept; the seeds used are recorded.
#include <gtest/gtest.h>

#include <set>

#include "taupe/core/rng.h"
#include "taupe/pipeline/run_config.h"

namespace taupe {
namespace {

std::int64_t derived(std::int64_t run_seed, const char* stage) {
  return static_cast<std::int64_t>(derive_seed(static_cast<std::uint64_t>(run_seed), std::string(stage)) >> 1);
}

TEST(SeedTree, StageSeedsDeriveFromRunSeedByName) {
  const RunConfig c = load_run_config("tiny", {}, {});
  EXPECT_EQ(c.encoder.seed, derived(1, "encoder"));
  EXPECT_EQ(c.cv.seed, derived(1, "cv"));
  EXPECT_EQ(c.perturb.seed, derived(1, "perturb"));
  const std::set<std::int64_t> distinct = {c.encoder.seed, c.cv.seed, c.perturb.seed};
  EXPECT_EQ(distinct.size(), 3u);
  for (auto s : distinct) EXPECT_GE(s, 0);

  const RunConfig c2 = load_run_config("tiny", {}, {"run.seed=2"});
  EXPECT_NE(c2.encoder.seed, c.encoder.seed);
  EXPECT_NE(c2.cv.seed, c.cv.seed);
  EXPECT_NE(c2.perturb.seed, c.perturb.seed);
  EXPECT_EQ(load_run_config("tiny", {}, {}).encoder.seed, c.encoder.seed) << "same run seed, same stage seeds";
}

TEST(SeedTree, ExplicitStageSeedIsKept) {
  const RunConfig c = load_run_config("tiny", {}, {"run.seed=3", "encoder.seed=5"});
  EXPECT_EQ(c.encoder.seed, 5);
  EXPECT_EQ(c.cv.seed, derived(3, "cv"));
}

TEST(SeedTree, NamedStreamsDifferFromNumberedOnes) {
  EXPECT_NE(derive_seed(1, std::string("encoder")), derive_seed(1, std::string("cv")));
  EXPECT_EQ(derive_seed(7, std::string("perturb")), derive_seed(7, std::string("perturb")));
}

}  // namespace
}  // namespace taupe
