#include "taupe/core/run_dir.h"

#include <unistd.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/runtime.h"
#include "taupe/core/version.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

const char* to_string(StageStatus s) {
  switch (s) {
    case StageStatus::kNone: return "none";
    case StageStatus::kRunning: return "running";
    case StageStatus::kDone: return "done";
    case StageStatus::kFailed: return "failed";
    case StageStatus::kSkipped: return "skipped";
  }
  return "none";
}

StageStatus stage_status_from_string(const std::string& s) {
  for (auto st : {StageStatus::kNone, StageStatus::kRunning, StageStatus::kDone, StageStatus::kFailed,
                  StageStatus::kSkipped})
    if (s == to_string(st)) return st;
  throw DataError("unknown stage status \"" + s + "\" (expected none, running, done, failed or skipped)");
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "unknown";
  return buf;
}

std::string join_command_line(int argc, const char* const* argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i] ? argv[i] : "";
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_./=:,+@%") == std::string::npos;
    if (i) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'') out += "'\\''";
        else out += c;
      }
      out += '\'';
    }
  }
  return out;
}

RunDir::RunDir(const fs::path& dir, const RunDirOptions& opts) : dir_(dir) {
  lock_ = std::make_unique<RunLock>(dir_, opts.command_line, opts.force_unlock);
  remove_stale_temporaries(dir_, true);

  json previous_stages = json::array();
  if (opts.resume && fs::exists(dir_ / kManifestName)) previous_stages = read_manifest(dir_).value("stages", json::array());

  const RuntimeInfo rt = runtime_info();
  const auto versions = registered_versions();
  std::string torch = opts.libtorch_version;
  if (torch.empty()) {
    auto it = versions.find("libtorch");
    if (it != versions.end()) torch = it->second;
  }
  json v = {{"taupe", kVersion}};
  if (!torch.empty()) v["libtorch"] = torch;
  for (const auto& [k, val] : versions)
    if (k != "libtorch") v[k] = val;

  manifest_ = {
      {"format", kManifestFormat},
      {"version", kManifestVersion},
      {"versions", v},
      {"seed", opts.seed},
      {"host", host_name()},
      {"threads", opts.threads > 0 ? opts.threads : rt.threads},
      {"blas", {{"name", rt.blas_name}, {"library", rt.blas_library}}},
      {"command_line", opts.command_line},
      {"started", utc_timestamp()},
      {"ended", nullptr},
      {"status", "running"},
      {"stages", previous_stages},
  };
  // A resumed run: stages that were running when the previous process died did not finish.
  for (auto& st : manifest_["stages"])
    if (st.value("status", "") == "running") st["status"] = to_string(StageStatus::kFailed);

  if (!opts.config_toml.empty()) write_text_atomic(dir_ / kConfigName, opts.config_toml);
  if (opts.log_to_file) {
    log_set_file(dir_ / kLogName);
    owns_log_ = true;
  }
  std::lock_guard<std::mutex> lock(mu_);
  write_manifest_locked();
}

RunDir::~RunDir() {
  if (finished_) return;
  try {
    std::lock_guard<std::mutex> lock(mu_);
    manifest_["status"] = "interrupted";
    manifest_["ended"] = utc_timestamp();
    for (auto& st : manifest_["stages"])
      if (st.value("status", "") == "running") st["status"] = to_string(StageStatus::kFailed);
    write_manifest_locked();
  } catch (...) {
  }
  if (owns_log_) log_close_file();
}  // lock_ is released here, after the last manifest write

json* RunDir::find_stage(const std::string& name) {
  for (auto& st : manifest_["stages"])
    if (st.value("name", "") == name) return &st;
  return nullptr;
}

const json* RunDir::find_stage(const std::string& name) const {
  for (const auto& st : manifest_["stages"])
    if (st.value("name", "") == name) return &st;
  return nullptr;
}

void RunDir::stage_begin(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  json* st = find_stage(name);
  if (!st) {
    manifest_["stages"].push_back(json{{"name", name}});
    st = &manifest_["stages"].back();
  }
  *st = json{{"name", name}, {"status", to_string(StageStatus::kRunning)}, {"started", utc_timestamp()},
             {"ended", nullptr}, {"seconds", nullptr}};
  stage_start_[name] = std::chrono::steady_clock::now();
  write_manifest_locked();
}

void RunDir::stage_end(const std::string& name, StageStatus status, const std::vector<fs::path>& artifacts) {
  std::lock_guard<std::mutex> lock(mu_);
  json* st = find_stage(name);
  if (!st) {
    manifest_["stages"].push_back(json{{"name", name}, {"started", nullptr}});
    st = &manifest_["stages"].back();
  }
  if (status == StageStatus::kDone) (*st)["files"] = record_files(dir_, artifacts);
  (*st)["status"] = to_string(status);
  (*st)["ended"] = utc_timestamp();
  auto it = stage_start_.find(name);
  if (it != stage_start_.end()) {
    (*st)["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count();
    stage_start_.erase(it);
  }
  write_manifest_locked();
}

StageStatus RunDir::stage_status(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const json* st = find_stage(name);
  if (!st) return StageStatus::kNone;
  return stage_status_from_string(st->value("status", "none"));
}

double RunDir::stage_seconds(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const json* st = find_stage(name);
  if (!st || !st->contains("seconds") || !(*st)["seconds"].is_number()) return 0.0;
  return (*st)["seconds"].get<double>();
}

void RunDir::stage_note(const std::string& name, const std::string& key, const json& value) {
  std::lock_guard<std::mutex> lock(mu_);
  json* st = find_stage(name);
  if (!st) {
    manifest_["stages"].push_back(json{{"name", name}, {"status", to_string(StageStatus::kNone)}});
    st = &manifest_["stages"].back();
  }
  (*st)[key] = value;
  write_manifest_locked();
}

void RunDir::finish(bool success) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    manifest_["status"] = success ? "done" : "failed";
    manifest_["ended"] = utc_timestamp();
    for (auto& st : manifest_["stages"])
      if (st.value("status", "") == "running") st["status"] = to_string(StageStatus::kFailed);
    write_manifest_locked();
    finished_ = true;
  }
  if (owns_log_) {
    log_close_file();
    owns_log_ = false;
  }
}

std::vector<std::string> RunDir::verify_stage(const std::string& name) const {
  json files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const json* st = find_stage(name);
    if (!st || !st->contains("files")) return {"no file records (written by an older taupe)"};
    files = (*st)["files"];
  }
  return verify_files(dir_, files);
}

std::map<std::string, std::vector<std::string>> verify_run_dir(const fs::path& dir) {
  const json m = RunDir::read_manifest(dir);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& st : m["stages"]) {
    const std::string name = st.value("name", "");
    const std::string status = st.value("status", "none");
    auto& problems = out[name];
    if (status != to_string(StageStatus::kDone)) {
      problems.push_back("stage not finished (status " + status + ")");
      continue;
    }
    if (!st.contains("files")) {
      problems.push_back("no file records (written by an older taupe)");
      continue;
    }
    problems = verify_files(dir, st["files"]);
  }
  return out;
}

json RunDir::manifest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return manifest_;
}

void RunDir::write_manifest_locked() { write_text_atomic(dir_ / kManifestName, manifest_.dump(2) + "\n"); }

json RunDir::read_manifest(const fs::path& dir) {
  const fs::path file = dir / kManifestName;
  const std::string text = read_text_file(file);
  json m;
  try {
    m = json::parse(text);
  } catch (const json::exception& e) {
    throw DataError(file.string() + ": not valid JSON: " + e.what());
  }
  if (!m.is_object() || m.value("format", "") != kManifestFormat)
    throw DataError(file.string() + ": field \"format\" must be \"" + std::string(kManifestFormat) + "\"");
  if (!m.contains("version") || !m["version"].is_number_integer() || m["version"].get<int>() != kManifestVersion)
    throw DataError(file.string() + ": field \"version\" must be " + std::to_string(kManifestVersion),
                    "the run directory was written by another taupe version; start a new run directory");
  if (!m.contains("stages") || !m["stages"].is_array()) throw DataError(file.string() + ": field \"stages\" must be an array");
  return m;
}

}  // namespace taupe
