// The stage table is the only place that knows the stages: a stage added to it (and nowhere
// else) is planned, hashed, given an ETA and run by run_pipeline, and resumes and invalidates
// like the built-in ones. No training here: the dispatch tests run tables of small stages.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/pipeline/pipeline.h"
#include "plan_test_util.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;

/// A stage "qc" that reads the encodings and [report].max_pcs and writes qc.txt.
Stage qc_stage(int* calls = nullptr) {
  Stage s;
  s.name = "qc";
  s.depends_on = {"encode"};
  s.config = {"report.max_pcs"};
  s.artifacts = [](const RunLayout& L) { return std::vector<fs::path>{L.root / "qc.txt"}; };
  s.expected_seconds = [](const RunConfig& cfg) { return 1.0 + cfg.report.max_pcs; };
  s.run = [calls](StageContext& c) {
    if (calls) ++*calls;
    write_text_atomic(c.layout.root / "qc.txt", "max_pcs " + std::to_string(c.cfg.report.max_pcs) + "\n");
  };
  return s;
}

/// pipeline_stages() with the qc stage after "encode": the only change a new stage needs.
StageTable with_qc() {
  StageTable t = pipeline_stages();
  const auto at = std::find_if(t.begin(), t.end(), [](const Stage& s) { return s.name == "encode"; });
  t.insert(at + 1, qc_stage());
  return t;
}

TEST(StageTable, BuiltInTableIsConsistent) {
  EXPECT_NO_THROW(check_stage_table(pipeline_stages()));
  for (const auto& s : pipeline_stages()) {
    EXPECT_TRUE(s.run) << s.name;
    EXPECT_TRUE(s.expected_seconds) << s.name;
    EXPECT_TRUE(s.artifacts) << s.name;
  }
  // --data drops the simulator and the encoder's dependency on it
  const StageTable real = active_stages(pipeline_stages(), true);
  EXPECT_EQ(real.front().name, "data");
  EXPECT_EQ(real[1].depends_on, std::vector<std::string>{"data"});
}

TEST(StageTable, RejectsDependencyOnALaterOrUnknownStage) {
  StageTable t = pipeline_stages();
  t.insert(t.begin() + 2, qc_stage());  // before "encode", which it depends on
  EXPECT_THROW(check_stage_table(t), Error);
  StageTable dup = pipeline_stages();
  dup.push_back(dup.back());
  EXPECT_THROW(check_stage_table(dup), Error);
}

TEST(StageTable, AddedStageIsPlannedHashedAndTimed) {
  RunConfig cfg = load_run_config("tiny", {}, {});
  const StageTable t = active_stages(with_qc(), false);
  EXPECT_EQ(stage_names(t), (std::vector<std::string>{"simulate", "encoder", "projector", "encode", "qc", "temporal",
                                                      "perturb", "report"}));
  const auto h0 = stage_config_hashes(t, cfg);
  ASSERT_EQ(h0.size(), t.size());
  // the built-in stages keep their hashes: adding a stage does not invalidate earlier runs
  const auto builtin = stage_config_hashes(cfg);
  for (const auto& [name, h] : builtin) EXPECT_EQ(h0.at(name), h) << name;

  const auto plan_for = [&](const std::string& set) {
    RunConfig changed = load_run_config("tiny", {}, {set});
    return rerun(plan_stages(t, stage_config_hashes(t, changed), all_done(h0)));
  };
  // its own config input reruns it (and the report, which hashes [report]), nothing else
  EXPECT_EQ(plan_for("report.max_pcs=3"), (std::vector<std::string>{"qc", "report"}));
  // a config change upstream reaches it through the chain
  EXPECT_EQ(plan_for("projector.max_patches=100"),
            (std::vector<std::string>{"projector", "encode", "qc", "temporal", "perturb", "report"}));
  // a config change beside it does not
  EXPECT_EQ(plan_for("temporal.epochs=7"), (std::vector<std::string>{"temporal", "perturb", "report"}));

  // ETA
  cfg.report.max_pcs = 4;
  EXPECT_DOUBLE_EQ(expected_stage_seconds(t, cfg).at("qc"), 5.0);
}

// ---- dispatch: run_pipeline over a table of small stages ------------------------------------------
class StageDispatch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("taupe_stage_dispatch_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    log_set_level(LogLevel::kWarn);
  }
  void TearDown() override {
    log_set_level(LogLevel::kInfo);
    fs::remove_all(dir_);
  }
  PipelineOptions opts() const {
    PipelineOptions o;
    o.out = dir_;
    o.progress = false;
    return o;
  }
  /// "first" writes first.txt from run.seed; then the qc stage (depending on "first").
  StageTable table() {
    Stage first;
    first.name = "first";
    first.config = {"run.seed"};
    first.seed_key = "run.seed";
    first.artifacts = [](const RunLayout& L) { return std::vector<fs::path>{L.root / "first.txt"}; };
    first.expected_seconds = [](const RunConfig&) { return 1.0; };
    first.run = [this](StageContext& c) {
      ++first_calls_;
      EXPECT_FALSE(fs::exists(c.layout.root / "first.txt")) << "artifacts are removed before a fresh run";
      write_text_atomic(c.layout.root / "first.txt", std::to_string(c.cfg.run.seed));
      c.note("seed", c.cfg.run.seed);
    };
    Stage qc = qc_stage(&qc_calls_);
    qc.depends_on = {"first"};
    if (fail_qc_) qc.run = [](StageContext&) { throw DataError("qc: planted failure"); };
    return {first, qc};
  }
  fs::path dir_;
  int first_calls_ = 0, qc_calls_ = 0;
  bool fail_qc_ = false;
};

TEST_F(StageDispatch, RunsEveryStageThenSkipsThemAndRecordsTheManifest) {
  const RunConfig cfg = load_run_config("tiny", {}, {});
  const PipelineResult r = run_pipeline(cfg, opts(), table());
  EXPECT_EQ(first_calls_, 1);
  EXPECT_EQ(qc_calls_, 1);
  EXPECT_EQ(read_text_file(dir_ / "first.txt"), "1");
  EXPECT_EQ(read_text_file(dir_ / "qc.txt"), "max_pcs " + std::to_string(cfg.report.max_pcs) + "\n");
  ASSERT_EQ(r.plan.size(), 2u);
  const auto m = RunDir::read_manifest(dir_);
  const auto rec = stage_records(m);
  EXPECT_EQ(rec.at("first").status, StageStatus::kDone);
  EXPECT_EQ(rec.at("qc").status, StageStatus::kDone);
  EXPECT_EQ(rec.at("qc").config_hash, r.plan[1].config_hash);
  for (const auto& st : m["stages"]) {  // the seed a stage used is recorded with it
    if (st.value("name", "") == "first") {
      EXPECT_EQ(st.value("seed", std::int64_t{-1}), cfg.run.seed);
    }
  }

  run_pipeline(cfg, opts(), table());  // unchanged: both skipped
  EXPECT_EQ(first_calls_, 1);
  EXPECT_EQ(qc_calls_, 1);

  const RunConfig seed2 = load_run_config("tiny", {}, {"run.seed=2"});
  run_pipeline(seed2, opts(), table());  // upstream input changed: both run
  EXPECT_EQ(first_calls_, 2);
  EXPECT_EQ(qc_calls_, 2);
  EXPECT_EQ(read_text_file(dir_ / "first.txt"), "2");
}

TEST_F(StageDispatch, FailedStageResumesWithoutRerunningFinishedOnes) {
  const RunConfig cfg = load_run_config("tiny", {}, {});
  fail_qc_ = true;
  EXPECT_THROW(run_pipeline(cfg, opts(), table()), DataError);
  EXPECT_EQ(first_calls_, 1);
  EXPECT_EQ(stage_records(RunDir::read_manifest(dir_)).at("qc").status, StageStatus::kFailed);
  fail_qc_ = false;
  const PipelineResult r = run_pipeline(cfg, opts(), table());
  EXPECT_EQ(first_calls_, 1);
  EXPECT_EQ(qc_calls_, 1);
  EXPECT_EQ(r.plan[0].action, StageAction::kSkip);
  EXPECT_EQ(r.plan[1].action, StageAction::kResume);
}

}  // namespace
}  // namespace taupe
