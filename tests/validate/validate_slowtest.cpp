// End to end: a 2-seed x 2-world `tiny` validation study (`taupe validate`), run in process
// through the same library entry point as the CLI; a few minutes on 2 cores.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/validate/validate.h"

namespace taupe::validate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(ValidateSlow, TinyStudyOfTwoSeedsAndTwoWorlds) {
  test::TempDir dir("taupe-validate");
  StudySpec given;
  given.preset = "tiny";
  given.worlds = {"mechanical", "contact"};
  given.seeds = {1, 2};
  StudyOptions opts;
  opts.progress = false;
  const StudyResult r = run_study(dir.path(), given, opts);
  ASSERT_TRUE(r.failed.empty()) << r.failed.front();
  ASSERT_TRUE(r.validation.has_value());
  ASSERT_EQ(r.ran.size(), 4u);

  const json j = json::parse(read_text_file(dir.path() / "validation.json"));
  EXPECT_EQ(j.at("format"), "taupe.validation");
  EXPECT_EQ(j.at("preset"), "tiny");
  const std::int64_t k = 2;
  ASSERT_EQ(j.at("runs").size(), 4u);
  for (const auto& run : j["runs"]) {
    EXPECT_EQ(run.at("status"), "done") << run.dump();
    EXPECT_GT(run.at("seconds").get<double>(), 0.0);
    EXPECT_TRUE(fs::exists(fs::path(run.at("dir").get<std::string>()) / "summary.json"));
    // The simulated world's ground truth, read from the run's data/simulation.json (the AUCs;
    // a tiny run has too few trajectories for the logistic fit, which simulation.json then omits).
    for (const char* key : {"auc_compression", "auc_wt_neighbours", "auc_small_nucleus"}) {
      ASSERT_TRUE(run.at("world_stats").contains(key)) << key << run.dump();
      EXPECT_GE(run["world_stats"][key].get<double>(), 0.0);
      EXPECT_LE(run["world_stats"][key].get<double>(), 1.0);
    }
  }
  for (const char* world : {"mechanical", "contact"}) EXPECT_EQ(j["world_stats"][world]["auc_wt_neighbours"]["n"], k);
  EXPECT_TRUE(fs::exists(dir.path() / "mechanical" / "seed-2" / "report.html"));

  // Every world x verdict cell is present, and every run reported every verdict.
  std::set<std::string> experiments;
  for (const auto& c : j.at("cells")) experiments.insert(c.at("experiment").get<std::string>());
  ASSERT_FALSE(experiments.empty());
  EXPECT_EQ(j["cells"].size(), 2 * experiments.size());
  for (const auto& c : j["cells"]) {
    const std::string where = c.at("world").get<std::string>() + " / " + c.at("experiment").get<std::string>();
    std::int64_t sum = 0;
    for (const auto& col : outcome_columns()) sum += c.at("counts").at(col).get<std::int64_t>();
    EXPECT_EQ(sum, k) << where;
    EXPECT_EQ(c["counts"][kMissing], 0) << where;
    const auto& acc = c.at("accuracy");
    EXPECT_EQ(acc.at("n"), k);
    const double a = acc.at("value").get<double>();
    EXPECT_LE(acc["ci"][0].get<double>(), a) << where;
    EXPECT_GE(acc["ci"][1].get<double>(), a) << where;
    // A planted effect is never concluded absent. At tiny scale (2 folds, 8 switched
    // trajectories per model, models near chance) the study cannot promise to *find* the effect
    // — its verdicts are mostly inconclusive — but "no effect" needs an interval inside the
    // ±margin, which a run this small must not produce when an effect is planted: that would be
    // a confident false negative.
    if (c.at("expected_outcome") == kEffect) {
      EXPECT_EQ(c["counts"][kNoEffect], 0) << where;
      EXPECT_FALSE(c.at("power").is_null()) << where;
    }
    if (c.at("expected_outcome") == kNoEffect) {
      EXPECT_FALSE(c.at("false_effect_rate").is_null()) << where;
    }
  }
  EXPECT_TRUE(fs::exists(dir.path() / "validation.html"));

  // Rerunning resumes: every run is finished, so nothing is recomputed.
  const auto stamp = fs::last_write_time(dir.path() / "contact" / "seed-1" / "summary.json");
  const StudyResult again = run_study(dir.path(), {}, opts);
  EXPECT_TRUE(again.failed.empty());
  EXPECT_EQ(fs::last_write_time(dir.path() / "contact" / "seed-1" / "summary.json"), stamp);
  EXPECT_EQ(again.validation->cells.size(), r.validation->cells.size());
}

}  // namespace
}  // namespace taupe::validate
