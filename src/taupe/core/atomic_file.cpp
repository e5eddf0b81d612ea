// Atomic file writes: temp sibling + fsync + rename (+ fsync of the directory).
#include "taupe/core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "taupe/core/errors.h"

namespace fs = std::filesystem;

namespace taupe {
namespace {

std::string errno_text() { return std::strerror(errno); }

void fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) {
    if (directory) return;  // best effort for directories
    throw IoError("cannot open " + p.string() + " to flush it: " + errno_text());
  }
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0 && !directory) {
    errno = saved;
    throw IoError("cannot flush " + p.string() + " to disk: " + errno_text());
  }
}

constexpr const char* kTempMarker = ".tmp.";
constexpr const char* kPartSuffix = ".part";

/// Parses the pid of a `<name>.tmp.<pid>` (or `<name>.tmp.<pid>.part`) file; -1 when the name
/// has another form.
long temp_owner_pid(const std::string& filename) {
  const auto pos = filename.rfind(kTempMarker);
  if (pos == std::string::npos) return -1;
  std::string digits = filename.substr(pos + std::strlen(kTempMarker));
  const std::string part = kPartSuffix;
  if (digits.size() > part.size() && digits.compare(digits.size() - part.size(), part.size(), part) == 0)
    digits.resize(digits.size() - part.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::strtol(digits.c_str(), nullptr, 10);
}

}  // namespace

fs::path temp_path_for(const fs::path& final_path) {
  fs::path tmp = final_path;
  tmp += ".tmp." + std::to_string(static_cast<long>(::getpid()));
  return tmp;
}

void write_atomic(const fs::path& final_path, const std::function<void(const fs::path& tmp)>& write) {
  if (final_path.empty()) throw IoError("cannot write a file with an empty name");
  const fs::path parent = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw IoError("cannot create directory " + parent.string() + " for " + final_path.string() + ": " + ec.message());
  if (fs::is_directory(final_path))
    throw IoError("cannot write " + final_path.string() + ": a directory has that name");

  const fs::path tmp = temp_path_for(final_path);
  fs::remove(tmp, ec);
  try {
    write(tmp);
    if (!fs::exists(tmp)) throw IoError("writing " + final_path.string() + " produced no file at " + tmp.string());
    fsync_path(tmp, false);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0)
      throw IoError("cannot rename " + tmp.string() + " to " + final_path.string() + ": " + errno_text());
  } catch (...) {
    const int saved = errno;
    try {
      throw_if_out_of_space(tmp, saved);
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    fs::remove(tmp, ec);
    throw;
  }
  fsync_path(parent, true);
}

void write_directory_atomic(const fs::path& final_dir, const std::function<void(const fs::path& stage)>& write) {
  if (final_dir.empty()) throw IoError("cannot write a directory with an empty name");
  fs::path dir = final_dir.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "out/" names "out"
  const fs::path stage = temp_path_for(dir);
  std::error_code ec;
  fs::remove_all(stage, ec);
  try {
    fs::create_directories(stage);
    write(stage);
    if (fs::exists(dir)) fs::remove_all(dir);
    if (::rename(stage.c_str(), dir.c_str()) != 0)
      throw IoError("cannot rename " + stage.string() + " to " + dir.string() + ": " + errno_text());
  } catch (...) {
    fs::remove_all(stage, ec);
    throw;
  }
  fsync_path(dir.has_parent_path() ? dir.parent_path() : fs::path("."), true);
}

void write_text_atomic(const fs::path& final_path, const std::string& content) {
  write_atomic(final_path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot open " + tmp.string() + " for writing (for " + final_path.string() + ")");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw IoError("cannot write " + final_path.string() + " (disk full?)");
  });
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) throw IoError("cannot read " + path.string() + ": no such file");
    throw IoError("cannot read " + path.string() + ": " + errno_text());
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw IoError("error while reading " + path.string());
  return s.str();
}

bool is_temporary_name(const std::string& filename) { return temp_owner_pid(filename) >= 0; }

void throw_if_out_of_space(const fs::path& file, int write_errno) {
  // The name the user knows: `a/b.h5` for `a/b.h5.tmp.123.part`.
  std::string shown = file.string();
  const bool temporary = is_temporary_name(file.filename().string());
  if (temporary) shown = shown.substr(0, shown.rfind(kTempMarker));
  const std::string removed = temporary ? " (its temporary part is removed)" : "";
  std::error_code ec;
  struct rlimit rl;
  if (::getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const auto size = fs::file_size(file, ec);
    if (write_errno == EFBIG || (!ec && size >= static_cast<std::uintmax_t>(rl.rlim_cur)))
      throw ResourceError("cannot write " + shown + ": the file-size limit of this process (" +
                              std::to_string(static_cast<unsigned long long>(rl.rlim_cur)) + " bytes) was reached" +
                              removed,
                          "raise the limit (`ulimit -f`) or make the output smaller");
  }
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    const unsigned long long free_bytes = static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize;
    if (write_errno == ENOSPC || write_errno == EDQUOT || free_bytes < (1ull << 20))
      throw ResourceError("cannot write " + shown + ": the disk is full (" + std::to_string(free_bytes) +
                              " bytes free in " + dir.string() + ")" + removed,
                          "free space on that file system (or write elsewhere with --out) and run the command again");
  }
}

void remove_stale_temporaries(const fs::path& dir, bool recursive) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  if (recursive)
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) remove_stale_temporaries(entry.path(), true);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const long pid = temp_owner_pid(entry.path().filename().string());
    if (pid < 0) continue;
    // A temporary of a live process (another writer, or ourselves) is in use: keep it.
    if (pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;
    fs::remove(entry.path(), ec);
  }
}

}  // namespace taupe
