#pragma once
// Small fixtures shared by the tests: temporary directories and running the built `taupe`.
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::test {

/// A fresh unique directory under /tmp (or $TMPDIR), removed with its content on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "taupe-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  /// Writes `content` to `name` (relative to the directory), creating parents; returns the path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

/// Reads a whole file (empty string when it does not exist).
std::string slurp(const std::filesystem::path& file);

struct CommandResult {
  int exit_code = -1;  ///< exit status, or 128 + signal when killed by a signal
  std::string out;     ///< stdout
  std::string err;     ///< stderr
};

/// Runs `program` with `args` (no shell), optional working directory; captures both streams.
CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          const std::filesystem::path& cwd = {});
/// Runs the `taupe` binary built alongside the tests (TAUPE_BINARY_PATH).
CommandResult run_taupe(const std::vector<std::string>& args, const std::filesystem::path& cwd = {});
/// Path of the built `taupe` binary.
std::filesystem::path taupe_binary();
/// The repository root (TAUPE_SOURCE_DIR).
std::filesystem::path source_dir();

}  // namespace taupe::test
