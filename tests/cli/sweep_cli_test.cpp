// `taupe run --seeds / --data A,B --index` and `taupe gather`: a sweep of independent runs, one
// job-array task at a time, tabulated (validate/sweep.h).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"

namespace taupe {
namespace {

using test::run_taupe;
using test::slurp;
using test::TempDir;

std::size_t lines(const std::filesystem::path& f) {
  std::ifstream in(f);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

TEST(SweepCli, JobArrayTasksRunOneMemberEachAndGatherTabulatesThem) {
  TempDir t("taupe-sweep");
  const std::string out = (t / "sweep").string();
  const auto one = run_taupe({"--quiet", "run", "--preset", "tiny", "-o", out, "--seeds", "4,7", "--index", "1"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(std::filesystem::exists(t / "sweep/seed-7/summary.json"));
  EXPECT_FALSE(std::filesystem::exists(t / "sweep/seed-4"));

  const auto g1 = run_taupe({"gather", out});
  ASSERT_EQ(g1.exit_code, 0) << g1.err;
  EXPECT_NE(g1.out.find("sweep: 1 of 2 runs finished"), std::string::npos) << g1.out;
  EXPECT_NE(g1.out.find("seed-4                  missing"), std::string::npos) << g1.out;
  EXPECT_EQ(lines(t / "sweep/runs.csv"), 3u);

  // The recorded sweep: the task may leave out --seeds; another list is refused.
  const auto other = run_taupe({"--quiet", "run", "--preset", "tiny", "-o", out, "--seeds", "1..3", "--index", "0"});
  EXPECT_EQ(other.exit_code, 3);
  EXPECT_NE(other.err.find("sweep.json: this directory holds another sweep"), std::string::npos) << other.err;
  const auto beyond = run_taupe({"--quiet", "run", "--preset", "tiny", "-o", out, "--index", "2"});
  EXPECT_EQ(beyond.exit_code, 3);
  EXPECT_NE(beyond.err.find("--index (2): the sweep has 2 runs (indices 0..1)"), std::string::npos) << beyond.err;
  const auto first = run_taupe({"--quiet", "run", "--preset", "tiny", "-o", out, "--index", "0"});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const auto g2 = run_taupe({"gather", out});
  EXPECT_NE(g2.out.find("sweep: 2 of 2 runs finished"), std::string::npos) << g2.out;
  const std::string csv = slurp(t / "sweep/runs.csv");
  EXPECT_EQ(csv.rfind("member,status,seed,data,world,cv_recall_mitosis,cv_recall_apoptosis", 0), 0u) << csv;
  EXPECT_NE(csv.find("\nseed-4,done,4,,mechanical,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nseed-7,done,7,,mechanical,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("neighbour identity:outcome"), std::string::npos);
  // Seeds of simulated runs change the data: they are not replicates of each other.
  EXPECT_NE(slurp(t / "sweep/runs.json").find("\"replicates\": []"), std::string::npos);
}

TEST(SweepCli, SeedsOfOneDatasetAreCombinedIntoOneVerdict) {
  TempDir t("taupe-sweep");
  const std::string sim = (t / "sim").string(), reps = (t / "reps").string();
  ASSERT_EQ(run_taupe({"--quiet", "run", "--preset", "tiny", "-o", sim}).exit_code, 0);
  const auto r = run_taupe({"--quiet", "run", "--preset", "tiny", "--data", sim + "/data", "--seeds", "1,2", "-o", reps});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto g = run_taupe({"gather", reps});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("replicates of " + sim + "/data (2 runs, seeds differ)"), std::string::npos) << g.out;
  const auto j = nlohmann::json::parse(slurp(t / "reps/runs.json"));
  ASSERT_EQ(j.at("replicates").size(), 1u);
  const auto& group = j.at("replicates")[0];
  EXPECT_EQ(group.at("members"), nlohmann::json({"data/seed-1", "data/seed-2"}));
  for (const auto& v : group.at("verdicts")) {
    EXPECT_EQ(v.at("runs"), 2) << v.dump();
    const std::string outcome = v.at("outcome");
    EXPECT_TRUE(outcome == "effect" || outcome == "no effect" || outcome == "inconclusive") << v.dump();
  }
}

TEST(SweepCli, GatherOfADirectoryWithoutASweepIsAnIoError) {
  TempDir t("taupe-sweep");
  const auto g = run_taupe({"gather", t.path().string()});
  EXPECT_EQ(g.exit_code, 4);
  EXPECT_NE(g.err.find("sweep.json: no sweep here"), std::string::npos) << g.err;
}

}  // namespace
}  // namespace taupe
