#include "taupe/core/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

struct LogState {
  std::mutex mu;
  LogLevel level = LogLevel::kInfo;
  std::ofstream file;
  std::filesystem::path file_path;
  std::ostream* console = nullptr;
  std::string prefix;  ///< e.g. "[rank 1] " in a multi-process run
};

LogState& state() {
  static LogState s;
  return s;
}

const char* level_tag(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void log_set_level(LogLevel level) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().level = level;
}

LogLevel log_level() {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().level;
}

LogLevel log_level_from_flags(bool quiet, bool verbose) {
  if (verbose) return LogLevel::kDebug;
  if (quiet) return LogLevel::kWarn;
  return LogLevel::kInfo;
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(log_level()); }

void log_set_file(const std::filesystem::path& file) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.file.is_open()) s.file.close();
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  s.file.open(file, std::ios::app);
  if (!s.file) throw IoError("cannot open log file " + file.string() + " for writing");
  s.file_path = file;
}

void log_close_file() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.file.is_open()) s.file.close();
  s.file_path.clear();
}

void log_set_console(std::ostream* out) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().console = out;
}

void log_set_prefix(const std::string& prefix) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.prefix = prefix;
}

void log_message(LogLevel level, const std::string& message) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (static_cast<int>(level) <= static_cast<int>(s.level)) {
    std::ostream& out = s.console ? *s.console : std::cerr;
    if (level == LogLevel::kInfo) out << s.prefix << message << '\n';
    else out << s.prefix << level_tag(level) << ": " << message << '\n';
    out.flush();
  }
  const bool to_file = level != LogLevel::kDebug || s.level == LogLevel::kDebug;
  if (s.file.is_open() && to_file) {
    s.file << utc_timestamp() << ' ' << s.prefix << level_tag(level) << ": " << message << '\n';
    s.file.flush();
  }
}

}  // namespace taupe
