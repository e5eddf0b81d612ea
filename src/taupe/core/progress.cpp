#include "taupe/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "taupe/core/log.h"

namespace taupe {

Progress::Progress(std::string label, std::int64_t total, std::string unit, ProgressOptions opts)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), opts_(opts) {
  if (!opts_.out) opts_.out = &std::cerr;
  if (!log_enabled(LogLevel::kInfo)) opts_.enabled = false;
  tty_ = opts_.tty < 0 ? ::isatty(STDERR_FILENO) == 1 && opts_.out == &std::cerr : opts_.tty == 1;
  if (opts_.interval_s < 0) opts_.interval_s = tty_ ? 0.1 : 10.0;
  start_ = last_print_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
  }
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string Progress::line(double elapsed) const {
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  char counts[200];
  char rate_text[32];
  if (rate >= 100) std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
  else std::snprintf(rate_text, sizeof rate_text, "%.3g", rate);
  std::string text = label_;
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    if (tty_) {
      const int width = 24;
      const int filled = static_cast<int>(frac * width);
      text += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
    }
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
    std::snprintf(counts, sizeof counts, " %lld/%lld %s (%3.0f%%) %s %s/s elapsed %s ETA %s",
                  static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), 100.0 * frac, rate_text,
                  unit_.c_str(), format_duration(elapsed).c_str(),
                  done_ >= total_ ? "0s" : format_duration(eta).c_str());
  } else {
    std::snprintf(counts, sizeof counts, " %lld %s %s %s/s elapsed %s", static_cast<long long>(done_),
                  unit_.c_str(), rate_text, unit_.c_str(), format_duration(elapsed).c_str());
  }
  text += counts;
  if (!status_.empty()) text += " " + status_;
  return text;
}

void Progress::print(bool final_line) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::ostream& out = *opts_.out;
  if (tty_) {
    out << '\r' << line(elapsed) << "\x1b[K";
    if (final_line) out << '\n';
  } else {
    out << line(elapsed) << '\n';
  }
  out.flush();
  last_print_ = now;
}

void Progress::update(std::int64_t done) {
  done_ = done;
  if (!opts_.enabled || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_print_).count() >= opts_.interval_s) print(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (opts_.enabled) print(true);
}

}  // namespace taupe
