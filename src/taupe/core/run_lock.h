#pragma once
// One writer per run directory (docs/reliability.md, docs/decisions.md "Run directory lock").
//
// The lock is the file `<dir>/taupe.lock`, reached through the canonical path of the directory
// (so two paths to one directory, e.g. through a symlink, meet at one lock), and held two ways:
//   - created with O_CREAT | O_EXCL (atomic on local file systems and on NFS v3+), holding the
//     holder's host, pid, command and start time as JSON; its mtime is a heartbeat, touched every
//     `kLockHeartbeatSeconds` while the lock is held;
//   - an open-file-description lock (fcntl F_OFD_SETLK) on that file, held until the process
//     ends: the kernel (or the NFS lock manager) drops it when the holder dies, SIGKILL included.
// A second writer is refused with RunLockedError naming the holder. A lock file whose fcntl lock
// is free was left by a dead process: on the same host it is taken over (and logged); a holder
// on another host is reported with the age of its heartbeat and taken over only with
// `force_unlock` (`--force-unlock`), because network file systems do not always carry fcntl
// locks across hosts. Distributed ranks of one run share the lock of their rank 0.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace taupe {

inline constexpr const char* kLockFileName = "taupe.lock";
inline constexpr int kLockHeartbeatSeconds = 10;

/// Who holds (or last held) a run directory's lock.
struct LockHolder {
  std::string host;
  long pid = 0;
  std::string command;
  std::string started;        ///< UTC, ISO 8601
  double heartbeat_age_s = 0;  ///< seconds since the lock file's mtime
  /// "host <h>, pid <p>, started <t>, command: <c>"
  std::string describe() const;
};

class RunLock {
 public:
  /// Creates `dir` if needed and takes its lock. Throws RunLockedError when a live writer holds
  /// it (or a holder on another host, unless `force_unlock`), IoError when the lock file cannot
  /// be created.
  RunLock(const std::filesystem::path& dir, const std::string& command, bool force_unlock = false);
  /// Releases the lock (removes the lock file, drops the fcntl lock).
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// The canonical directory the lock protects.
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& file() const { return file_; }
  /// Non-empty when the lock was taken over from a dead or forcibly unlocked holder: says whose.
  const std::string& taken_over() const { return taken_over_; }

 private:
  void heartbeat();

  std::filesystem::path dir_, file_;
  int fd_ = -1;
  std::string taken_over_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread heartbeat_;
};

/// The directory whose lock guards a write to `output` (stage subcommands writing into a run
/// directory, e.g. `--out RUN/perturb`): the nearest directory at or above `output` holding a
/// run manifest (manifest.json of format taupe.manifest), else `output` itself (its parent
/// directory when `output_is_file`).
std::filesystem::path lock_root_for(const std::filesystem::path& output, bool output_is_file = false);

/// The holder recorded in `<dir>/taupe.lock`; false when there is no readable lock file.
bool read_lock_holder(const std::filesystem::path& dir, LockHolder& out);

}  // namespace taupe
