// Stop flag + watchdog for SIGINT / SIGTERM, SIGXFSZ and SIGPIPE ignored (signals.h).
#include "taupe/core/signals.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

std::atomic<int> g_signal{0};
int g_pipe[2] = {-1, -1};
std::mutex g_unlink_mutex;
std::string g_unlink_path;

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

extern "C" void on_stop_signal(int sig) {
  const int saved = errno;
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  if (g_pipe[1] >= 0) {
    const char b = static_cast<char>(sig);
    ssize_t rc = ::write(g_pipe[1], &b, 1);
    (void)rc;
  }
  errno = saved;
}

[[noreturn]] void forced_exit(int sig, const char* why) {
  {
    std::lock_guard<std::mutex> lock(g_unlink_mutex);
    if (!g_unlink_path.empty()) ::unlink(g_unlink_path.c_str());
  }
  std::string msg = std::string("taupe: stopped by ") + signal_name(sig) + " (" + why +
                    "); every file is written atomically: run the same command to resume\n";
  ssize_t rc = ::write(2, msg.data(), msg.size());
  (void)rc;
  ::_exit(128 + sig);
}

void watchdog() {
  char b = 0;
  while (::read(g_pipe[0], &b, 1) != 1) {
    if (errno != EINTR) return;
  }
  const int sig = g_signal.load() ? g_signal.load() : static_cast<unsigned char>(b);
  pollfd p{g_pipe[0], POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(kStopGraceSeconds * 1000));
  } while (rc < 0 && errno == EINTR);
  forced_exit(sig, rc > 0 ? "second signal" : "no safe point reached in time");
}

}  // namespace

void install_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::signal(SIGXFSZ, SIG_IGN);
    // A write to a socket whose peer died (a lost rank of a multi-process run) must fail with
    // EPIPE and surface as an error naming the rank, not kill this process.
    ::signal(SIGPIPE, SIG_IGN);
    if (::pipe(g_pipe) != 0) g_pipe[0] = g_pipe[1] = -1;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    if (g_pipe[0] >= 0) std::thread(watchdog).detach();
  });
}

bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
int stop_signal() { return g_signal.load(); }
void request_stop(int signal_number) { g_signal.store(signal_number); }
void clear_stop_request() { g_signal.store(0); }

void throw_if_stop_requested(const std::string& what_was_saved) {
  const int sig = g_signal.load();
  if (sig == 0) return;
  throw Interrupted(std::string("stopped by ") + signal_name(sig) + (what_was_saved.empty() ? "" : "; ") +
                        what_was_saved,
                    sig, "run the same command again to resume");
}

void set_emergency_unlink(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_unlink_mutex);
  g_unlink_path = path;
}

}  // namespace taupe
