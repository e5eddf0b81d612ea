// End-to-end runs of the built `taupe` binary:
// - SIGKILL during TCN training, then the same command again: the run resumes at the temporal
//   stage (earlier stages skipped) and ends with the same summary.json (timings aside) as an
//   uninterrupted run with the same seed.
// - `taupe run --data` on glimpses imported from the cellx-predict layout.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/run_dir.h"
#include "pipeline/child_process.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::spawn;
using test::stage_status;
using test::summary_without_timings;
using test::wait_for;

std::vector<std::string> run_args(const fs::path& out) {
  return {TAUPE_BINARY_PATH, "--quiet",          "run",
          "--preset",        "tiny",             "--out",
          out.string(),      "--set",            "encoder.epochs=2",
          "--set",           "temporal.epochs=12", "--set",
          "temporal.steps_per_epoch=6", "--set", "cv.folds=2",
          "--set",           "perturb.bootstrap_reps=50", "--set",
          "perturb.max_image_trajectories=4"};
}

bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".ckpt") return true;
  return false;
}

TEST(PipelineKill, SigkillDuringTcnTrainingResumesThereWithTheSameSummary) {
  const fs::path base = fs::temp_directory_path() / ("taupe_pipeline_kill_" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  const fs::path ref = base / "uninterrupted", killed = base / "killed";

  ASSERT_EQ(wait_for(spawn(run_args(ref), base / "ref.log")), 0) << read_text_file(base / "ref.log");

  const pid_t pid = spawn(run_args(killed), base / "killed.log");
  bool saw_temporal = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(20);
  while (std::chrono::steady_clock::now() < deadline) {
    // Kill as soon as a fold has written its first epoch checkpoint (12 epochs per fold leave
    // it mid-training; a fixed sleep was either too short or, on a quiet machine, too long).
    if (stage_status(killed, "temporal") == "running" && has_checkpoint(killed / "model" / "temporal" / "checkpoints")) {
      saw_temporal = true;
      break;
    }
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) FAIL() << "run finished before the temporal stage could be killed";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(saw_temporal);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_for(pid), 128 + SIGKILL);
  EXPECT_EQ(stage_status(killed, "temporal"), "running") << "a SIGKILLed stage stays recorded as running";
  EXPECT_FALSE(fs::exists(killed / "summary.json"));

  ASSERT_EQ(wait_for(spawn(run_args(killed), base / "resume.log")), 0) << read_text_file(base / "resume.log");
  const json m = RunDir::read_manifest(killed);
  std::map<std::string, std::string> action;
  for (const auto& st : m["stages"]) action[st.value("name", "")] = st.value("action", "");
  // skipped stages keep the action of the run that did them ("run"); the temporal stage resumed
  EXPECT_EQ(action["temporal"], "resume");
  EXPECT_EQ(action["perturb"], "run");
  const std::string log = read_text_file(base / "resume.log");
  EXPECT_NE(log.find("temporal(resume)"), std::string::npos) << log;
  EXPECT_NE(log.find("encoder(skip)"), std::string::npos) << log;

  EXPECT_EQ(summary_without_timings(killed), summary_without_timings(ref));
  if (!std::getenv("TAUPE_KEEP_TEST_OUTPUT")) fs::remove_all(base);
}

// Real data in. A simulated dataset leaves through the cellx-predict exporter and comes
// back through the importer, so the run sees nothing but files a lab would bring; `taupe run
// --data` must complete and write a report and summary without ground-truth verdicts.
TEST(PipelineData, RunOnImportedCellxGlimpsesWritesAReportWithoutGroundTruth) {
  const fs::path base = fs::temp_directory_path() / ("taupe_pipeline_data_" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  const std::string bin = TAUPE_BINARY_PATH;
  auto step = [&](const std::vector<std::string>& args, const std::string& name) {
    const fs::path log = base / (name + ".log");
    const int rc = wait_for(spawn(args, log));
    EXPECT_EQ(rc, 0) << name << ":\n" << read_text_file(log);
    return rc == 0;
  };
  ASSERT_TRUE(step({bin, "--quiet", "simulate", "--preset", "tiny", "--out", (base / "sim").string()}, "simulate"));
  ASSERT_TRUE(step({bin, "--quiet", "export", "cellx", (base / "sim" / "glimpses.h5").string(), "--out",
                    (base / "cellx").string()},
                   "export"));
  ASSERT_TRUE(fs::exists(base / "cellx" / "metadata"));
  fs::create_directories(base / "imported");
  ASSERT_TRUE(step({bin, "--quiet", "import", "cellx", (base / "cellx").string(), "--out",
                    (base / "imported" / "glimpses.h5").string()},
                   "import"));
  const fs::path run = base / "run";
  std::vector<std::string> args = run_args(run);
  args.insert(args.begin() + 3, {"--data", (base / "imported").string()});
  ASSERT_TRUE(step(args, "run"));

  EXPECT_TRUE(fs::exists(run / "report.html"));
  const json sum = json::parse(read_text_file(run / "summary.json"));
  EXPECT_TRUE(sum.at("world").is_null());
  EXPECT_FALSE(sum.contains("ground_truth"));
  EXPECT_GT(sum.at("data").at("trajectories").at("mitosis").get<int>() +
                sum.at("data").at("trajectories").at("apoptosis").get<int>(),
            0);
  const std::string html = read_text_file(run / "report.html");
  EXPECT_NE(html.find("Real data: there is no planted mechanism"), std::string::npos);
  EXPECT_EQ(html.find("Planted mechanism of the simulated world"), std::string::npos);
  const std::string verdicts = read_text_file(run / "perturb" / "verdicts.csv");
  EXPECT_EQ(verdicts.find("world ="), std::string::npos) << verdicts;
  if (!std::getenv("TAUPE_KEEP_TEST_OUTPUT")) fs::remove_all(base);
}

}  // namespace
}  // namespace taupe
