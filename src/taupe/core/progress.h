#pragma once
// Progress reporting for long loops. On a terminal: one redrawn line with a bar, count, rate
// and ETA. Otherwise (CI logs, files): a plain line every `interval_s` seconds and at the end.
// Silent under --quiet (log level below info).
//
//   Progress p("simulate", frames, "frames");
//   for (...) { ...; p.tick(); }
//   p.finish();
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace taupe {

struct ProgressOptions {
  std::ostream* out = nullptr;  ///< nullptr: std::cerr
  int tty = -1;                 ///< -1: detect (isatty on stderr), 0: plain lines, 1: bar
  double interval_s = -1;       ///< seconds between plain lines (-1: 10 s); bar redraw <= 10 Hz
  bool enabled = true;          ///< false: prints nothing (also when the log level is below info)
};

class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit = "it", ProgressOptions opts = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(std::int64_t n = 1) { update(done_ + n); }
  void update(std::int64_t done);
  /// Short extra text shown after the counters (e.g. "loss 0.123").
  void set_status(std::string status) { status_ = std::move(status); }
  /// Prints the final line (idempotent; also called by the destructor).
  void finish();

  std::int64_t done() const { return done_; }
  /// "1m23s" / "45s" / "2h05m".
  static std::string format_duration(double seconds);

 private:
  void print(bool final_line);
  std::string line(double elapsed) const;

  std::string label_, unit_, status_;
  std::int64_t total_, done_ = 0;
  ProgressOptions opts_;
  bool tty_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace taupe
