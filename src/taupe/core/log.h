#pragma once
// Logging: leveled messages on stderr (stdout is kept for command output such as
// `taupe config show`), optionally mirrored with timestamps into a log file in the run
// directory. Thread-safe. `--quiet` shows warnings and errors only, `--verbose` adds debug.
#include <filesystem>
#include <sstream>
#include <string>

namespace taupe {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

/// Messages above `level` are not shown on the console (the log file always gets >= info,
/// and debug too when the console level is debug).
void log_set_level(LogLevel level);
LogLevel log_level();
/// Level from the global flags: quiet -> warn, verbose -> debug, otherwise info.
LogLevel log_level_from_flags(bool quiet, bool verbose);

/// Appends every message to `file` (created, parent directories too) until log_close_file().
/// Throws IoError when the file cannot be opened.
void log_set_file(const std::filesystem::path& file);
void log_close_file();
/// Redirects console output (tests); nullptr restores std::cerr.
void log_set_console(std::ostream* out);

/// Starts every console and file line with `prefix` (a multi-process run's "[rank 1] ").
void log_set_prefix(const std::string& prefix);

void log_message(LogLevel level, const std::string& message);
inline void log_error(const std::string& m) { log_message(LogLevel::kError, m); }
inline void log_warn(const std::string& m) { log_message(LogLevel::kWarn, m); }
inline void log_info(const std::string& m) { log_message(LogLevel::kInfo, m); }
inline void log_debug(const std::string& m) { log_message(LogLevel::kDebug, m); }

/// Whether console output for `level` is enabled (to skip building expensive messages).
bool log_enabled(LogLevel level);

/// "2024-05-01T12:34:56Z" for now (UTC).
std::string utc_timestamp();

}  // namespace taupe
