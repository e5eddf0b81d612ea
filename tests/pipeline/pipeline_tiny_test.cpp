// End to end: `taupe run --preset tiny` in-process (with small training budgets so it stays a
// unit test), then: report.html and summary.json exist; summary.json validates against the
// contract and its numbers equal the CSVs they come from; rerunning skips every stage;
// `taupe report` regeneration gives the same summary; the report opens in headless Chromium
// with every figure decoded (skipped when /usr/bin/chromium is absent).
// TAUPE_KEEP_TEST_OUTPUT=1 keeps the run directory (path printed).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <unistd.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/log.h"
#include "support/fixtures.h"
#include "taupe/core/run_dir.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/pipeline/pipeline.h"
#include "taupe/report/run_report.h"
#include "taupe/report/csv.h"
#include "taupe/report/summary.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Small budgets on top of the tiny preset: the pipeline's wiring is under test, not the models.
std::vector<std::string> tiny_sets() {
  return {"encoder.epochs=2",          "temporal.epochs=2",         "temporal.steps_per_epoch=4",
          "temporal.batch_size=16",    "cv.folds=2",                "perturb.bootstrap_reps=50",
          "perturb.shift_min=-2",      "perturb.shift_max=2",       "perturb.shift_step=1",
          "perturb.decode_shifts=[-2, 0, 2]", "perturb.window_lengths=[1, 4, 16]", "perturb.window_shifts=[-2, 2]",
          "perturb.shrink_factors=[0.8, 1.0, 1.2]", "perturb.max_image_trajectories=4", "perturb.example_count=1"};
}

struct TinyRun {
  fs::path dir;
  PipelineResult first, second;
  double seconds = 0;
};

TinyRun* g_run = nullptr;

class PipelineTiny : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_run) return;
    g_run = new TinyRun;
    g_run->dir = fs::temp_directory_path() / ("taupe_pipeline_tiny_" + std::to_string(::getpid()));
    fs::remove_all(g_run->dir);
    RunConfig cfg = load_run_config("tiny", {}, tiny_sets());
    PipelineOptions o;
    o.out = g_run->dir;
    o.progress = false;
    o.command_line = "pipeline_tiny_test";
    log_set_level(LogLevel::kWarn);
    const auto t0 = std::chrono::steady_clock::now();
    g_run->first = run_pipeline(cfg, o);
    g_run->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    g_run->second = run_pipeline(cfg, o);  // nothing changed: every stage skipped
    log_set_level(LogLevel::kInfo);
    std::cout << "[ tiny run: " << g_run->seconds << " s ]\n";
  }
  static void TearDownTestSuite() {
    if (!g_run) return;
    if (std::getenv("TAUPE_KEEP_TEST_OUTPUT")) std::cout << "[ run directory kept in " << g_run->dir << " ]\n";
    else fs::remove_all(g_run->dir);
    delete g_run;
    g_run = nullptr;
  }
  const fs::path& dir() const { return g_run->dir; }
};

TEST_F(PipelineTiny, WritesReportAndValidSummary) {
  ASSERT_TRUE(fs::exists(dir() / "report.html"));
  ASSERT_TRUE(fs::exists(dir() / "summary.json"));
  const json j = json::parse(read_text_file(dir() / "summary.json"));
  const auto problems = report::validate_summary_json(j);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  EXPECT_EQ(j["preset"], "tiny");
  EXPECT_EQ(j["world"], "mechanical");
  EXPECT_EQ(j["seed"], 1);
  EXPECT_EQ(j["cv"]["folds"], 2);
  EXPECT_TRUE(j.contains("ground_truth"));
  for (const char* st : {"simulate", "encoder", "projector", "encode", "temporal", "perturb", "report"})
    EXPECT_TRUE(j["timings_s"].contains(st)) << st;
  const json m = RunDir::read_manifest(dir());
  EXPECT_EQ(m["status"], "done");
  for (const auto& st : m["stages"]) {
    EXPECT_EQ(st["status"], "done") << st.dump();
    EXPECT_TRUE(st.contains("config_hash")) << st.dump();
  }
  const std::string html = read_text_file(dir() / "report.html");
  for (const char* sec : {"Run", "Data", "Models", "Neighbour switching", "PC shifts", "Ablation", "Verdicts",
                          "Skill gate"})
    EXPECT_NE(html.find(sec), std::string::npos) << sec;
  for (const char* scheme : {"http://", "https://", "//cdn", "ftp://"})
    for (std::size_t at = html.find(scheme); at != std::string::npos; at = html.find(scheme, at + 4))
      EXPECT_EQ(html.compare(at, 18, "http://www.w3.org/"), 0) << "network reference: " << html.substr(at, 60);
}

TEST_F(PipelineTiny, RerunSkipsEveryStage) {
  for (const auto& p : g_run->second.plan) EXPECT_EQ(p.action, StageAction::kSkip) << p.name;
  EXPECT_EQ(g_run->second.summary.cv.confusion_mean, g_run->first.summary.cv.confusion_mean);
}

// ---- summary numbers = the CSVs they come from ---------------------------------------------------
int cls(const std::string& n) { return n == "mitosis" ? 0 : n == "apoptosis" ? 1 : n == "synthetic" ? 2 : -1; }

void expect_near_or_both_nan(double a, double b, const std::string& what) {
  if (std::isnan(a) || std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << what << ": " << a << " vs " << b;
  } else {
    EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::fabs(b))) << what;
  }
}

TEST_F(PipelineTiny, SummaryNumbersEqualTheirCsvs) {
  const report::RunSummary s = report::read_summary(dir() / "summary.json");
  // extra.model_skill <- perturb/model_skill.csv (the "mean" row)
  {
    const auto t = report::read_csv(dir() / "perturb/model_skill.csv");
    ASSERT_GE(t.size(), 1u);
    const std::size_t last = t.size() - 1;
    ASSERT_EQ(t.at(last, "model"), "mean");
    ASSERT_TRUE(s.extra.contains("model_skill"));
    const auto& k = s.extra.at("model_skill");
    const auto& est = k.at("informedness").at("estimate");
    const std::string cell = t.at(last, "informedness");
    expect_near_or_both_nan(est.is_null() ? std::nan("") : est.get<double>(), cell.empty() ? std::nan("") : std::stod(cell),
                            "model_skill.informedness");
    EXPECT_EQ(k.at("passes").get<bool>(), t.at(last, "passes") == "true");
  }
  // cv <- model/temporal/confusion.csv
  {
    const auto t = report::read_csv(dir() / "model/temporal/confusion.csv");
    int checked = 0;
    for (std::size_t r = 0; r < t.size(); ++r) {
      const std::string f = t.at(r, "fold");
      const int c = cls(t.at(r, "true_class")), k = cls(t.at(r, "predicted_class"));
      if (c < 0 || k < 0 || (f != "mean" && f != "sd")) continue;
      const auto& m = f == "mean" ? s.cv.confusion_mean : s.cv.confusion_std;
      expect_near_or_both_nan(m[static_cast<std::size_t>(c)][static_cast<std::size_t>(k)], t.number(r, "fraction"),
                              "cv " + f);
      ++checked;
    }
    EXPECT_EQ(checked, 18);
  }
  // switch_neighbours.confusion_mean <- mean over models of the "switched" rows
  {
    const auto t = report::read_csv(dir() / "perturb/switch_neighbours.csv");
    std::map<std::pair<int, int>, std::pair<double, int>> acc;
    for (std::size_t r = 0; r < t.size(); ++r) {
      if (t.at(r, "condition") != "switched") continue;
      const int c = cls(t.at(r, "true_class"));
      for (int k = 0; k < 3; ++k) {
        const double v = t.number(r, std::string("fraction_") + (k == 0 ? "mitosis" : k == 1 ? "apoptosis" : "synthetic"));
        if (std::isnan(v)) continue;
        acc[{c, k}].first += v;
        acc[{c, k}].second += 1;
      }
    }
    ASSERT_FALSE(acc.empty());
    for (const auto& [ck, sum] : acc)
      EXPECT_NEAR(s.switch_neighbours.confusion_mean[static_cast<std::size_t>(ck.first)][static_cast<std::size_t>(ck.second)],
                  sum.first / sum.second, 1e-9)
          << "switch_neighbours " << ck.first << "," << ck.second;
  }
  // pc_shift.per_pc <- perturb/pc_shift_slopes.csv
  {
    const auto t = report::read_csv(dir() / "perturb/pc_shift_slopes.csv");
    ASSERT_EQ(t.size(), s.pc_shift.per_pc.size());
    for (std::size_t r = 0; r < t.size(); ++r) {
      const auto& e = s.pc_shift.per_pc[r];
      EXPECT_EQ(e.pc, t.integer(r, "pc"));
      const std::string at = "pc " + std::to_string(e.pc) + " ";
      expect_near_or_both_nan(e.slope_mitosis, t.number(r, "slope_mitosis"), at + "slope_mitosis");
      expect_near_or_both_nan(e.slope_apoptosis, t.number(r, "slope_apoptosis"), at + "slope_apoptosis");
      expect_near_or_both_nan(e.slope_ci_apoptosis[0], t.number(r, "slope_apoptosis_ci_lo"), at + "ci_lo");
      expect_near_or_both_nan(e.slope_ci_apoptosis[1], t.number(r, "slope_apoptosis_ci_hi"), at + "ci_hi");
      expect_near_or_both_nan(e.realistic_range[0], t.number(r, "range_lo"), at + "range_lo");
      expect_near_or_both_nan(e.realistic_range[1], t.number(r, "range_hi"), at + "range_hi");
      expect_near_or_both_nan(e.rho_nuclear_area, t.number(r, "rho_nuclear_area"), at + "rho");
    }
  }
  // ground_truth.verdicts <- perturb/verdicts.csv
  {
    const auto t = report::read_csv(dir() / "perturb/verdicts.csv");
    ASSERT_TRUE(s.ground_truth.has_value());
    ASSERT_EQ(t.size(), s.ground_truth->verdicts.size());
    for (std::size_t r = 0; r < t.size(); ++r) {
      EXPECT_EQ(s.ground_truth->verdicts[r].experiment, t.at(r, "experiment"));
      EXPECT_EQ(s.ground_truth->verdicts[r].conclusion, t.at(r, "conclusion"));
      EXPECT_EQ(s.ground_truth->verdicts[r].correct, t.at(r, "correct") == "true");
    }
  }
  // timings_s <- manifest
  const json m = RunDir::read_manifest(dir());
  for (const auto& st : m["stages"]) {
    if (st.value("name", "") != "report") {
      EXPECT_DOUBLE_EQ(s.timings_s.at(st["name"].get<std::string>()), st["seconds"].get<double>());
    }
  }
}

TEST_F(PipelineTiny, ReportCommandRegeneratesTheSameSummary) {
  const json before = json::parse(read_text_file(dir() / "summary.json"));
  write_run_report(dir(), ReportConfig{});
  json after = json::parse(read_text_file(dir() / "summary.json"));
  json b = before;
  b.erase("timings_s");
  after.erase("timings_s");
  EXPECT_EQ(b, after);
}

// ---- taupe predict ---------------------------------------------------------------------------------------
// A tidy long table keyed by (movie, track_id); --glimpses writes no temporary file anywhere.
TEST_F(PipelineTiny, PredictWritesATidyTableKeyedByMovieAndTrack) {
  const fs::path tmp = dir() / "predict_tmp", out = dir() / "predict" / "predictions.csv";
  fs::create_directories(tmp);
  fs::create_directories(out.parent_path());
  const RunLayout layout(dir());
  const auto r = test::run_command("/usr/bin/env", {"TMPDIR=" + tmp.string(), test::taupe_binary().string(), "-q",
                                                    "predict", "-m", layout.model().string(), "--glimpses",
                                                    layout.glimpses().string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_empty(tmp)) << "predict --glimpses wrote into the temp dir";
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(out.parent_path())) beside.push_back(e.path().filename().string());
  EXPECT_EQ(beside, std::vector<std::string>{"predictions.csv"});

  const auto t = report::read_csv(out);
  EXPECT_EQ(t.header(), (std::vector<std::string>{"movie", "track_id", "trajectory_id", "rotation", "fate",
                                                  "held_out_by", "model", "class", "probability"}));
  const GlimpseReader gr(layout.glimpses());
  std::map<std::int64_t, const GlimpseInfo*> info;
  for (const GlimpseInfo& g : gr.infos()) info[g.id] = &g;
  std::map<std::int64_t, std::map<std::string, double>> sum;   // trajectory -> model -> sum of probabilities
  std::map<std::int64_t, std::map<std::string, double>> mean_of_models, mean_row;
  std::size_t models = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::int64_t id = t.integer(i, "trajectory_id");
    ASSERT_TRUE(info.count(id)) << "row " << i;
    EXPECT_EQ(t.at(i, "movie"), info[id]->movie) << "row " << i;
    EXPECT_EQ(t.integer(i, "track_id"), info[id]->track_id) << "row " << i;
    const std::string m = t.at(i, "model"), c = t.at(i, "class");
    const double p = t.number(i, "probability");
    sum[id][m] += p;
    if (m == "mean") mean_row[id][c] = p;
    else mean_of_models[id][c] += p;
    if (m != "mean") models = std::max<std::size_t>(models, std::stoul(m.substr(1)) + 1);
  }
  EXPECT_EQ(sum.size(), gr.size());
  EXPECT_EQ(t.size(), gr.size() * (models + 1) * 3);
  for (const auto& [id, by_model] : sum)
    for (const auto& [m, s] : by_model) EXPECT_NEAR(s, 1.0, 1e-5) << "trajectory " << id << " model " << m;
  for (const auto& [id, by_class] : mean_row)
    for (const auto& [c, p] : by_class) EXPECT_NEAR(p, mean_of_models[id][c] / double(models), 1e-6) << id << " " << c;
}

// ---- headless Chromium ---------------------------------------------------------------------------------
TEST_F(PipelineTiny, ReportOpensInHeadlessChromium) {
  const char* chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium)) GTEST_SKIP() << chromium << " not installed (scripts/setup.sh installs it)";
  const fs::path tmp = dir() / "browser";
  fs::create_directories(tmp);
  const std::string flags = std::string(chromium) +
                            " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                            "--disable-background-networking --disable-component-update --disable-sync";
  const std::string url = "file://" + fs::absolute(dir() / "report.html").string();
  const std::string dom_cmd = "timeout 180 " + flags + " --user-data-dir='" + (tmp / "p1").string() +
                              "' --virtual-time-budget=15000 --dump-dom '" + url + "' > '" + (tmp / "dom.html").string() +
                              "' 2> '" + (tmp / "dom.log").string() + "'";
  ASSERT_EQ(std::system(dom_cmd.c_str()), 0) << "see " << tmp / "dom.log";
  const std::string dom = read_text_file(tmp / "dom.html");
  const auto p = dom.find("id=\"taupe-check\"");
  ASSERT_NE(p, std::string::npos) << "no self-check marker in the DOM";
  const std::string marker = dom.substr(dom.rfind("<div", p), dom.find("</div>", p) - dom.rfind("<div", p));
  EXPECT_NE(marker.find("data-status=\"ok\""), std::string::npos) << marker;
  const std::string shot = (tmp / "report.png").string();
  const std::string shot_cmd = "timeout 180 " + flags + " --user-data-dir='" + (tmp / "p2").string() + "' --screenshot='" +
                               shot + "' --window-size=1400,4000 '" + url + "' > '" + (tmp / "shot.log").string() +
                               "' 2>&1";
  ASSERT_EQ(std::system(shot_cmd.c_str()), 0) << "see " << tmp / "shot.log";
  const std::string png = read_text_file(shot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 50000u) << "screenshot suspiciously small (blank page?)";
}

}  // namespace
}  // namespace taupe
