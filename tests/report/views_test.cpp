// Report views of the summary: the figures/tables show exactly the summary's numbers.
#include <gtest/gtest.h>

#include "report/summary_fixture.h"
#include "taupe/report/views.h"

namespace taupe::report {
namespace {

using testing::valid_summary;

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

TEST(Views, ConfusionFiguresCarryTheSummaryNumbers) {
  const RunSummary s = valid_summary();
  const std::string cv = render(cv_confusion(s.cv));
  EXPECT_NE(cv.find(">0.90 ± 0.02</text>"), std::string::npos);
  EXPECT_NE(cv.find(">0.88 ± 0.03</text>"), std::string::npos);
  const std::string diff = render(confusion_difference(s.switch_neighbours.confusion_mean, s.cv.confusion_mean, "d"));
  EXPECT_NE(diff.find(">\u22120.02</text>"), std::string::npos);  // 0.86 − 0.88 apoptosis recall
}

TEST(Views, SlopeChartHighlightsTopPcWithCi) {
  const RunSummary s = valid_summary();
  const BarChart b = slope_chart(s.pc_shift);
  ASSERT_EQ(b.categories.size(), 4u);
  EXPECT_EQ(b.highlight, std::vector<int>{1});
  EXPECT_DOUBLE_EQ(b.series[1].values[1], -0.16);
  EXPECT_DOUBLE_EQ(b.series[1].ci_lo[1], -0.17);
  ReportConfig cfg;
  cfg.max_pcs = 2;
  EXPECT_EQ(slope_chart(s.pc_shift, cfg).categories.size(), 2u);
  EXPECT_NO_THROW(render(b));
  EXPECT_NO_THROW(render(rho_chart(s.pc_shift)));
  const BarChart d = delta_recall_chart(s.switch_neighbours);
  EXPECT_EQ(d.categories, (std::vector<std::string>{"mitosis", "apoptosis"}));
  EXPECT_DOUBLE_EQ(d.y.min, -d.y.max);
  EXPECT_NO_THROW(render(d));
}

TEST(Views, TablesAndHeadline) {
  const RunSummary s = valid_summary();
  const Table v = verdict_table(*s.ground_truth);
  ASSERT_EQ(v.rows.size(), 2u);
  EXPECT_EQ(v.rows[0][4].status, Status::Good);
  EXPECT_EQ(v.rows[1][1].text, "effect (+)");
  RunSummary open = s;
  open.ground_truth->verdicts[0].outcome = "inconclusive";
  open.ground_truth->verdicts[0].correct = false;
  EXPECT_EQ(verdict_table(*open.ground_truth).rows[0][4].status, Status::Warn);
  const Table t = timings_table(s.timings_s, {"simulate", "encoder"});
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][0].text, "simulate");
  EXPECT_EQ(t.rows[2][1].text, "21.5");
  EXPECT_EQ(t.header.size(), 2u);  // no peaks recorded: no memory column
  const Table tm = timings_table(s.timings_s, {"simulate", "encoder"}, {{"simulate", 450}, {"encoder", 1180}});
  ASSERT_EQ(tm.header.size(), 3u);
  EXPECT_EQ(tm.rows[0][2].text, "450");
  EXPECT_EQ(tm.rows[2][2].text, "1180") << "the run's peak is the largest stage's";
  EXPECT_EQ(pc_table(s.pc_shift).rows.size(), 4u);
  HtmlReport r("t", subtitle_of(s));
  add_headline(r, s);
  const std::string h = r.html();
  EXPECT_NE(h.find("preset tiny · world mechanical · seed 1"), std::string::npos);
  EXPECT_NE(h.find("<div class=\"value good\">2/2</div>"), std::string::npos);
  EXPECT_NE(h.find("\u22120.02 [\u22120.05, 0.01]"), std::string::npos);
  EXPECT_NE(h.find("PC 1 (ρ nuclear area \u22120.91)"), std::string::npos);
  EXPECT_EQ(count(h, "class=\"item\""), 5u);
  RunSummary real = s;
  real.world.reset();
  real.ground_truth.reset();
  HtmlReport r2("t", subtitle_of(real));
  add_headline(r2, real);
  EXPECT_NE(r2.html().find("Real data: no ground truth"), std::string::npos);
  EXPECT_NE(r2.html().find("real data · seed 1"), std::string::npos);
}

TEST(Views, HeadlineRecallLeavesOutTheSyntheticClass) {
  RunSummary s = valid_summary();
  // Recalls 0.9 (mitosis), 0.88 (apoptosis), 0.99 (synthetic): the headline is (0.9 + 0.88) / 2.
  EXPECT_NEAR(headline_recall(s.cv.confusion_mean), 0.89, 1e-12);
  HtmlReport r("t", subtitle_of(s));
  add_headline(r, s);
  EXPECT_NE(r.html().find(">0.89<"), std::string::npos);
  EXPECT_EQ(r.html().find(">0.92<"), std::string::npos);  // the three-class mean would read 0.92
  // A model at chance with a perfect synthetic class is at chance in the headline.
  s.cv.confusion_mean = {{0.5, 0.5, 0.0}, {0.5, 0.5, 0.0}, {0.0, 0.0, 1.0}};
  EXPECT_NEAR(headline_recall(s.cv.confusion_mean), 0.5, 1e-12);
  // The gate beside the model.
  s.cv.confusion_mean_raw = {{0.5, 0.5, 0.0}, {0.5, 0.5, 0.0}, {0.1, 0.2, 0.7}};
  s.cv.typicality_gate = {true, 0.99, 3, 40};
  const std::string t = model_and_gate_text(s.cv);
  EXPECT_NE(t.find("0.50 with the typicality gate, 0.50 for the TCN alone"), std::string::npos) << t;
  EXPECT_NE(t.find("synthetic recall 1.00 with the gate, 0.70 for the TCN alone"), std::string::npos) << t;
  EXPECT_NE(t.find("rejected 3 held-out real and 40 synthetic"), std::string::npos) << t;
  s.cv.typicality_gate.enabled = false;
  EXPECT_NE(model_and_gate_text(s.cv).find("gate was off"), std::string::npos);
}

TEST(ReportConfig, DefaultsValidateAndBoundsNameTheKey) {
  ReportConfig c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(fields_of(c).size(), 6u);
  c.small_multiple_columns = 0;
  try {
    c.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("report.small_multiple_columns = 0"), std::string::npos);
  }
}

}  // namespace
}  // namespace taupe::report
