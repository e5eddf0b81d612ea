#pragma once
// Run directories. Every command that produces results writes into one:
//   <dir>/config.toml     resolved configuration (what was actually used)
//   <dir>/taupe.log       log file (append-only, timestamped)
//   <dir>/manifest.json   versions, seed, host, threads, BLAS, command line, start/end,
//                         overall status and per-stage status + timings
// Every write of config.toml and manifest.json is atomic (core/atomic_file.h), so a killed run
// never leaves a half-written manifest; a stage that did not finish is recorded as "running"
// (it was interrupted) or "failed", never "done". `taupe run` uses stage_status() to resume.
//
// A RunDir is the run directory's only writer: the constructor takes its lock (core/run_lock.h)
// and the destructor releases it. stage_end(..., kDone, artifacts) records the size and SHA-256
// of every file under the stage's artifacts (core/artifacts.h) in its "files"; verify_stage()
// checks them.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/core/artifacts.h"
#include "taupe/core/run_lock.h"

namespace taupe {

enum class StageStatus { kNone, kRunning, kDone, kFailed, kSkipped };
/// "none", "running", "done", "failed", "skipped".
const char* to_string(StageStatus s);
/// Inverse of to_string; throws DataError for unknown text.
StageStatus stage_status_from_string(const std::string& s);

struct RunDirOptions {
  std::string command_line;    ///< argv joined (shell-quoted)
  std::uint64_t seed = 0;
  int threads = 0;             ///< 0: from runtime_info()
  std::string libtorch_version;  ///< "" : registered_versions()["libtorch"] if any
  std::string config_toml;     ///< written to config.toml when not empty
  bool log_to_file = true;     ///< mirror the log into <dir>/taupe.log
  bool resume = false;         ///< keep the existing manifest's stages (taupe run --resume)
  bool force_unlock = false;   ///< take the lock even from a holder on another host (--force-unlock)
};

class RunDir {
 public:
  static constexpr const char* kManifestName = "manifest.json";
  static constexpr const char* kConfigName = "config.toml";
  static constexpr const char* kLogName = "taupe.log";
  static constexpr const char* kManifestFormat = "taupe.manifest";
  static constexpr int kManifestVersion = 1;

  /// Creates (or reopens) the run directory, takes its lock (RunLockedError when another writer
  /// holds it), removes stale temporaries of killed runs (recursively), writes config.toml and
  /// an initial manifest (status "running"). Throws IoError.
  RunDir(const std::filesystem::path& dir, const RunDirOptions& opts);
  /// Marks the run "interrupted" when finish() was not called (exception unwinding).
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path file(const std::string& name) const { return dir_ / name; }

  void stage_begin(const std::string& name);
  /// Ends a stage. With kDone, records {"size", "sha256"} of every file under `artifacts` (files
  /// or directories under the run directory, as the stage table declares them) in its "files".
  void stage_end(const std::string& name, StageStatus status, const std::vector<std::filesystem::path>& artifacts = {});
  StageStatus stage_status(const std::string& name) const;
  /// Seconds the stage took (0 when it has not ended).
  double stage_seconds(const std::string& name) const;
  /// Arbitrary extra fields of a stage (e.g. output files, metrics); written with the manifest.
  void stage_note(const std::string& name, const std::string& key, const nlohmann::json& value);

  /// Checks the files recorded for a finished stage: one line per missing or changed file
  /// (core/artifacts.h verify_files); a stage without records gets one line saying so.
  std::vector<std::string> verify_stage(const std::string& name) const;

  /// Ends the run: status "done" or "failed"; writes the end time and closes the log file.
  void finish(bool success);

  /// The current manifest document.
  nlohmann::json manifest() const;
  /// Reads and checks a manifest (format name and version). Throws IoError / DataError.
  static nlohmann::json read_manifest(const std::filesystem::path& dir);

 private:
  nlohmann::json* find_stage(const std::string& name);
  const nlohmann::json* find_stage(const std::string& name) const;
  void write_manifest_locked();

  std::filesystem::path dir_;
  std::unique_ptr<RunLock> lock_;  ///< released after the last manifest write (destroyed last)
  mutable std::mutex mu_;
  nlohmann::json manifest_;
  std::map<std::string, std::chrono::steady_clock::time_point> stage_start_;
  bool finished_ = false;
  bool owns_log_ = false;
};

/// Checks every stage's recorded files in a run directory (`taupe verify`): stage name ->
/// problems (empty when intact). Stages that are not "done" are listed with one line giving
/// their status. Throws IoError / DataError when the manifest cannot be read.
std::map<std::string, std::vector<std::string>> verify_run_dir(const std::filesystem::path& dir);

/// Host name of this machine ("unknown" when unavailable).
std::string host_name();
/// argv joined with shell quoting where needed.
std::string join_command_line(int argc, const char* const* argv);

}  // namespace taupe
