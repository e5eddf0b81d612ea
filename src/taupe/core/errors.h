#pragma once
// Typed exceptions thrown by library code. Only apps/taupe/main.cpp turns them into an
// `error: ...` line (+ `hint: ...`) and an exit code; library code never prints or exits.
#include <stdexcept>
#include <string>

namespace taupe {

/// Process exit codes (documented in docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,   ///< unexpected failure
  kExitUsage = 2,     ///< bad command line
  kExitConfig = 3,    ///< invalid configuration (ConfigError)
  kExitIo = 4,        ///< file missing / unreadable / unwritable (IoError)
  kExitData = 5,      ///< file readable but its content breaks a rule (DataError)
  kExitModel = 6,     ///< model files incompatible or training failed (ModelError)
  kExitLocked = 7,    ///< the run directory is locked by another writer (RunLockedError)
  kExitResource = 8,  ///< disk full, file-size limit or not enough memory (ResourceError)
  kExitVerify = 9,    ///< `taupe verify`: a recorded file is missing or changed
  kExitDistributed = 10,  ///< a multi-process run lost a rank or its rendezvous (DistributedError)
  kExitInterrupted = 130,  ///< SIGINT (128 + 2); SIGTERM gives 143 (128 + 15), see Interrupted
};

/// Base of every taupe error. `hint()` is an optional actionable suggestion.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string hint = {})
      : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }
  virtual int exit_code() const noexcept { return kExitRuntime; }

 private:
  std::string hint_;
};

/// A configuration value (TOML, --set, CLI flag) is unknown, mistyped or out of range.
/// The message names the key, e.g. "temporal.epochs = -1: must be > 0".
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitConfig; }
};

/// A file cannot be opened, read or written. The message names the file.
class IoError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitIo; }
};

/// Input data breaks a rule (wrong format/version/dtype/shape, NaN, bad lineage...).
/// The message names the file, the record/field and the rule.
class DataError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitData; }
};

/// A model directory is incompatible (version, shapes) or a model cannot be trained.
class ModelError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitModel; }
};

/// Another live writer holds the run directory's lock (core/run_lock.h). The message names the
/// holder: host, pid, command and start time.
class RunLockedError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitLocked; }
};

/// The machine ran out of a resource: the disk is full, the file-size limit (RLIMIT_FSIZE) was
/// reached, or a stage's estimated memory exceeds what is available. Names the file or setting.
class ResourceError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitResource; }
};

/// `taupe verify`: a file recorded in manifest.json is missing or its size / SHA-256 changed.
class VerifyError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitVerify; }
};

/// A multi-process run (dist/cluster.h) could not meet its ranks: the rendezvous timed out or was
/// unreachable, another rank failed or stopped responding. The message names the rank.
class DistributedError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitDistributed; }
};

/// SIGINT or SIGTERM was received (core/signals.h); the work was saved at a safe point.
/// Exit code 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal_number, std::string hint = {})
      : Error(what, std::move(hint)), signal_(signal_number) {}
  int signal_number() const noexcept { return signal_; }
  int exit_code() const noexcept override { return 128 + signal_; }

 private:
  int signal_;
};

}  // namespace taupe
