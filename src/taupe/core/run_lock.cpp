// Run directory lock: O_EXCL lock file with holder info + heartbeat, and an OFD fcntl lock
// (run_lock.h; the choice is argued in docs/decisions.md).
#include "taupe/core/run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/signals.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

double mtime_age_s(const struct stat& st) {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return now - (static_cast<double>(st.st_mtim.tv_sec) + 1e-9 * static_cast<double>(st.st_mtim.tv_nsec));
}

/// Parses the holder JSON of an open lock file; false when empty or not (yet) complete.
bool read_holder_fd(int fd, LockHolder& h) {
  std::string text;
  char buf[4096];
  off_t off = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  try {
    const json j = json::parse(text);
    h.host = j.at("host").get<std::string>();
    h.pid = j.at("pid").get<long>();
    h.command = j.value("command", "");
    h.started = j.value("started", "");
  } catch (const std::exception&) {
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0) h.heartbeat_age_s = mtime_age_s(st);
  return true;
}

/// The holder of a lock that another process holds; retries briefly while it is being written.
LockHolder wait_for_holder(const fs::path& file) {
  LockHolder h;
  for (int i = 0; i < 50; ++i) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      const bool ok = read_holder_fd(fd, h);
      ::close(fd);
      if (ok) return h;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  h.host = "unknown";
  h.command = "(the holder has not written its details yet)";
  return h;
}

std::string age_text(double s) {
  if (s < 120) return std::to_string(static_cast<long>(s)) + " s";
  if (s < 7200) return std::to_string(static_cast<long>(s / 60)) + " min";
  return std::to_string(static_cast<long>(s / 3600)) + " h";
}

}  // namespace

std::string LockHolder::describe() const {
  return "host " + host + ", pid " + std::to_string(pid) + ", started " + (started.empty() ? "?" : started) +
         ", command: " + (command.empty() ? "?" : command);
}

fs::path lock_root_for(const fs::path& output, bool output_is_file) {
  // A bare file name ("pred.csv") lies in the working directory.
  const fs::path dir = !output_is_file ? output : output.has_parent_path() ? output.parent_path() : fs::path(".");
  const fs::path own = fs::weakly_canonical(fs::absolute(dir));
  for (fs::path d = own; !d.empty(); d = d.parent_path()) {
    std::error_code ec;
    if (fs::is_regular_file(d / RunDir::kManifestName, ec)) {
      try {
        RunDir::read_manifest(d);
        return d;
      } catch (const Error&) {  // a model directory's manifest.json, or unreadable: not a run directory
      }
    }
    if (d == d.root_path()) break;
  }
  return own;
}

bool read_lock_holder(const fs::path& dir, LockHolder& out) {
  const int fd = ::open((dir / kLockFileName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = read_holder_fd(fd, out);
  ::close(fd);
  return ok;
}

namespace {
RunLockedError in_use_error(const fs::path& dir, const LockHolder& h) {
  return RunLockedError("run directory " + dir.string() + " is in use by another taupe (" + h.describe() + ")",
                        "wait for it to finish or stop it, or write to another directory (--out)");
}

/// Opens the lock file, creating it when absent (`created`); -1 when it vanished between the
/// attempts (the caller tries again).
int open_lock_file(const fs::path& file, bool& created) {
  created = true;
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  if (errno != EEXIST) throw IoError("cannot create the lock file " + file.string() + ": " + errno_text(errno));
  created = false;
  fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;  // released between our two opens
    throw IoError("cannot open the lock file " + file.string() + ": " + errno_text(errno));
  }
  return fd;
}

/// Takes the OFD fcntl lock of an open lock file; false on a file system without fcntl locks.
/// Closes fd and throws when another process holds the lock or locking fails.
bool lock_fd(int fd, const fs::path& file, const fs::path& dir) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return true;
  const int e = errno;
  if (e == EAGAIN || e == EACCES) {
    ::close(fd);
    throw in_use_error(dir, wait_for_holder(file));
  }
  if (e != ENOLCK && e != EINVAL && e != EOPNOTSUPP && e != ENOSYS) {
    ::close(fd);
    throw IoError("cannot lock " + file.string() + ": " + errno_text(e));
  }
  return false;
}

/// Whether the open file is still the one at `file` (its holder may have just released it).
bool still_at_path(int fd, const fs::path& file) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::stat(file.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/// What taking an existing lock file takes over ("" when nothing): a stale lock of this host, a
/// lock of another host (only with force_unlock) or an incomplete file. Closes fd and throws when
/// the holder may still run: a live process of this host without fcntl locks (have_fcntl false),
/// or another host's without force_unlock.
std::string take_over(int fd, const fs::path& dir, const std::string& me, long my_pid, bool have_fcntl,
                      bool force_unlock) {
  LockHolder h;
  const bool known = read_holder_fd(fd, h);
  if (known && h.host == me && h.pid != my_pid) {
    const bool alive = ::kill(static_cast<pid_t>(h.pid), 0) == 0 || errno == EPERM;
    if (alive && !have_fcntl) {
      ::close(fd);
      throw in_use_error(dir, h);
    }
    return "the stale lock of " + h.describe() + " (that process is no longer running)";
  }
  if (known && h.host != me) {
    if (!force_unlock) {
      ::close(fd);
      throw RunLockedError("run directory " + dir.string() + " is locked by a taupe on another host (" + h.describe() +
                               "); its heartbeat was last seen " + age_text(h.heartbeat_age_s) + " ago",
                           "if that process is gone (a live holder touches the lock every " +
                               std::to_string(kLockHeartbeatSeconds) + " s), rerun with --force-unlock");
    }
    return "the lock of " + h.describe() + ", forced (--force-unlock; heartbeat " + age_text(h.heartbeat_age_s) +
           " old)";
  }
  if (!known) return "an incomplete lock file (a writer stopped while taking the lock)";
  return "";
}

/// Writes this process as the holder into the locked file; closes fd and removes the file on failure.
void write_holder(int fd, const fs::path& file, const std::string& me, long my_pid, const std::string& command) {
  const json holder = {{"host", me}, {"pid", my_pid}, {"command", command}, {"started", utc_timestamp()}};
  const std::string text = holder.dump() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int e = errno;
    ::close(fd);
    ::unlink(file.c_str());
    throw IoError("cannot write the lock file " + file.string() + ": " + errno_text(e));
  }
  ::fsync(fd);
}
}  // namespace

RunLock::RunLock(const fs::path& dir, const std::string& command, bool force_unlock) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec))
    throw IoError("cannot create run directory " + dir.string() + (ec ? ": " + ec.message() : ""));
  dir_ = fs::canonical(dir, ec);
  if (ec) throw IoError("cannot resolve run directory " + dir.string() + ": " + ec.message());
  file_ = dir_ / kLockFileName;
  const std::string me = host_name();
  const long my_pid = static_cast<long>(::getpid());

  for (int attempt = 0; attempt < 20 && fd_ < 0; ++attempt) {
    bool created = true;
    const int fd = open_lock_file(file_, created);
    if (fd < 0) continue;
    // Without fcntl locks (some file systems) the pid check of take_over decides.
    const bool have_fcntl = lock_fd(fd, file_, dir_);
    if (!still_at_path(fd, file_)) {
      ::close(fd);
      continue;
    }
    if (!created) {
      const std::string note = take_over(fd, dir_, me, my_pid, have_fcntl, force_unlock);
      if (!note.empty()) taken_over_ = note;
    }
    write_holder(fd, file_, me, my_pid, command);
    fd_ = fd;
  }
  if (fd_ < 0) throw RunLockedError("cannot take the lock of run directory " + dir_.string() + ": it keeps changing hands");
  if (!taken_over_.empty()) log_warn("run directory " + dir_.string() + ": took over " + taken_over_);
  set_emergency_unlink(file_.string());
  heartbeat_ = std::thread([this] { heartbeat(); });
}

void RunLock::heartbeat() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(kLockHeartbeatSeconds), [this] { return stop_; }))
    ::futimens(fd_, nullptr);
}

RunLock::~RunLock() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  set_emergency_unlink("");
  // Remove the file only while it still names us (a forced takeover from another host may have
  // rewritten it), then drop the fcntl lock by closing.
  LockHolder h;
  if (read_holder_fd(fd_, h) && h.pid == static_cast<long>(::getpid()) && h.host == host_name())
    ::unlink(file_.c_str());
  ::close(fd_);
}

}  // namespace taupe
