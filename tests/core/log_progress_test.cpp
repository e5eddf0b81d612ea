// Logging levels/log file and progress output (plain lines and terminal bar).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "support/fixtures.h"
#include "taupe/core/log.h"
#include "taupe/core/progress.h"

using ::testing::HasSubstr;
using ::testing::Not;

namespace taupe {
namespace {

struct ConsoleCapture {
  std::ostringstream out;
  ConsoleCapture() { log_set_console(&out); }
  ~ConsoleCapture() {
    log_set_console(nullptr);
    log_set_level(LogLevel::kInfo);
  }
};

TEST(Log, LevelsFilterTheConsole) {
  ConsoleCapture cap;
  log_set_level(log_level_from_flags(/*quiet=*/true, /*verbose=*/false));
  log_info("info-hidden");
  log_warn("warn-shown");
  log_error("error-shown");
  log_set_level(log_level_from_flags(false, true));
  log_debug("debug-shown");
  EXPECT_THAT(cap.out.str(), Not(HasSubstr("info-hidden")));
  EXPECT_THAT(cap.out.str(), HasSubstr("warning: warn-shown\n"));
  EXPECT_THAT(cap.out.str(), HasSubstr("error: error-shown\n"));
  EXPECT_THAT(cap.out.str(), HasSubstr("debug: debug-shown\n"));
  EXPECT_EQ(log_level_from_flags(false, false), LogLevel::kInfo);
}

TEST(Log, FileGetsTimestampedLines) {
  ConsoleCapture cap;
  test::TempDir dir;
  log_set_file(dir / "run/taupe.log");
  log_info("first");
  log_debug("not in file at info level");
  log_close_file();
  log_info("after close");
  const std::string text = test::slurp(dir / "run/taupe.log");
  EXPECT_THAT(text, HasSubstr("Z info: first\n"));
  EXPECT_THAT(text, Not(HasSubstr("not in file")));
  EXPECT_THAT(text, Not(HasSubstr("after close")));
  EXPECT_EQ(cap.out.str(), "first\nafter close\n");
}

TEST(Progress, PlainLinesWithCountsRateAndEta) {
  std::ostringstream out;
  ProgressOptions o;
  o.out = &out;
  o.tty = 0;
  o.interval_s = 0;  // every update prints
  {
    Progress p("simulate", 4, "frames", o);
    p.tick();
    p.set_status("cells 120");
    p.tick(3);
  }
  const std::string s = out.str();
  EXPECT_THAT(s, HasSubstr("simulate 1/4 frames ( 25%)"));
  EXPECT_THAT(s, HasSubstr("frames/s"));
  EXPECT_THAT(s, HasSubstr("ETA"));
  EXPECT_THAT(s, HasSubstr("4/4 frames (100%)"));
  EXPECT_THAT(s, HasSubstr("cells 120"));
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 3);  // 2 updates + final line
}

TEST(Progress, PlainLinesAreRateLimited) {
  std::ostringstream out;
  ProgressOptions o;
  o.out = &out;
  o.tty = 0;
  o.interval_s = 3600;
  Progress p("train", 1000, "steps", o);
  for (int i = 0; i < 1000; ++i) p.tick();
  p.finish();
  p.finish();  // idempotent
  const std::string s = out.str();  // one string: begin() and end() of the same object
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1);
  EXPECT_THAT(s, HasSubstr("1000/1000"));
}

TEST(Progress, TerminalBarRedrawsOneLine) {
  std::ostringstream out;
  ProgressOptions o;
  o.out = &out;
  o.tty = 1;
  o.interval_s = 0;
  Progress p("encode", 10, "it", o);
  p.update(5);
  p.update(10);
  p.finish();
  const std::string s = out.str();
  EXPECT_THAT(s, HasSubstr("\rencode [############............] 5/10"));
  EXPECT_THAT(s, HasSubstr("[########################] 10/10"));
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1);  // only the final line ends with a newline
}

TEST(Progress, QuietPrintsNothing) {
  std::ostringstream out;
  log_set_level(LogLevel::kWarn);
  ProgressOptions o;
  o.out = &out;
  o.tty = 0;
  o.interval_s = 0;
  {
    Progress p("x", 3, "it", o);
    p.tick(3);
  }
  log_set_level(LogLevel::kInfo);
  EXPECT_EQ(out.str(), "");
}

TEST(Progress, UnknownTotalAndDurations) {
  std::ostringstream out;
  ProgressOptions o;
  o.out = &out;
  o.tty = 0;
  o.interval_s = 0;
  Progress p("scan", 0, "files", o);
  p.tick(7);
  EXPECT_THAT(out.str(), HasSubstr("scan 7 files"));
  EXPECT_EQ(Progress::format_duration(42), "42s");
  EXPECT_EQ(Progress::format_duration(83), "1m23s");
  EXPECT_EQ(Progress::format_duration(7500), "2h05m");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

}  // namespace
}  // namespace taupe
