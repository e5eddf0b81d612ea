// Seed replicates of one dataset combined into one verdict (validate/replicates.h).
#include "taupe/validate/replicates.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/fixtures.h"
#include "taupe/core/stats.h"

namespace taupe::validate {
namespace {

VerdictRecord run_verdict(double estimate, double half_width, const std::string& outcome = kInconclusive,
                          bool read = true, double margin = 0.10) {
  VerdictRecord v;
  v.experiment = "neighbour identity";
  v.outcome = outcome;
  v.estimate = estimate;
  v.ci_lo = estimate - half_width;
  v.ci_hi = estimate + half_width;
  v.margin = margin;
  v.statistic_read = read;
  return v;
}

ReplicateVerdict combine(const std::vector<VerdictRecord>& runs, std::vector<std::string> skill = {}) {
  std::vector<const VerdictRecord*> ptrs;
  for (const auto& r : runs) ptrs.push_back(&r);
  if (skill.empty()) skill.assign(runs.size(), "shown");
  return combine_verdict("neighbour identity", ptrs, skill, 0.05);
}

TEST(Replicates, TheIntervalIsTheTIntervalOfTheRunsMean) {
  // Three trainings of one dataset whose own intervals (±0.03) do not hold each other's estimates.
  const std::vector<double> x = {-0.115, -0.050, -0.099};
  const auto v = combine({run_verdict(x[0], 0.03, kEffect), run_verdict(x[1], 0.03, kNoEffect), run_verdict(x[2], 0.03)});
  const double m = (x[0] + x[1] + x[2]) / 3;
  double ss = 0;
  for (double e : x) ss += (e - m) * (e - m);
  const double sd = std::sqrt(ss / 2), se = sd / std::sqrt(3.0);
  EXPECT_NEAR(v.interval.estimate, m, 1e-12);
  EXPECT_NEAR(v.sd_between, sd, 1e-12);
  // t(2) quantiles: 4.302653 (97.5 %), 2.919986 (95 %).
  EXPECT_NEAR(v.interval.lo, m - 4.302653 * se, 1e-5);
  EXPECT_NEAR(v.interval.hi, m + 4.302653 * se, 1e-5);
  EXPECT_NEAR(v.interval.eq_lo, m - 2.919986 * se, 1e-5);
  EXPECT_NEAR(v.mean_half_width, 0.03, 1e-12);
  EXPECT_TRUE(v.runs_disagree);
  // Excludes 0 (hi ≈ −0.004) but |mean| < margin and the 90 % interval reaches −0.145.
  EXPECT_EQ(v.outcome, kInconclusive);
  // Towards "no effect" (|mean| < margin): the fewest runs n whose 90 % half-width
  // t(n − 1, 0.95) · sd / √n fits between the mean and the margin.
  const double room = 0.10 - std::fabs(m);
  ASSERT_GT(v.runs_needed, 3);
  const auto n = static_cast<double>(v.runs_needed);
  EXPECT_LT(stats::t_quantile(0.95, n - 1) * sd / std::sqrt(n), room);
  EXPECT_GE(stats::t_quantile(0.95, n - 2) * sd / std::sqrt(n - 1), room);
  EXPECT_EQ(v.read, 3);
  EXPECT_EQ(v.outcomes.at(kEffect), 1);
  EXPECT_EQ(v.outcomes.at(kNoEffect), 1);
  EXPECT_EQ(v.outcomes.at(kInconclusive), 1);
}

TEST(Replicates, AgreeingRunsDecideEffectWithItsDirectionAndNoEffectByEquivalence) {
  const auto e = combine({run_verdict(-0.20, 0.03, kEffect), run_verdict(-0.21, 0.03, kEffect),
                          run_verdict(-0.19, 0.03, kEffect), run_verdict(-0.20, 0.03, kEffect)});
  EXPECT_EQ(e.outcome, kEffect);
  EXPECT_EQ(e.direction, -1);
  EXPECT_FALSE(e.runs_disagree);
  const auto n = combine({run_verdict(0.01, 0.03, kNoEffect), run_verdict(-0.01, 0.03, kNoEffect),
                          run_verdict(0.0, 0.03, kNoEffect), run_verdict(0.005, 0.03, kNoEffect)});
  EXPECT_EQ(n.outcome, kNoEffect);
  EXPECT_EQ(n.direction, 0);
}

TEST(Replicates, AnUnreadStatisticOrEqualEstimatesAreInconclusive) {
  // A run stopped by the realistic range: its extrapolated estimate is not combined.
  const auto u = combine({run_verdict(-0.20, 0.03, kEffect), run_verdict(-0.21, 0.03, kEffect),
                          run_verdict(-0.40, 0.05, kInconclusive, false)});
  EXPECT_EQ(u.outcome, kInconclusive);
  EXPECT_EQ(u.read, 2);
  EXPECT_EQ(u.runs, 3);
  EXPECT_NE(u.reason.find("1 of 3 runs could not read"), std::string::npos) << u.reason;
  EXPECT_NEAR(u.interval.estimate, -0.205, 1e-12);
  // Every run giving the same number has no spread to infer from.
  const auto z = combine({run_verdict(-0.2, 0.03, kEffect), run_verdict(-0.2, 0.03, kEffect)});
  EXPECT_TRUE(z.interval.zero_spread);
  EXPECT_EQ(z.outcome, kInconclusive);
  EXPECT_EQ(combine({run_verdict(-0.2, 0.03, kEffect)}).outcome, kInconclusive);  // one run is no replicate
}

TEST(Replicates, AVerdictWithoutAStatisticHoldsWhenEveryRunAgrees) {
  auto any = [](const std::string& outcome) {
    VerdictRecord v;
    v.experiment = "any effect";
    v.outcome = outcome;
    return v;  // estimate NaN, statistic not read
  };
  EXPECT_EQ(combine({any(kEffect), any(kEffect), any(kEffect)}).outcome, kEffect);
  const auto d = combine({any(kEffect), any(kNoEffect)});
  EXPECT_EQ(d.outcome, kInconclusive);
  EXPECT_NE(d.reason.find("the runs differ"), std::string::npos) << d.reason;
  EXPECT_EQ(direction_mark(kEffect, 0), "");
  EXPECT_EQ(direction_mark(kEffect, -1), " (-)");
  EXPECT_EQ(direction_mark(kNoEffect, 1), "");
}

TEST(Replicates, TheSkillGateAppliesAcrossRuns) {
  const std::vector<VerdictRecord> strong = {run_verdict(-0.20, 0.03, kEffect), run_verdict(-0.21, 0.03, kEffect),
                                             run_verdict(-0.19, 0.03, kEffect)};
  EXPECT_EQ(combine(strong, {"shown", "uncertain", "shown"}).outcome, kInconclusive);
  const auto absent = combine(strong, {"absent", "absent", "absent"});
  EXPECT_EQ(absent.outcome, kNoEffect);
  EXPECT_NE(absent.reason.find("skill absent"), std::string::npos);
  EXPECT_EQ(combine(strong, {"absent", "shown", "absent"}).outcome, kInconclusive);
}

TEST(Replicates, OnlyFinishedRunsOfOneDataSourceAreGrouped) {
  auto run = [](double estimate, const std::string& status) {
    RunRecord r;
    r.status = status;
    r.skill_state = "shown";
    r.verdicts.push_back(run_verdict(estimate, 0.03, kEffect));
    return r;
  };
  const std::vector<RunRecord> rs = {run(-0.20, "done"), run(-0.21, "done"), run(-0.5, "missing"),
                                     run(-0.19, "done"), run(-0.3, "done"),  run(-0.3, "done")};
  const std::vector<ReplicateRun> in = {{"/d/a", "a/seed-1", &rs[0]}, {"/d/a", "a/seed-2", &rs[1]},
                                        {"/d/a", "a/seed-3", &rs[2]}, {"/d/b", "b/seed-1", &rs[3]},
                                        {"", "seed-1", &rs[4]},       {"", "seed-2", &rs[5]}};
  const auto groups = combine_replicates(in, 0.05);
  ASSERT_EQ(groups.size(), 1u);  // b has one finished run; simulated runs differ in their data
  EXPECT_EQ(groups[0].data, "/d/a");
  EXPECT_EQ(groups[0].members, (std::vector<std::string>{"a/seed-1", "a/seed-2"}));
  ASSERT_EQ(groups[0].verdicts.size(), 1u);
  EXPECT_NEAR(groups[0].verdicts[0].interval.estimate, -0.205, 1e-12);
  const auto j = groups[0].to_json();
  EXPECT_EQ(j.at("verdicts")[0].at("read"), 2);
  EXPECT_NE(groups[0].brief().find("neighbour identity"), std::string::npos);
}

TEST(Replicates, RunsRecordWhetherTheirStatisticWasReadAndTheirSkillState) {
  StudyMember m;
  const nlohmann::json verdicts = {
      {{"experiment", "neighbour identity"}, {"outcome", "inconclusive"}, {"estimate", -0.3},
       {"ci", {-0.35, -0.25}}, {"statistic_read", false}},
      {{"experiment", "nuclear size"}, {"outcome", "effect"}, {"direction", 1}, {"estimate", 0.2},
       {"ci", {0.1, 0.3}}},  // an older summary: read when the estimate is finite
      {{"experiment", "any effect"}, {"outcome", "effect"}, {"estimate", nullptr}}};
  const RunRecord r = parse_run(m, {{"world", nullptr}, {"verdicts", verdicts}, {"model_skill", {{"state", "uncertain"}}}},
                                nlohmann::json());
  ASSERT_EQ(r.verdicts.size(), 3u);
  EXPECT_FALSE(r.verdicts[0].statistic_read);
  EXPECT_TRUE(r.verdicts[1].statistic_read);
  EXPECT_FALSE(r.verdicts[2].statistic_read);
  EXPECT_EQ(r.skill_state, "uncertain");
  EXPECT_EQ(parse_run(m, {{"world", nullptr}, {"verdicts", verdicts}, {"model_skill", {{"passes", true}}}}, nlohmann::json())
                .skill_state,
            "shown");
}

TEST(Replicates, AlphaComesFromTheRunsConfiguration) {
  test::TempDir t("taupe-replicates");
  EXPECT_DOUBLE_EQ(run_alpha(t.path()), 0.05);  // no config.toml: the default
  t.write("config.toml", "[verdict]\nalpha = 0.1\n");
  EXPECT_DOUBLE_EQ(run_alpha(t.path()), 0.1);
}

}  // namespace
}  // namespace taupe::validate
