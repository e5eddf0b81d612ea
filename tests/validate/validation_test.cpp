// Aggregation of a validation study on synthetic summary.json documents (validate.h).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/fixtures.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/stats.h"
#include "taupe/validate/validate.h"
#include "taupe/validate/validation_html.h"

namespace taupe::validate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json verdict(const std::string& experiment, const std::string& outcome, int direction, const std::string& expected,
             int expected_direction, double estimate = 0.0, double margin = 0.05) {
  const bool correct =
      outcome == expected && (outcome != kEffect || direction == expected_direction) && outcome != kInconclusive;
  return {{"experiment", experiment},
          {"claim", "test claim"},
          {"outcome", outcome},
          {"direction", direction},
          {"estimate", estimate},
          {"ci", {estimate - 0.02, estimate + 0.02}},
          {"margin", margin},
          {"trajectories_needed", nullptr},
          {"conclusion", outcome},
          {"expected_outcome", expected},
          {"expected_direction", expected_direction},
          {"correct", correct}};
}

json summary(const std::string& world, std::int64_t seed, const json& verdicts, double recall_mit = 0.8,
             double recall_apo = 0.7) {
  return {{"world", world},
          {"seed", seed},
          {"cv",
           {{"confusion_mean",
             {{recall_mit, 1 - recall_mit, 0.0}, {1 - recall_apo, recall_apo, 0.0}, {0.0, 0.0, 1.0}}}}},
          {"ground_truth", {{"world", world}, {"verdicts", verdicts}}},
          {"timings_s", {{"simulate", 10.0}, {"encoder", 20.0 + static_cast<double>(seed)}}}};
}

StudySpec spec(std::vector<std::string> worlds, std::vector<std::int64_t> seeds) {
  StudySpec s;
  s.preset = "tiny";
  s.worlds = std::move(worlds);
  s.seeds = std::move(seeds);
  return s;
}

const Cell& cell(const Validation& v, const std::string& world, const std::string& experiment) {
  for (const auto& c : v.cells)
    if (c.world == world && c.experiment == experiment) return c;
  throw std::runtime_error("no cell " + world + " / " + experiment);
}

TEST(Validation, CountsAccuracyAndPowerWhereAnEffectIsPlanted) {
  // mechanical, 5 seeds, planted "nuclear size" effect with direction -1:
  // 3 right effects, 1 wrong-direction effect, 1 inconclusive.
  const StudySpec s = spec({"mechanical"}, {1, 2, 3, 4, 5});
  std::vector<RunRecord> runs;
  const std::vector<std::pair<std::string, int>> outcomes = {
      {kEffect, -1}, {kEffect, -1}, {kEffect, +1}, {kInconclusive, 0}, {kEffect, -1}};
  const auto members = study_members(s, "study");
  for (std::size_t i = 0; i < members.size(); ++i)
    runs.push_back(parse_run(
        members[i], summary("mechanical", members[i].seed, json::array({verdict("nuclear size", outcomes[i].first, outcomes[i].second, kEffect, -1)})),
        json()));
  const Validation v = aggregate(s, runs);
  ASSERT_EQ(v.cells.size(), 1u);
  const Cell& c = v.cells[0];
  EXPECT_EQ(c.seeds, 5);
  EXPECT_EQ(c.counts.at(kEffect), 4);
  EXPECT_EQ(c.counts.at(kNoEffect), 0);
  EXPECT_EQ(c.counts.at(kInconclusive), 1);
  EXPECT_EQ(c.counts.at(kMissing), 0);
  EXPECT_EQ(c.correct, 3);
  EXPECT_EQ(c.wrong_direction, 1);
  EXPECT_EQ(c.expected_outcome, kEffect);
  EXPECT_EQ(c.expected_direction, -1);
  EXPECT_DOUBLE_EQ(c.accuracy.value, 0.6);
  const stats::Interval w = stats::wilson_interval(3, 5);
  EXPECT_DOUBLE_EQ(c.accuracy.lo, w.lo);
  EXPECT_DOUBLE_EQ(c.accuracy.hi, w.hi);
  ASSERT_TRUE(c.power.has_value());
  EXPECT_EQ(c.power->k, 3);
  EXPECT_EQ(c.power->n, 5);
  EXPECT_FALSE(c.false_effect_rate.has_value());
}

TEST(Validation, FalseEffectRateWhereNoEffectIsPlantedAndTheWilsonClosedForm) {
  // neutral world: nothing planted. 10 seeds: 1 false effect, 8 shown "no effect", 1 inconclusive.
  std::vector<std::int64_t> seeds;
  for (int i = 1; i <= 10; ++i) seeds.push_back(i);
  const StudySpec s = spec({"neutral"}, seeds);
  std::vector<RunRecord> runs;
  for (const auto& m : study_members(s, "study")) {
    const std::string outcome = m.seed == 4 ? kEffect : m.seed == 9 ? kInconclusive : kNoEffect;
    runs.push_back(parse_run(m, summary("neutral", m.seed, json::array({verdict("any effect", outcome, m.seed == 4 ? 1 : 0, kNoEffect, 0)})),
                             json()));
  }
  const Validation v = aggregate(s, runs);
  const Cell& c = cell(v, "neutral", "any effect");
  EXPECT_EQ(c.correct, 8);
  EXPECT_FALSE(c.power.has_value());
  ASSERT_TRUE(c.false_effect_rate.has_value());
  EXPECT_EQ(c.false_effect_rate->k, 1);
  EXPECT_EQ(c.false_effect_rate->n, 10);
  EXPECT_DOUBLE_EQ(c.false_effect_rate->value, 0.1);
  // Wilson 95 % for 8/10: centre (0.8 + z²/20)/(1 + z²/10), half z/(1 + z²/10) sqrt(0.016 + z²/400).
  const double z = 1.959963984540054, z2 = z * z;
  const double centre = (0.8 + z2 / 20) / (1 + z2 / 10), half = z / (1 + z2 / 10) * std::sqrt(0.016 + z2 / 400);
  EXPECT_NEAR(c.accuracy.lo, centre - half, 1e-9);
  EXPECT_NEAR(c.accuracy.hi, centre + half, 1e-9);
  EXPECT_NEAR(c.accuracy.lo, 0.4902, 1e-4);
  EXPECT_NEAR(c.accuracy.hi, 0.9433, 1e-4);
}

TEST(Validation, MissingVerdictsAndRunsAreCountedAndNeverCorrect) {
  // Two worlds, 3 seeds. contact seed 2 has no summary at all, seed 3 lacks "nuclear size";
  // an old-schema verdict (no outcome) marked correct is still missing and not correct.
  const StudySpec s = spec({"mechanical", "contact"}, {1, 2, 3});
  std::vector<RunRecord> runs;
  for (const auto& m : study_members(s, "study")) {
    json vs = json::array();
    if (m.world == "mechanical") {
      vs.push_back(verdict("neighbour identity", kNoEffect, 0, kNoEffect, 0));
      vs.push_back(verdict("nuclear size", kEffect, -1, kEffect, -1));
    } else if (m.seed == 1) {
      vs.push_back(verdict("neighbour identity", kEffect, -1, kEffect, -1));
      vs.push_back(json{{"experiment", "nuclear size"}, {"conclusion", "not causal"}, {"correct", true}});
    } else if (m.seed == 3) {
      vs.push_back(verdict("neighbour identity", kEffect, -1, kEffect, -1));
    }
    runs.push_back(m.world == "contact" && m.seed == 2 ? parse_run(m, json(), json())
                                                        : parse_run(m, summary(m.world, m.seed, vs), json()));
  }
  const Validation v = aggregate(s, runs);
  ASSERT_EQ(v.cells.size(), 4u);  // every world x verdict
  const Cell& size = cell(v, "contact", "nuclear size");
  EXPECT_EQ(size.counts.at(kMissing), 3);
  EXPECT_EQ(size.correct, 0);
  EXPECT_DOUBLE_EQ(size.accuracy.value, 0.0);
  EXPECT_TRUE(size.expected_outcome.empty());
  EXPECT_FALSE(size.power.has_value());
  EXPECT_FALSE(size.false_effect_rate.has_value());
  const Cell& nb = cell(v, "contact", "neighbour identity");
  EXPECT_EQ(nb.counts.at(kEffect), 2);
  EXPECT_EQ(nb.counts.at(kMissing), 1);
  EXPECT_EQ(nb.correct, 2);
  ASSERT_TRUE(nb.power.has_value());
  EXPECT_EQ(nb.power->k, 2);
  EXPECT_EQ(nb.power->n, 3);
  for (const auto& c : v.cells) {
    std::int64_t sum = 0;
    for (const auto& [col, n] : c.counts) sum += n;
    EXPECT_EQ(sum, c.seeds) << c.world << " " << c.experiment;
  }
  EXPECT_EQ(runs[4].status, kMissing);
  EXPECT_EQ(runs[4].problem, "no summary.json");
}

TEST(Validation, RecallTimingsAndAWorldMismatch) {
  const StudySpec s = spec({"mechanical"}, {1, 2});
  const auto members = study_members(s, "study");
  json sum1 = summary("mechanical", 1, json::array(), 0.75, 0.6);
  sum1["cv"]["confusion_mean_raw"] = {{0.7, 0.3, 0.0}, {0.45, 0.55, 0.0}, {0.06, 0.0, 0.94}};
  const RunRecord r1 = parse_run(members[0], sum1, json());
  EXPECT_EQ(r1.status, "done");
  EXPECT_DOUBLE_EQ(r1.cv_recall.at("mitosis"), 0.75);
  EXPECT_DOUBLE_EQ(r1.cv_recall.at("apoptosis"), 0.6);
  EXPECT_DOUBLE_EQ(r1.cv_recall.at("mitosis_raw"), 0.7);
  EXPECT_DOUBLE_EQ(r1.cv_recall.at("apoptosis_raw"), 0.55);
  EXPECT_DOUBLE_EQ(r1.seconds(), 31.0);
  // Timings fall back to the manifest's finished stages when summary.json is missing.
  const json manifest = {{"stages",
                          {{{"name", "simulate"}, {"status", "done"}, {"seconds", 12.5}},
                           {{"name", "encoder"}, {"status", "running"}, {"seconds", nullptr}}}}};
  const RunRecord r2 = parse_run(members[1], json(), manifest);
  EXPECT_EQ(r2.status, kMissing);
  EXPECT_DOUBLE_EQ(r2.seconds(), 12.5);
  const RunRecord wrong = parse_run(members[1], summary("contact", 2, json::array()), json());
  EXPECT_EQ(wrong.status, "invalid");
  const Validation v = aggregate(s, {r1, r2});
  EXPECT_DOUBLE_EQ(v.runs_sum_s, 43.5);
  EXPECT_DOUBLE_EQ(v.run_max_s, 31.0);
}

TEST(Validation, SeedListsAndStudyMemberOrder) {
  EXPECT_EQ(parse_seed_list("1..4"), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(parse_seed_list("7, 2,3..4"), (std::vector<std::int64_t>{7, 2, 3, 4}));
  EXPECT_THROW(parse_seed_list("3..1"), ConfigError);
  EXPECT_THROW(parse_seed_list("1,1"), ConfigError);
  EXPECT_THROW(parse_seed_list("x"), ConfigError);
  EXPECT_THROW(parse_seed_list("-2"), ConfigError);
  const auto m = study_members(spec({"mechanical", "contact"}, {5, 6, 7}), "S");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[4].world, "contact");  // index 4 = world 4 / 3 = 1, seed 4 % 3 = 2
  EXPECT_EQ(m[4].seed, 6);
  EXPECT_EQ(m[4].dir, fs::path("S") / "contact" / "seed-6");
}

TEST(Validation, StudyFileIsRecordedAndDisagreementIsAnError) {
  test::TempDir dir;
  StudySpec given;
  given.worlds = {"contact"};
  const StudySpec s = resolve_study(dir.path(), given, true);
  EXPECT_EQ(s.preset, kDefaultPreset);
  EXPECT_EQ(s.seeds.size(), static_cast<std::size_t>(kDefaultSeeds));
  EXPECT_TRUE(fs::exists(study_file(dir.path())));
  const StudySpec again = resolve_study(dir.path(), {}, false);
  EXPECT_EQ(again.worlds, s.worlds);
  EXPECT_EQ(again.seeds, s.seeds);
  StudySpec other;
  other.worlds = {"neutral"};
  EXPECT_THROW(resolve_study(dir.path(), other, false), ConfigError);
  StudySpec bad;
  bad.worlds = {"volcanic"};
  test::TempDir dir2;
  EXPECT_THROW(resolve_study(dir2.path(), bad, true), ConfigError);
  EXPECT_FALSE(fs::exists(study_file(dir2.path())));
}

TEST(Validation, GatherWritesJsonAndHtmlFromRunDirectories) {
  test::TempDir dir;
  StudySpec given = spec({"mechanical", "neutral"}, {1, 2});
  resolve_study(dir.path(), given, true);
  for (const auto& m : study_members(resolve_study(dir.path(), {}, false), dir.path())) {
    if (m.world == "neutral" && m.seed == 2) continue;  // never ran
    const json vs = m.world == "mechanical"
                        ? json::array({verdict("nuclear size", kEffect, -1, kEffect, -1, -0.05, 0.02)})
                        : json::array({verdict("nuclear size", kNoEffect, 0, kNoEffect, 0, 0.001, 0.02)});
    write_text_atomic(m.dir / "summary.json", summary(m.world, m.seed, vs).dump());
  }
  const Validation v = gather(dir.path(), 12.0);
  const json j = json::parse(read_text_file(dir.path() / "validation.json"));
  EXPECT_EQ(j.at("format"), "taupe.validation");
  ASSERT_EQ(j.at("cells").size(), 2u);
  EXPECT_EQ(j["cells"][1]["counts"]["missing"], 1);
  EXPECT_EQ(j["cells"][1]["false_effect_rate"]["k"], 0);
  EXPECT_EQ(j["runs"][3]["status"], "missing");
  EXPECT_EQ(j["runs"][3]["problem"], "not run");
  EXPECT_DOUBLE_EQ(j["timing"]["elapsed_s"].get<double>(), 12.0);
  const std::string html = read_text_file(dir.path() / "validation.html");
  EXPECT_NE(html.find("nuclear size"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  const auto panels = effect_size_panels(v);
  ASSERT_EQ(panels.size(), 1u);
  // Zero line and two ±margin lines per world that reported a margin (dashed).
  std::size_t dashed = 0, pos = 0;
  while ((pos = panels[0].find("stroke-dasharray=\"4 3\"", pos)) != std::string::npos) ++dashed, ++pos;
  EXPECT_EQ(dashed, 2u * 2u + 1u);  // two worlds x ±margin, plus the legend sample
}

TEST(Validation, WorldGroundTruthIsReadPerRunAndSummarisedPerWorld) {
  test::TempDir dir;
  resolve_study(dir.path(), spec({"mechanical", "neutral"}, {1, 2}), true);
  for (const auto& m : study_members(resolve_study(dir.path(), {}, false), dir.path())) {
    const json vs = json::array({verdict("nuclear size", kNoEffect, 0, kNoEffect, 0)});
    write_text_atomic(m.dir / "summary.json", summary(m.world, m.seed, vs).dump());
    fs::create_directories(m.dir / "data");
    if (m.world == "mechanical")  // AUC WT contact 0.60 and 0.64; logit entries are [estimate, lo, hi]
      write_text_atomic(m.dir / "data" / "simulation.json",
                        json{{"auc_wt_neighbours", 0.56 + 0.04 * static_cast<double>(m.seed)},
                             {"logit_compression", {2.5, 2.2, 2.8}},
                             {"auc_small_nucleus", "not a number"}}
                            .dump());
    if (m.world == "neutral" && m.seed == 2) write_text_atomic(m.dir / "data" / "simulation.json", "{");
  }
  const Validation v = gather(dir.path());
  const json j = json::parse(read_text_file(dir.path() / "validation.json"));
  EXPECT_DOUBLE_EQ(j["runs"][0]["world_stats"]["auc_wt_neighbours"].get<double>(), 0.60);
  EXPECT_DOUBLE_EQ(j["runs"][0]["world_stats"]["logit_compression"].get<double>(), 2.5);
  EXPECT_FALSE(j["runs"][0]["world_stats"].contains("auc_small_nucleus"));  // not a number: left out
  EXPECT_TRUE(j["runs"][2]["world_stats"].empty());                        // no simulation.json
  // A malformed simulation.json is noted, and the run still counts.
  EXPECT_EQ(j["runs"][3]["status"], "done");
  EXPECT_NE(j["runs"][3]["problem"].get<std::string>().find("simulation.json"), std::string::npos);
  const json& w = j["world_stats"]["mechanical"]["auc_wt_neighbours"];
  EXPECT_EQ(w["n"], 2);
  EXPECT_NEAR(w["mean"].get<double>(), 0.62, 1e-12);
  EXPECT_DOUBLE_EQ(w["min"].get<double>(), 0.60);
  EXPECT_DOUBLE_EQ(w["max"].get<double>(), 0.64);
  EXPECT_FALSE(j["world_stats"].contains("neutral"));
  EXPECT_EQ(cell(v, "neutral", "nuclear size").correct, 2);
  EXPECT_NE(v.brief().find("ground truth mechanical: auc_wt_neighbours 0.62 logit_compression 2.50"), std::string::npos)
      << v.brief();
  EXPECT_EQ(v.brief().find("ground truth neutral"), std::string::npos);
  const std::string html = read_text_file(dir.path() / "validation.html");
  EXPECT_NE(html.find("Ground truth of the worlds"), std::string::npos);
  EXPECT_NE(html.find("0.62 [0.60, 0.64]"), std::string::npos);
}

}  // namespace
}  // namespace taupe::validate
