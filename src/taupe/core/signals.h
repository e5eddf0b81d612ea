#pragma once
// Cooperative stop on SIGINT / SIGTERM (Ctrl-C, a cluster's pre-emption) and the process-wide
// signal set-up of the `taupe` binary (docs/reliability.md):
//   - SIGXFSZ is ignored, so a write past the file-size limit fails with EFBIG and surfaces as a
//     ResourceError naming the file instead of killing the process;
//   - SIGPIPE is ignored, so a write to a dead peer's socket (a lost rank, dist/cluster.h) fails
//     with EPIPE and becomes an error naming the rank instead of killing the process;
//   - the first SIGINT / SIGTERM only sets a flag. Long loops check it at their safe points
//     (training steps, between pipeline stages), save what they can and throw Interrupted; the
//     run directory's lock is released as the exception unwinds. If the process has not ended
//     `kStopGraceSeconds` after the signal (a stage without safe points), a watchdog removes the
//     lock file and ends the process as if killed: every write is atomic, so the next run
//     resumes exactly as after SIGKILL;
//   - a second SIGINT / SIGTERM ends the process at once (same watchdog exit).
#include <string>

namespace taupe {

/// Seconds between the first stop signal and the watchdog's forced exit.
inline constexpr double kStopGraceSeconds = 3.0;

/// Installs the handlers above (idempotent). Library code never calls this; main() does.
void install_signal_handlers();

/// True once SIGINT or SIGTERM arrived (or request_stop() was called).
bool stop_requested();
/// The signal that asked to stop (SIGINT, SIGTERM), 0 when none.
int stop_signal();
/// Asks every safe point to stop, as a signal would (tests, embedding applications).
void request_stop(int signal_number);
/// Clears the request (tests).
void clear_stop_request();

/// Throws Interrupted when a stop was requested. `what_was_saved` completes the message, e.g.
/// "encoder checkpoint at step 120 saved".
void throw_if_stop_requested(const std::string& what_was_saved);

/// The file the watchdog removes before a forced exit (the run directory's lock file); empty =
/// none. Set by RunLock; only the most recent one is remembered.
void set_emergency_unlink(const std::string& path);

}  // namespace taupe
