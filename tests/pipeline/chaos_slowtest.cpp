// Chaos test: `taupe run --preset tiny` is killed at seeded random moments, with SIGKILL or
// SIGTERM, and rerun each time until it finishes; then again in a fresh directory until at least
// kMinFaults faults have hit it. After every fault: the process ended as expected (137 for
// SIGKILL, 143 for SIGTERM, 0 when it had already finished), every JSON file under a final name
// parses and every finished stage's recorded files verify (no final-named file is partial).
// After every finished run: summary.json equals the uninterrupted run's (timings removed),
// `taupe verify` passes and no temporary part survives. Prints the fault count per stage.
// TAUPE_CHAOS_SEED overrides the seed; TAUPE_KEEP_TEST_OUTPUT=1 keeps the directories.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/child_process.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/rng.h"
#include "taupe/core/run_dir.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kMinFaults = 50;

std::vector<std::string> run_args(const fs::path& out) {
  return {TAUPE_BINARY_PATH, "--quiet", "run", "--preset", "tiny", "--out", out.string()};
}

/// The stage recorded as running, "start" before the first, "between" when none runs.
std::string running_stage(const fs::path& dir) {
  try {
    const json m = RunDir::read_manifest(dir);
    for (const auto& st : m["stages"])
      if (st.value("status", "") == "running") return st.value("name", "");
    return "between";
  } catch (...) {
    return "start";
  }
}

std::set<std::string> done_stages(const fs::path& dir) {
  std::set<std::string> out;
  try {
    for (const auto& st : RunDir::read_manifest(dir)["stages"])
      if (st.value("status", "") == "done") out.insert(st.value("name", ""));
  } catch (...) {
  }
  return out;
}

/// Problems of a killed run directory: unparsable JSON under a final name, recorded files of
/// finished stages that do not verify.
std::vector<std::string> partial_files(const fs::path& dir) {
  std::vector<std::string> bad;
  if (!fs::exists(dir)) return bad;  // killed before it created its directory
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || is_temporary_name(name) || e.path().extension() != ".json") continue;
    try {
      const json parsed = json::parse(read_text_file(e.path()));
      (void)parsed;
    } catch (const std::exception&) {
      bad.push_back(e.path().string() + ": not valid JSON");
    }
  }
  if (!fs::exists(dir / RunDir::kManifestName)) return bad;  // killed before it wrote the manifest
  try {
    for (const auto& [stage, problems] : verify_run_dir(dir))
      for (const auto& p : problems)
        if (p.find("not finished") == std::string::npos) bad.push_back(stage + ": " + p);
  } catch (const std::exception& e) {
    bad.push_back(std::string("manifest: ") + e.what());
  }
  return bad;
}

/// A launch's output; a process killed before it redirected its output has none.
std::string launch_output(const fs::path& log) {
  return fs::exists(log) ? read_text_file(log) : "(no output: killed before it started)";
}

std::vector<fs::path> temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (is_temporary_name(e.path().filename().string())) out.push_back(e.path());
  return out;
}

TEST(Chaos, RandomSigkillAndSigtermNeverCorruptARunAndResumeToTheSameSummary) {
  const std::uint64_t seed = std::getenv("TAUPE_CHAOS_SEED") ? std::strtoull(std::getenv("TAUPE_CHAOS_SEED"), nullptr, 10)
                                                             : 20261206;
  Rng rng(seed);
  const fs::path base = fs::temp_directory_path() / ("taupe_chaos_" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);

  const fs::path ref = base / "uninterrupted";
  const auto t_ref = std::chrono::steady_clock::now();
  ASSERT_EQ(test::wait_for(test::spawn(run_args(ref), base / "ref.log")), 0) << read_text_file(base / "ref.log");
  const double ref_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_ref).count();
  const json expected = test::summary_without_timings(ref);

  int faults = 0, sigkills = 0, sigterms = 0, runs = 0, launches = 0;
  std::map<std::string, int> by_stage;
  while (faults < kMinFaults) {
    const fs::path dir = base / ("chaos_" + std::to_string(runs));
    double max_delay = 3.0;  // seconds; doubles while a fault makes no progress, so every run ends
    int stalled = 0;
    for (;;) {
      const std::set<std::string> before = done_stages(dir);
      const fs::path log = base / ("launch_" + std::to_string(launches++) + ".log");
      const pid_t pid = test::spawn(run_args(dir), log);
      const double delay = rng.uniform(0.2, max_delay);
      const auto t0 = std::chrono::steady_clock::now();
      int status = -1;
      while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < delay) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid) {
          status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (status >= 0) {  // finished before the fault
        ASSERT_EQ(status, 0) << launch_output(log);
        break;
      }
      const bool term = rng.uniform() < 0.5;
      const std::string stage = running_stage(dir);
      ::kill(pid, term ? SIGTERM : SIGKILL);
      status = test::wait_for(pid);
      if (status == 0) break;  // it finished as the signal arrived
      ++faults;
      ++(term ? sigterms : sigkills);
      ++by_stage[stage];
      ASSERT_EQ(status, term ? 143 : 137) << "fault " << faults << " (" << (term ? "SIGTERM" : "SIGKILL") << " in "
                                          << stage << "):\n" << launch_output(log);
      const auto bad = partial_files(dir);
      ASSERT_TRUE(bad.empty()) << "after fault " << faults << " in " << stage << ": " << bad.front();
      if (done_stages(dir) == before && ++stalled >= 2) {
        max_delay *= 2;
        stalled = 0;
      }
    }
    ++runs;
    EXPECT_EQ(test::summary_without_timings(dir), expected) << "run " << dir;
    EXPECT_TRUE(temporaries(dir).empty()) << temporaries(dir).front();
    EXPECT_FALSE(fs::exists(dir / "taupe.lock"));
    for (const auto& [stage, problems] : verify_run_dir(dir)) EXPECT_TRUE(problems.empty()) << stage << ": " << problems.front();
  }
  std::cout << "[chaos] seed " << seed << ": " << faults << " faults (" << sigkills << " SIGKILL, " << sigterms
            << " SIGTERM) over " << runs << " runs, " << launches << " launches; uninterrupted run " << ref_s
            << " s; faults by running stage:";
  for (const auto& [stage, n] : by_stage) std::cout << ' ' << stage << '=' << n;
  std::cout << std::endl;
  EXPECT_GE(faults, kMinFaults);
  EXPECT_GE(by_stage.size(), 5u) << "faults should reach most stages";
  if (!std::getenv("TAUPE_KEEP_TEST_OUTPUT")) fs::remove_all(base);
}

}  // namespace
}  // namespace taupe
