// Run directories: manifest.json content, stage bookkeeping, resume, interrupted runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/runtime.h"
#include "taupe/core/version.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace taupe {
namespace {

RunDirOptions options() {
  RunDirOptions o;
  o.command_line = "taupe run --preset tiny";
  o.seed = 42;
  o.threads = 3;
  o.libtorch_version = "9.9.9";
  o.config_toml = "[run]\nseed = 42\n";
  return o;
}

json manifest_on_disk(const fs::path& dir) { return json::parse(read_text_file(dir / "manifest.json")); }

TEST(RunDir, CreatesConfigManifestAndLog) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run1";
  {
    RunDir rd(dir, options());
    EXPECT_EQ(read_text_file(dir / "config.toml"), "[run]\nseed = 42\n");
    const json m = manifest_on_disk(dir);
    EXPECT_EQ(m["format"], "taupe.manifest");
    EXPECT_EQ(m["version"], 1);
    EXPECT_EQ(m["versions"]["taupe"], kVersion);
    EXPECT_EQ(m["versions"]["libtorch"], "9.9.9");
    EXPECT_EQ(m["seed"], 42);
    EXPECT_EQ(m["threads"], 3);
    EXPECT_EQ(m["host"], host_name());
    EXPECT_EQ(m["command_line"], "taupe run --preset tiny");
    EXPECT_EQ(m["status"], "running");
    EXPECT_TRUE(m["ended"].is_null());
    EXPECT_TRUE(m["started"].get<std::string>().size() == 20u);  // 2024-01-01T00:00:00Z
    EXPECT_TRUE(m["blas"].contains("name"));
    EXPECT_TRUE(m["stages"].is_array() && m["stages"].empty());
    log_info("hello from the test");
    rd.finish(true);
  }
  const json m = manifest_on_disk(dir);
  EXPECT_EQ(m["status"], "done");
  EXPECT_FALSE(m["ended"].is_null());
  EXPECT_THAT(read_text_file(dir / "taupe.log"), HasSubstr("info: hello from the test"));
}

TEST(RunDir, StagesRecordStatusAndTimingsInOrder) {
  test::TempDir tmp;
  RunDir rd(tmp.path(), options());
  EXPECT_EQ(rd.stage_status("simulate"), StageStatus::kNone);
  rd.stage_begin("simulate");
  EXPECT_EQ(rd.stage_status("simulate"), StageStatus::kRunning);
  EXPECT_EQ(manifest_on_disk(tmp.path())["stages"][0]["status"], "running");  // written at once
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  rd.stage_end("simulate", StageStatus::kDone);
  rd.stage_begin("train");
  rd.stage_note("train", "epochs", 3);
  rd.stage_end("train", StageStatus::kFailed);
  EXPECT_EQ(rd.stage_status("simulate"), StageStatus::kDone);
  EXPECT_EQ(rd.stage_status("train"), StageStatus::kFailed);
  EXPECT_GE(rd.stage_seconds("simulate"), 0.015);
  rd.finish(false);

  const json m = manifest_on_disk(tmp.path());
  ASSERT_EQ(m["stages"].size(), 2u);
  EXPECT_EQ(m["stages"][0]["name"], "simulate");
  EXPECT_EQ(m["stages"][0]["status"], "done");
  EXPECT_GE(m["stages"][0]["seconds"].get<double>(), 0.015);
  EXPECT_FALSE(m["stages"][0]["started"].is_null());
  EXPECT_FALSE(m["stages"][0]["ended"].is_null());
  EXPECT_EQ(m["stages"][1]["name"], "train");
  EXPECT_EQ(m["stages"][1]["status"], "failed");
  EXPECT_EQ(m["stages"][1]["epochs"], 3);
  EXPECT_EQ(m["status"], "failed");
}

TEST(RunDir, UnfinishedRunIsMarkedInterruptedAndRunningStageFailed) {
  test::TempDir tmp;
  try {
    RunDir rd(tmp.path(), options());
    rd.stage_begin("encode");
    throw DataError("boom");
  } catch (const DataError&) {
  }
  const json m = manifest_on_disk(tmp.path());
  EXPECT_EQ(m["status"], "interrupted");
  EXPECT_EQ(m["stages"][0]["status"], "failed");
}

TEST(RunDir, ResumeKeepsFinishedStagesAndFailsStagesThatWereRunning) {
  test::TempDir tmp;
  {
    RunDir rd(tmp.path(), options());
    rd.stage_begin("simulate");
    rd.stage_end("simulate", StageStatus::kDone);
    rd.stage_begin("extract");
    // Simulate SIGKILL: the manifest on disk says "running"; no destructor runs.
    const json m = rd.manifest();
    rd.finish(true);
    write_text_atomic(tmp / "manifest.json", m.dump());
  }
  {
    RunDirOptions o = options();
    o.resume = true;
    RunDir rd(tmp.path(), o);
    EXPECT_EQ(rd.stage_status("simulate"), StageStatus::kDone);
    EXPECT_EQ(rd.stage_status("extract"), StageStatus::kFailed);
    EXPECT_EQ(rd.stage_status("train"), StageStatus::kNone);
    rd.finish(true);
  }  // one writer at a time: the next RunDir takes the lock this one released
  // Without resume, a new run starts with no stages.
  RunDir fresh(tmp.path(), options());
  EXPECT_EQ(fresh.stage_status("simulate"), StageStatus::kNone);
  fresh.finish(true);
}

TEST(RunDir, ReadManifestChecksFormatAndVersion) {
  test::TempDir tmp;
  tmp.write("manifest.json", R"({"format": "taupe.manifest", "version": 99, "stages": []})");
  try {
    RunDir::read_manifest(tmp.path());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("manifest.json"));
    EXPECT_THAT(e.what(), HasSubstr("\"version\""));
  }
  tmp.write("manifest.json", "{not json");
  EXPECT_THROW(RunDir::read_manifest(tmp.path()), DataError);
  EXPECT_THROW(RunDir::read_manifest(tmp / "missing"), IoError);
}

TEST(RunDir, StatusStringsRoundTrip) {
  for (auto s : {StageStatus::kNone, StageStatus::kRunning, StageStatus::kDone, StageStatus::kFailed,
                 StageStatus::kSkipped})
    EXPECT_EQ(stage_status_from_string(to_string(s)), s);
  EXPECT_THROW(stage_status_from_string("finished"), DataError);
}

TEST(RunDir, CommandLineQuoting) {
  const char* argv[] = {"taupe", "config", "show", "--set", "run.out=my dir", "it's"};
  EXPECT_EQ(join_command_line(6, argv), "taupe config show --set 'run.out=my dir' 'it'\\''s'");
}

TEST(RunDir, LibtorchVersionComesFromRegisteredVersionsByDefault) {
  test::TempDir tmp;
  register_version("libtorch", "1.2.3-test");
  RunDirOptions o = options();
  o.libtorch_version.clear();
  RunDir rd(tmp.path(), o);
  EXPECT_EQ(rd.manifest()["versions"]["libtorch"], "1.2.3-test");
  rd.finish(true);
}

}  // namespace
}  // namespace taupe
