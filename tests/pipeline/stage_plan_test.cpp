// `taupe run` planning: config hashes invalidate exactly the stages that depend on a change,
// and a manifest left by an interrupted run resumes the interrupted stage and skips the
// finished ones. No training here.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "taupe/pipeline/run_config.h"
#include "taupe/pipeline/stage_plan.h"
#include "plan_test_util.h"

namespace taupe {
namespace {

std::map<std::string, StageAction> actions(const std::vector<PlannedStage>& plan) {
  std::map<std::string, StageAction> a;
  for (const auto& p : plan) a[p.name] = p.action;
  return a;
}

RunConfig tiny() { return load_run_config("tiny", {}, {}); }

TEST(StagePlan, StageOrder) {
  EXPECT_EQ(pipeline_stage_names(),
            (std::vector<std::string>{"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"}));
  EXPECT_EQ(pipeline_stage_names(true).front(), "data");
}

TEST(StagePlan, HashesAreDeterministicAndDistinct) {
  RunConfig a = tiny(), b = tiny();
  const auto ha = stage_config_hashes(a), hb = stage_config_hashes(b);
  EXPECT_EQ(ha, hb);
  EXPECT_EQ(ha.size(), 7u);
  std::set<std::string> distinct;
  for (const auto& [k, v] : ha) {
    EXPECT_EQ(v.size(), 16u) << k;
    distinct.insert(v);
  }
  EXPECT_EQ(distinct.size(), ha.size());
  EXPECT_EQ(fnv1a_hex(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(fnv1a_hex("a"), "af63dc4c8601ec8c");
}

TEST(StagePlan, FreshRunDirRunsEverything) {
  RunConfig c = tiny();
  const auto h = stage_config_hashes(c);
  const auto plan = plan_stages(pipeline_stage_names(), h, {});
  EXPECT_EQ(rerun(plan).size(), 7u);
}

TEST(StagePlan, UnchangedConfigSkipsEverything) {
  RunConfig c = tiny();
  const auto h = stage_config_hashes(c);
  EXPECT_TRUE(rerun(plan_stages(pipeline_stage_names(), h, all_done(h))).empty());
}

struct Case {
  std::string set;
  std::vector<std::string> expected;
};

TEST(StagePlan, ChangingASectionInvalidatesExactlyItsDependants) {
  RunConfig base = tiny();
  const auto h0 = stage_config_hashes(base);
  const std::vector<Case> cases = {
      {"temporal.epochs=7", {"temporal", "perturb", "report"}},
      {"cv.folds=4", {"temporal", "perturb", "report"}},
      {"perturb.bootstrap_reps=50", {"perturb", "report"}},
      {"projector.max_patches=100", {"projector", "encode", "temporal", "perturb", "report"}},
      {"encoder.epochs=5", {"encoder", "projector", "encode", "temporal", "perturb", "report"}},
      {"simulate.frames=90", {"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"}},
      {"extract.lead_frames=1", {"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"}},
      {"run.seed=2", {"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"}},
      {"run.world=contact", {"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"}},
      // resource settings change speed, not results
      {"simulate.threads=3", {}},
      {"encoder.loader_threads=2", {}},
      {"cv.predict_memory_mb=64", {}},
      {"perturb.memory_budget_mb=64", {}},
      {"run.threads=2", {}},
      {"run.out=elsewhere", {}},
  };
  for (const auto& c : cases) {
    RunConfig changed = load_run_config("tiny", {}, {c.set});
    const auto h1 = stage_config_hashes(changed);
    const auto plan = plan_stages(pipeline_stage_names(), h1, all_done(h0));
    EXPECT_EQ(rerun(plan), c.expected) << c.set;
    for (const auto& p : plan) {
      if (p.action != StageAction::kSkip) {
        EXPECT_EQ(p.action, StageAction::kRun) << c.set << " " << p.name;
      }
    }
  }
}

TEST(StagePlan, InterruptedStageResumesFinishedOnesAreSkipped) {
  RunConfig c = tiny();
  const auto h = stage_config_hashes(c);
  auto prev = all_done(h);
  prev["temporal"].status = StageStatus::kRunning;  // killed during TCN training
  prev.erase("perturb");
  prev.erase("report");
  auto a = actions(plan_stages(pipeline_stage_names(), h, prev));
  EXPECT_EQ(a["simulate"], StageAction::kSkip);
  EXPECT_EQ(a["encoder"], StageAction::kSkip);
  EXPECT_EQ(a["projector"], StageAction::kSkip);
  EXPECT_EQ(a["encode"], StageAction::kSkip);
  EXPECT_EQ(a["temporal"], StageAction::kResume);
  EXPECT_EQ(a["perturb"], StageAction::kRun);
  EXPECT_EQ(a["report"], StageAction::kRun);

  // RunDir turns "running" into "failed" when it reopens a killed run: same outcome.
  prev["temporal"].status = StageStatus::kFailed;
  a = actions(plan_stages(pipeline_stage_names(), h, prev));
  EXPECT_EQ(a["temporal"], StageAction::kResume);
  EXPECT_EQ(a["encode"], StageAction::kSkip);
}

TEST(StagePlan, ChangedFilesRerunTheStageAndEverythingBelow) {
  RunConfig c = tiny();
  const auto h = stage_config_hashes(c);
  auto prev = all_done(h);
  prev["encode"].changed_files = {"encodings.h5: content changed (SHA-256 differs)", "x: missing"};
  const auto plan = plan_stages(pipeline_stage_names(), h, prev);
  auto a = actions(plan);
  EXPECT_EQ(a["simulate"], StageAction::kSkip);
  EXPECT_EQ(a["projector"], StageAction::kSkip);
  EXPECT_EQ(a["encode"], StageAction::kRun);
  EXPECT_EQ(a["temporal"], StageAction::kRun);
  EXPECT_EQ(a["report"], StageAction::kRun);
  for (const auto& p : plan) {
    if (p.name == "encode") {
      EXPECT_EQ(p.reason, "its files changed since it finished: encodings.h5: content changed (SHA-256 differs) (and 1 more)");
    }
    if (p.name == "temporal") {
      EXPECT_EQ(p.reason, "upstream stage encode reran");
    }
  }
  // Changed files of a stage that reruns anyway (its configuration changed) change nothing.
  prev["encode"].config_hash = "other";
  EXPECT_EQ(actions(plan_stages(pipeline_stage_names(), h, prev))["encode"], StageAction::kRun);
}

TEST(StagePlan, InterruptedStageWithChangedConfigStartsOver) {
  RunConfig c = tiny();
  const auto h0 = stage_config_hashes(c);
  auto prev = all_done(h0);
  prev["encoder"].status = StageStatus::kRunning;
  RunConfig changed = load_run_config("tiny", {}, {"encoder.epochs=7"});
  const auto a = actions(plan_stages(pipeline_stage_names(), stage_config_hashes(changed), prev));
  EXPECT_EQ(a.at("simulate"), StageAction::kSkip);
  EXPECT_EQ(a.at("encoder"), StageAction::kRun);
  EXPECT_EQ(a.at("projector"), StageAction::kRun);
}

TEST(StagePlan, DoneStagesBelowARerunStageRunAgainEvenWithSameHash) {
  RunConfig c = tiny();
  const auto h = stage_config_hashes(c);
  auto prev = all_done(h);
  prev["encode"].status = StageStatus::kFailed;  // e.g. encodings deleted / error
  const auto plan = plan_stages(pipeline_stage_names(), h, prev);
  EXPECT_EQ(rerun(plan), (std::vector<std::string>{"encode", "temporal", "perturb", "report"}));
  EXPECT_EQ(actions(plan)["temporal"], StageAction::kRun);
}

TEST(StagePlan, RecordsFromManifest) {
  const nlohmann::json m = {
      {"stages",
       {{{"name", "simulate"}, {"status", "done"}, {"config_hash", "abc"}, {"seconds", 2.5}},
        {{"name", "encoder"}, {"status", "running"}},
        {{"name", "bogus"}, {"status", "???"}}}}};
  const auto r = stage_records(m);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.at("simulate").status, StageStatus::kDone);
  EXPECT_EQ(r.at("simulate").config_hash, "abc");
  EXPECT_DOUBLE_EQ(r.at("simulate").seconds, 2.5);
  EXPECT_EQ(r.at("encoder").status, StageStatus::kRunning);
  EXPECT_EQ(r.at("bogus").status, StageStatus::kNone);
  EXPECT_TRUE(stage_records(nlohmann::json::object()).empty());
}

TEST(StagePlan, RealDataHashDependsOnDataIdentity) {
  RunConfig c = tiny();
  const auto a = stage_config_hashes(c, true, "/data/a glimpses.h5 1234");
  const auto b = stage_config_hashes(c, true, "/data/b glimpses.h5 1234");
  EXPECT_NE(a.at("data"), b.at("data"));
  EXPECT_NE(a.at("report"), b.at("report"));
  RunConfig w = load_run_config("tiny", {}, {"run.world=contact"});
  EXPECT_EQ(stage_config_hashes(w, true, "x").at("data"), stage_config_hashes(c, true, "x").at("data"))
      << "the simulated world does not matter for real data";
}

TEST(StagePlan, ExpectedSecondsArePositiveAndScaleWithWork) {
  RunConfig t = tiny();
  RunConfig q = load_run_config("quick", {}, {});
  const auto et = expected_stage_seconds(t), eq = expected_stage_seconds(q);
  double st = 0, sq = 0;
  for (const auto& n : pipeline_stage_names()) {
    ASSERT_TRUE(et.count(n) && eq.count(n)) << n;
    EXPECT_GT(et.at(n), 0.0);
    st += et.at(n);
    sq += eq.at(n);
  }
  EXPECT_LT(st, sq);
}

}  // namespace
}  // namespace taupe
