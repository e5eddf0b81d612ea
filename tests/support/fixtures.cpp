#include "support/fixtures.h"

#include <fcntl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace fs = std::filesystem;

namespace taupe::test {

TempDir::TempDir(const std::string& prefix) {
  static std::atomic<unsigned> counter{0};
  const char* tmp = std::getenv("TMPDIR");
  const fs::path base = tmp && *tmp ? fs::path(tmp) : fs::path("/tmp");
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path p = base / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                               std::to_string(rd() % 1000000));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory under " + base.string());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::write(const std::string& name, const std::string& content) const {
  const fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
  return p;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

/// Reads from two pipes until both close (no deadlock on large outputs).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  char buf[65536];
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    fd_set set;
    FD_ZERO(&set);
    if (out_open) FD_SET(out_fd, &set);
    if (err_open) FD_SET(err_fd, &set);
    const int maxfd = std::max(out_open ? out_fd : -1, err_open ? err_fd : -1);
    if (::select(maxfd + 1, &set, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (auto [fd, str, open] : {std::tuple<int, std::string*, bool*>{out_fd, &out, &out_open},
                                 std::tuple<int, std::string*, bool*>{err_fd, &err, &err_open}}) {
      if (!*open || !FD_ISSET(fd, &set)) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) str->append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) *open = false;
    }
  }
}

}  // namespace

CommandResult run_command(const std::string& program, const std::vector<std::string>& args, const fs::path& cwd) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) throw std::runtime_error("pipe() failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(127);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult r;
  drain(out_pipe[0], err_pipe[0], r.out, r.err);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  return r;
}

fs::path taupe_binary() { return fs::path(TAUPE_BINARY_PATH); }
fs::path source_dir() { return fs::path(TAUPE_SOURCE_DIR); }

CommandResult run_taupe(const std::vector<std::string>& args, const fs::path& cwd) {
  return run_command(taupe_binary().string(), args, cwd);
}

}  // namespace taupe::test
