// Opens a report with every figure type in headless Chromium (when /usr/bin/chromium exists):
// the page's self-check must report every image decoded and every SVG present, and a
// screenshot must be produced. A deliberately broken report must fail the self-check.
// Set TAUPE_KEEP_TEST_OUTPUT=1 to keep the report and screenshot (path printed).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "report/synthetic_report.h"
#include "taupe/core/atomic_file.h"

namespace taupe::report {
namespace {

namespace fs = std::filesystem;
const char* const kChromium = "/usr/bin/chromium";

struct BrowserRun {
  int dom_rc = -1;
  int shot_rc = -1;
  std::string dom;
  fs::path screenshot;
};

std::string chromium_flags(const fs::path& profile) {
  return std::string(kChromium) +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
         " --disable-component-update --disable-sync --user-data-dir='" +
         profile.string() + "'";
}

BrowserRun open_in_chromium(const fs::path& html, const fs::path& dir, bool screenshot) {
  BrowserRun r;
  const std::string url = "file://" + fs::absolute(html).string();
  const fs::path dom = dir / "dom.html";
  const std::string cmd_dom = "timeout 120 " + chromium_flags(dir / "profile-dom") +
                              " --virtual-time-budget=10000 --dump-dom '" + url + "' > '" + dom.string() + "' 2> '" +
                              (dir / "chromium-dom.log").string() + "'";
  r.dom_rc = std::system(cmd_dom.c_str());
  if (fs::exists(dom)) r.dom = read_text_file(dom);
  if (screenshot) {
    r.screenshot = dir / "report.png";
    const std::string cmd_shot = "timeout 120 " + chromium_flags(dir / "profile-shot") + " --screenshot='" +
                                 r.screenshot.string() + "' --window-size=1400,3000 '" + url + "' > '" +
                                 (dir / "chromium-shot.log").string() + "' 2>&1";
    r.shot_rc = std::system(cmd_shot.c_str());
  }
  return r;
}

std::string check_marker(const std::string& dom) {
  const auto p = dom.find("id=\"taupe-check\"");
  if (p == std::string::npos) return {};
  const auto b = dom.rfind("<div", p);
  const auto e = dom.find("</div>", p);
  return dom.substr(b, e - b);
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " not installed (apt-get install chromium)";
    dir_ = fs::temp_directory_path() / ("taupe_report_browser_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (dir_.empty()) return;
    if (std::getenv("TAUPE_KEEP_TEST_OUTPUT")) {
      std::cout << "[ report output kept in " << dir_.string() << " ]\n";
      return;
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(ReportBrowser, EveryFigureDecodesAndScreenshotIsProduced) {
  const HtmlReport report = testing::build_synthetic_report();
  const fs::path html = dir_ / "report.html";
  report.write(html);
  const BrowserRun run = open_in_chromium(html, dir_, true);
  ASSERT_EQ(run.dom_rc, 0) << "chromium --dump-dom failed; see " << (dir_ / "chromium-dom.log");
  const std::string marker = check_marker(run.dom);
  ASSERT_FALSE(marker.empty()) << "no self-check marker in the DOM";
  EXPECT_NE(marker.find("data-status=\"ok\""), std::string::npos) << marker;
  EXPECT_NE(marker.find(">ok 1 images, "), std::string::npos) << marker;
  // every montage cell is an SVG <image>; every figure's SVG is present
  EXPECT_NE(marker.find(" svg images, 21 svgs"), std::string::npos) << marker;
  ASSERT_EQ(run.shot_rc, 0) << "chromium --screenshot failed; see " << (dir_ / "chromium-shot.log");
  ASSERT_TRUE(fs::exists(run.screenshot));
  const std::string png = read_text_file(run.screenshot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 50000u) << "screenshot suspiciously small (blank page?)";
}

TEST_F(ReportBrowser, BrokenImageFailsTheSelfCheck) {
  HtmlReport report("broken");
  report.section("Broken");
  report.figure_image(Image{2, 2, 1, {0, 1, 2, 3}}, "fine");
  // a corrupt PNG and a corrupt SVG <image>
  report.raw_html("<figure><img src=\"data:image/png;base64,iVBORw0KGgoAAAAN\" alt=\"corrupt\"></figure>\n");
  report.raw_html(
      "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><image href=\"data:image/png;base64,AAAA\" "
      "width=\"10\" height=\"10\"/></svg></figure>\n");
  const fs::path html = dir_ / "broken.html";
  report.write(html);
  const BrowserRun run = open_in_chromium(html, dir_, false);
  ASSERT_EQ(run.dom_rc, 0);
  const std::string marker = check_marker(run.dom);
  ASSERT_FALSE(marker.empty());
  EXPECT_NE(marker.find("data-status=\"fail\""), std::string::npos) << marker;
  EXPECT_NE(marker.find("bad images 1, bad svg images 1"), std::string::npos) << marker;
}

}  // namespace
}  // namespace taupe::report
